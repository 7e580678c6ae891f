package dev.prism.kernels;

/**
 * The 2-D discrete Fourier transform over the last two axes of {@code x[N,C,H,W]}, as
 * {@code torch.fft.fft2(x)} computes it (no normalisation), for any H, W ≥ 1:
 * <pre>
 *   X[p,u,v] = Σ_y Σ_x x[p,y,x] · e^{−2πi (u·y/H + v·x/W)}
 * </pre>
 * and its adjoint, the gradient of a real loss of X with respect to a real x: with {@code G = ∂L/∂Re X +
 * i·∂L/∂Im X}, {@code ∂L/∂x = Re(F^H G) = Re Σ_u Σ_v G[u,v] · e^{+2πi (u·y/H + v·x/W)}} (the inverse transform
 * without its 1/(HW)). Complex values are interleaved: {@code X[N,C,H,W,2]}, real part first, as
 * {@code torch.view_as_real} lays them out.
 *
 * <p>Both run as two separable passes of one kernel, {@link #pass}, over a {@code float[2n²]} <em>table</em> of
 * the length-n transform: {@code cos(2π m/n)} in {@code [0, n²)} and {@code sin(2π m/n)} in {@code [n², 2n²)},
 * row-major by frequency k and position j, with {@code m = k·j mod n} reduced exactly in integers. The pass
 * multiplies each row by {@code e^{sign·2πi kj/n}} and writes the result transposed, so the second pass, along
 * the other axis, reads contiguous rows again (as {@link DctKernels} does). The pass's {@code mode} says what
 * it reads and writes: real in, complex out (the forward's first pass); complex in and out; complex in, real
 * part out (the adjoint's last pass).
 *
 * <p>Checked launch factories: {@link Dft}.
 */
public final class DftKernels {
    /** Mode of {@link #pass}: real input {@code [p,h,w]}, complex output {@code [p,w,h,2]}. */
    public static final int REAL_TO_COMPLEX = 0;
    /** Mode of {@link #pass}: complex input {@code [p,h,w,2]}, complex output {@code [p,w,h,2]}. */
    public static final int COMPLEX_TO_COMPLEX = 1;
    /** Mode of {@link #pass}: complex input {@code [p,h,w,2]}, the real part of the result {@code [p,w,h]}. */
    public static final int COMPLEX_TO_REAL = 2;

    private DftKernels() {
    }

    /**
     * Writes the table of the length-{@code n} transform: {@code t[k·n + j] = cos(2π m/n)},
     * {@code t[n² + k·n + j] = sin(2π m/n)}, {@code m = k·j mod n}, each computed in double and rounded once to
     * float. One work-item per frequency k.
     */
    public static void table(float[] t, int n) {
        for (@Parallel int k = 0; k < n; k++) {
            tableRow(t, n, k);
        }
    }

    /** Row {@code k} of both halves of the table. */
    public static void tableRow(float[] t, int n, int k) {
        int n2 = n * n;
        // Column 0 has phase 0 in every row. Written as constants: TornadoVM 5.2 compiles a loop whose first
        // iteration has a constant phase by folding Math.cos of that constant, which its OpenCL backend cannot
        // do ("unable to compute op COS"), and refuses the kernel.
        t[k * n] = 1f;
        t[n2 + k * n] = 0f;
        for (int j = 1; j < n; j++) {
            // The phase reduced exactly in integers, so that large k·j lose no precision.
            int m = (int) ((long) k * j % n);
            double a = 2.0 * Math.PI * m / n;
            t[k * n + j] = (float) Math.cos(a);
            t[n2 + k * n + j] = (float) Math.sin(a);
        }
    }

    /**
     * One separable pass: {@code out[p, k, i] = Σ_j in[p, i, j] · e^{sign·2πi k·j/w}} for every plane p of
     * {@code in[planes, h, w]}, written transposed into {@code out[planes, w, h]}, with real or complex
     * (interleaved) input and output as {@code mode} says ({@link #REAL_TO_COMPLEX}, {@link #COMPLEX_TO_COMPLEX},
     * {@link #COMPLEX_TO_REAL}). {@code sign} is −1 (the forward transform) or +1 (its adjoint). Reads {@code in}
     * and {@code table[2w²]}, writes {@code out}. One work-item per (plane p, input row i).
     */
    public static void pass(float[] in, float[] table, float[] out, int planes, int h, int w, int sign, int mode) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                passRow(in, table, out, planes, h, w, sign, mode, p, i);
            }
        }
    }

    /**
     * Row {@code i} of plane {@code p} of {@link #pass}: for each frequency k, with {@code c = cos(2π kj/w)},
     * {@code s = sign·sin(2π kj/w)} and {@code in = a + ib}, the sums {@code Σ_j (a·c − b·s)} and
     * {@code Σ_j (a·s + b·c)}, j in order.
     */
    public static void passRow(float[] in, float[] table, float[] out, int planes, int h, int w, int sign, int mode, int p, int i) {
        boolean complexIn = mode != REAL_TO_COMPLEX;
        int row = (p * h + i) * w;
        int w2 = w * w;
        for (int k = 0; k < w; k++) {
            int m = k * w;
            float re = 0f, im = 0f;
            for (int j = 0; j < w; j++) {
                float c = table[m + j];
                float s = sign * table[w2 + m + j];
                float a = complexIn ? in[2 * (row + j)] : in[row + j];
                float b = complexIn ? in[2 * (row + j) + 1] : 0f;
                re += a * c - b * s;
                im += a * s + b * c;
            }
            int o = (p * w + k) * h + i;
            if (mode == COMPLEX_TO_REAL) {
                out[o] = re;
            } else {
                out[2 * o] = re;
                out[2 * o + 1] = im;
            }
        }
    }
}
