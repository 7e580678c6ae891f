package dev.prism.kernels;

/**
 * Element-wise arithmetic and the broadcast adds of a UNet: {@code a + b}, {@code a ⊙ b},
 * {@code s·a}, {@code a + s·b}, and {@code x[N,C,H,W] + v} for a per-plane vector {@code v[N,C]} (the
 * time embedding injected into a block) or a per-channel bias {@code v[C]}; plus the plane sums that are
 * the broadcast adds' gradients.
 *
 * <p>The flat kernels run one work-item per element; each reads element i of its inputs before it
 * writes element i of its output, so the output may be one of the inputs (in place). Scales
 * {@code s} arrive in a one-element {@code float[]}, because a sampler changes them every step
 * (docs/KERNELS.md, per-step scalars). Checked launch factories: {@link Elementwise}.
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {
    }

    /** {@code out = a + b}; writes {@code out}. One work-item per element. */
    public static void add(float[] a, float[] b, float[] out, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            addLane(a, b, out, len, i);
        }
    }

    public static void addLane(float[] a, float[] b, float[] out, int len, int i) {
        out[i] = a[i] + b[i];
    }

    /** {@code out = a ⊙ b}; writes {@code out}. One work-item per element. */
    public static void mul(float[] a, float[] b, float[] out, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            mulLane(a, b, out, len, i);
        }
    }

    public static void mulLane(float[] a, float[] b, float[] out, int len, int i) {
        out[i] = a[i] * b[i];
    }

    /** {@code out = s[0]·a}; writes {@code out}. One work-item per element. */
    public static void scale(float[] a, float[] s, float[] out, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            scaleLane(a, s, out, len, i);
        }
    }

    public static void scaleLane(float[] a, float[] s, float[] out, int len, int i) {
        out[i] = s[0] * a[i];
    }

    /** {@code out = a + s[0]·b}; writes {@code out}. One work-item per element. */
    public static void axpy(float[] a, float[] b, float[] s, float[] out, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            axpyLane(a, b, s, out, len, i);
        }
    }

    public static void axpyLane(float[] a, float[] b, float[] s, float[] out, int len, int i) {
        out[i] = a[i] + s[0] * b[i];
    }

    /**
     * {@code out[p,y,x] = x[p,y,x] + v[p mod period]} over {@code planes} planes of {@code h×w}: with
     * {@code planes = N·C} and {@code period = N·C} that adds {@code v[N,C]}, with {@code period = C} it
     * adds a bias {@code v[C]}. Writes {@code out}. One work-item per (plane p, row y).
     */
    public static void addPlanes(float[] x, float[] v, float[] out, int planes, int period, int h, int w) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int y = 0; y < h; y++) {
                addPlanesRow(x, v, out, planes, period, h, w, p, y);
            }
        }
    }

    /** Row {@code y} of plane {@code p} of {@link #addPlanes}. */
    public static void addPlanesRow(float[] x, float[] v, float[] out, int planes, int period, int h, int w, int p, int y) {
        float b = v[p % period];
        int o = (p * h + y) * w;
        for (int j = 0; j < w; j++) {
            out[o + j] = x[o + j] + b;
        }
    }

    /**
     * {@code out[k] = Σ_{m<reps} Σ_{i<hw} g[(m·count + k)·hw + i]} for {@code k < count}: with
     * {@code count = N·C, reps = 1} the per-plane sums of {@code g[N,C,H,W]} (the gradient of
     * {@code v[N,C]} in {@link #addPlanes}); with {@code count = C, reps = N} the per-channel sums (the
     * gradient of a bias). Writes {@code out}. One work-item per result, summing in a fixed order.
     */
    public static void sumPlanes(float[] g, float[] out, int count, int reps, int hw) {
        for (@Parallel int k = 0; k < count; k++) {
            sumPlanesLane(g, out, count, reps, hw, k);
        }
    }

    /** Result {@code k} of {@link #sumPlanes}, summed in double ({@link Sums}). */
    public static void sumPlanesLane(float[] g, float[] out, int count, int reps, int hw, int k) {
        double s = 0;
        for (int m = 0; m < reps; m++) {
            s += Sums.sum(g, (m * count + k) * hw, hw);
        }
        out[k] = (float) s;
    }

    // ---------------------------------------------------------------- per-(n, c) scale and shift (adaptive norm)

    /**
     * {@code v = x[n,c,:,:]·s[n,c] + s[n, C + c]}, then {@code y = silu(v)} when {@code silu} is 1, else
     * {@code y = v}: the modulation of an adaptive group norm (StyleGAN's AdaIN; WaveDiff's
     * {@code AdaptiveGroupNorm}, whose {@code style} layer gives {@code s[N, 2C]}, γ then β), with the
     * activation that follows it in a residual block. Reads {@code x[N,C,H,W]} and {@code s}, writes
     * {@code y}. One work-item per (plane {@code p = n·C + c}, row).
     */
    public static void modulatePlanes(float[] x, float[] s, float[] y, int n, int c, int h, int w, int silu) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                modulatePlanesRow(x, s, y, n, c, h, w, silu, p, i);
            }
        }
    }

    /** Row {@code i} of plane {@code p} of {@link #modulatePlanes}. */
    public static void modulatePlanesRow(float[] x, float[] s, float[] y, int n, int c, int h, int w, int silu, int p, int i) {
        int b = p / c;
        int ch = p - b * c;
        float gamma = s[b * 2 * c + ch];
        float beta = s[b * 2 * c + c + ch];
        int o = (p * h + i) * w;
        for (int j = 0; j < w; j++) {
            float v = x[o + j] * gamma + beta;
            y[o + j] = silu != 0 ? ActivationKernels.siluOf(v) : v;
        }
    }

    /**
     * Backward of {@link #modulatePlanes}: with {@code g' = gy} (or {@code gy·silu'(v)}),
     * {@code gx = g'·γ}, {@code gs[n,c] = Σ_{y,x} g'·x} and {@code gs[n, C + c] = Σ_{y,x} g'}, the sums in
     * double. Writes {@code gx} and {@code gs[N, 2C]}. One work-item per plane {@code p = n·C + c}.
     */
    public static void modulatePlanesBackward(float[] x, float[] s, float[] gy, float[] gx, float[] gs,
                                              int n, int c, int hw, int silu) {
        for (@Parallel int p = 0; p < n * c; p++) {
            modulatePlanesBackwardLane(x, s, gy, gx, gs, n, c, hw, silu, p);
        }
    }

    /** Plane {@code p} of {@link #modulatePlanesBackward}. */
    public static void modulatePlanesBackwardLane(float[] x, float[] s, float[] gy, float[] gx, float[] gs,
                                                  int n, int c, int hw, int silu, int p) {
        int b = p / c;
        int ch = p - b * c;
        float gamma = s[b * 2 * c + ch];
        float beta = s[b * 2 * c + c + ch];
        int o = p * hw;
        double sumG = 0;
        double sumGx = 0;
        for (int j = 0; j < hw; j++) {
            float xv = x[o + j];
            float g = silu != 0 ? ActivationKernels.siluGradOf(xv * gamma + beta, gy[o + j]) : gy[o + j];
            gx[o + j] = g * gamma;
            sumG += g;
            sumGx += (double) g * xv;
        }
        gs[b * 2 * c + ch] = (float) sumGx;
        gs[b * 2 * c + c + ch] = (float) sumG;
    }
}
