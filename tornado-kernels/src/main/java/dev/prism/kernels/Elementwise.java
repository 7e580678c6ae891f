package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the kernels in {@link ElementwiseKernels}.
 *
 * <p>In place: the flat kernels ({@link #add}, {@link #mul}, {@link #scale}, {@link #axpy}) and the
 * broadcast adds ({@link #addPlanes}, {@link #addBias}) accept {@code out} equal to an input array,
 * because each work-item reads element i before writing element i and touches nothing else. The
 * scale array {@code s} must not be {@code out}. Scales are one-element arrays so that a compiled plan
 * can change them between executions.
 *
 * <p>Gradients that need no kernel: for {@code out = a + b} both {@code ga} and {@code gb} are
 * {@code gy}; for {@code out = a + s·b}, {@code ga = gy}; for the broadcast adds, {@code gx = gy}.
 */
public final class Elementwise {
    private static final Kernel ADD = Kernel.of("elementwise.add", "addLane");
    private static final Kernel MUL = Kernel.of("elementwise.mul", "mulLane");
    private static final Kernel SCALE = Kernel.of("elementwise.scale", "scaleLane");
    private static final Kernel AXPY = Kernel.of("elementwise.axpy", "axpyLane");
    private static final Kernel ADD_PLANES = Kernel.of("elementwise.addPlanes", "addPlanesRow")
            .vector("ElementwiseVector", "addPlanesRows");
    private static final Kernel SUM_PLANES = Kernel.of("elementwise.sumPlanes", "sumPlanesLane")
            .vector("ElementwiseVector", "sumPlanesLanes");
    private static final Kernel MODULATE = Kernel.of("elementwise.modulatePlanes", "modulatePlanesRow")
            .vector("ElementwiseVector", "modulatePlanesRows");
    private static final Kernel MODULATE_BACKWARD = Kernel.of("elementwise.modulatePlanesBackward", "modulatePlanesBackwardLane")
            .vector("ElementwiseVector", "modulatePlanesBackwardLanes");
    private Elementwise() {
    }

    /** {@code out = a + b}; writes {@code out}. */
    public static Launch add(float[] a, float[] b, float[] out, int len) {
        flat("elementwise.add", len).length("a", a, len).length("b", b, len).length("out", out, len);
        return ADD.with(a, b, out, len).writes(2).grid(len).launch(len, 12L * len);
    }

    /** {@code out = a ⊙ b}; writes {@code out}. */
    public static Launch mul(float[] a, float[] b, float[] out, int len) {
        flat("elementwise.mul", len).length("a", a, len).length("b", b, len).length("out", out, len);
        return MUL.with(a, b, out, len).writes(2).grid(len).launch(len, 12L * len);
    }

    /** {@code out = s[0]·a}, {@code s} of length 1; writes {@code out}. */
    public static Launch scale(float[] a, float[] s, float[] out, int len) {
        flat("elementwise.scale", len).length("a", a, len).length("s", s, 1).length("out", out, len)
                .distinct("s", s, "out", out);
        return SCALE.with(a, s, out, len).writes(2).grid(len).launch(len, 8L * len);
    }

    /** {@code out = a + s[0]·b}, {@code s} of length 1; writes {@code out}. */
    public static Launch axpy(float[] a, float[] b, float[] s, float[] out, int len) {
        flat("elementwise.axpy", len).length("a", a, len).length("b", b, len).length("s", s, 1)
                .length("out", out, len).distinct("s", s, "out", out);
        return AXPY.with(a, b, s, out, len).writes(3).grid(len).launch(2L * len, 12L * len);
    }

    /**
     * Backward of {@link #mul}: {@code ga = gy ⊙ b}, then {@code gb = gy ⊙ a}. {@code ga} is written
     * first, so it must not be {@code gy} or {@code a}, which the second launch reads.
     */
    public static List<Launch> mulBackward(float[] a, float[] b, float[] gy, float[] ga, float[] gb, int len) {
        flat("elementwise.mulBackward", len).distinct("gy", gy, "ga", ga).distinct("a", a, "ga", ga)
                .distinct("ga", ga, "gb", gb);
        return List.of(mul(gy, b, ga, len), mul(gy, a, gb, len));
    }

    /** Backward of {@link #scale}: {@code ga = s[0]·gy}; writes {@code ga}. */
    public static Launch scaleBackward(float[] gy, float[] s, float[] ga, int len) {
        return scale(gy, s, ga, len);
    }

    /** Backward of {@link #axpy} with respect to {@code b}: {@code gb = s[0]·gy} ({@code ga = gy}). */
    public static Launch axpyBackward(float[] gy, float[] s, float[] gb, int len) {
        return scale(gy, s, gb, len);
    }

    /** {@code out[n,c,:,:] = x[n,c,:,:] + v[n,c]} over {@code x[N,C,H,W]}, {@code v[N,C]}; writes {@code out}. */
    public static Launch addPlanes(float[] x, float[] v, float[] out, int n, int c, int h, int w) {
        return broadcast("elementwise.addPlanes", x, v, "v", n * c, out, n, c, h, w);
    }

    /** {@code out[n,c,:,:] = x[n,c,:,:] + bias[c]} over {@code x[N,C,H,W]}, {@code bias[C]}; writes {@code out}. */
    public static Launch addBias(float[] x, float[] bias, float[] out, int n, int c, int h, int w) {
        return broadcast("elementwise.addBias", x, bias, "bias", c, out, n, c, h, w);
    }

    /** Gradient of {@code v} in {@link #addPlanes}: {@code gv[n,c] = Σ_{y,x} gy[n,c,y,x]}; writes {@code gv}. */
    public static Launch addPlanesBackward(float[] gy, float[] gv, int n, int c, int h, int w) {
        return planeSums("elementwise.addPlanesBackward", gy, gv, "gv", n * c, 1, n, c, h, w);
    }

    /** Gradient of {@code bias} in {@link #addBias}: {@code gbias[c] = Σ_{n,y,x} gy[n,c,y,x]}; writes {@code gbias}. */
    public static Launch addBiasBackward(float[] gy, float[] gbias, int n, int c, int h, int w) {
        return planeSums("elementwise.addBiasBackward", gy, gbias, "gbias", c, n, n, c, h, w);
    }

    private static Launch broadcast(String name, float[] x, float[] v, String vName, int period, float[] out,
                                    int n, int c, int h, int w) {
        Check k = image(name, n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length(vName, v, period).length("out", out, size).distinct(vName, v, "out", out);
        int planes = n * c;
        return ADD_PLANES.with(x, v, out, planes, period, h, w).writes(2).grid(planes, h).launch(size, 8L * size + 4L * period);
    }

    private static Launch planeSums(String name, float[] gy, float[] out, String outName, int count, int reps,
                                    int n, int c, int h, int w) {
        Check k = image(name, n, c, h, w);
        int size = k.size("gy", n, c, h, w);
        k.length("gy", gy, size).length(outName, out, count).distinct("gy", gy, outName, out);
        int hw = h * w;
        return SUM_PLANES.with(gy, out, count, reps, hw).writes(1).grid(count).launch(size, 4L * size + 4L * count);
    }

    /**
     * {@code y = x·γ[n,c] + β[n,c]} per plane, then SiLU when {@code silu}, with {@code s[N, 2C]} holding γ
     * then β per sample (see {@link ElementwiseKernels#modulatePlanes}); writes {@code y}, which may be
     * {@code x}.
     */
    public static Launch modulatePlanes(float[] x, float[] s, float[] y, int n, int c, int h, int w, boolean silu) {
        Check k = image("elementwise.modulatePlanes", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("s", s, 2L * n * c).length("y", y, size).distinct("s", s, "y", y);
        return MODULATE.with(x, s, y, n, c, h, w, silu ? 1 : 0).writes(2).grid(n * c, h)
                .launch((silu ? 6L : 2L) * size, 8L * size + 8L * n * c);
    }

    /**
     * Backward of {@link #modulatePlanes} for its input {@code x} and style {@code s}: writes {@code gx}
     * ({@code [N,C,H,W]}) and {@code gs} ({@code [N, 2C]}), both distinct from the inputs.
     */
    public static Launch modulatePlanesBackward(float[] x, float[] s, float[] gy, float[] gx, float[] gs,
                                                int n, int c, int h, int w, boolean silu) {
        Check k = image("elementwise.modulatePlanesBackward", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("s", s, 2L * n * c).length("gy", gy, size).length("gx", gx, size)
                .length("gs", gs, 2L * n * c).distinct("x", x, "gx", gx).distinct("gy", gy, "gx", gx)
                .distinct("s", s, "gs", gs).distinct("gx", gx, "gs", gs);
        return MODULATE_BACKWARD.with(x, s, gy, gx, gs, n, c, h * w, silu ? 1 : 0).writes(3, 4).grid(n * c)
                .launch((silu ? 10L : 4L) * size, 12L * size + 16L * n * c);
    }

    private static Check flat(String kernel, int len) {
        return Check.of(kernel).positive("len", len);
    }

    private static Check image(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }
}
