package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launch of the sampler update in {@link SamplerKernels}, and the layout of its per-step
 * coefficient array.
 *
 * <p>The coefficients are one {@code float[COEFFICIENTS]} that the host rewrites before each execution
 * of a compiled plan (declare it an input): index {@link #INIT} selects {@code out = z}; {@link #PX},
 * {@link #PE} form the prediction {@code x̂0 = px·x + pe·e}, clamped to {@code [}{@link #LO}{@code ,}
 * {@link #HI}{@code ]}; {@link #CX0}, {@link #CX}, {@link #CE}, {@link #SIGMA} weigh {@code x̂0},
 * {@code x}, {@code e} and {@code z}. {@link #step} and {@link #init} fill it.
 */
public final class Sampler {
    /** Non-zero: the step is {@code out = z} (loads the initial noise). */
    public static final int INIT = 0;
    /** Weight of {@code x} in the prediction {@code x̂0}. */
    public static final int PX = 1;
    /** Weight of the model output {@code e} in the prediction {@code x̂0}. */
    public static final int PE = 2;
    /** Lower clip bound of {@code x̂0} ({@code −∞} for none). */
    public static final int LO = 3;
    /** Upper clip bound of {@code x̂0} ({@code +∞} for none). */
    public static final int HI = 4;
    /** Weight of {@code x̂0} in the result. */
    public static final int CX0 = 5;
    /** Weight of {@code x} in the result. */
    public static final int CX = 6;
    /** Weight of the model output {@code e} in the result. */
    public static final int CE = 7;
    /** Weight of the noise {@code z} in the result: the step's standard deviation. */
    public static final int SIGMA = 8;
    /** The length of the coefficient array. */
    public static final int COEFFICIENTS = 9;

    private static final Kernel UPDATE = Kernel.of("sampler.update", "updateLane");

    private Sampler() {
    }

    /**
     * {@code out = update(x, e, z; c)} over {@code len} elements (see {@link SamplerKernels}); writes
     * {@code out}, which may be {@code x} (in place). {@code c} holds {@link #COEFFICIENTS} floats.
     */
    public static Launch update(float[] x, float[] e, float[] z, float[] c, float[] out, int len) {
        Check k = Check.of("sampler.update").positive("len", len);
        k.length("x", x, len).length("e", e, len).length("z", z, len).length("c", c, COEFFICIENTS).length("out", out, len)
                .distinct("e", e, "out", out).distinct("z", z, "out", out).distinct("c", c, "out", out);
        return UPDATE.with(x, e, z, c, out, len).writes(4).grid(len).launch(12L * len, 16L * len + 4L * COEFFICIENTS);
    }

    /**
     * Fills {@code c} with the coefficients of one update, each rounded once to float.
     *
     * @param clip clamp {@code x̂0} to {@code [−1, 1]} (else to {@code [−∞, +∞]}, no clip)
     * @return {@code c}
     * @throws IllegalArgumentException if {@code c} does not hold {@link #COEFFICIENTS} floats or a
     *                                  coefficient is not finite
     */
    public static float[] step(float[] c, double px, double pe, boolean clip, double cx0, double cx, double ce, double sigma) {
        Check k = Check.of("sampler.step").length("c", c, COEFFICIENTS);
        double[] v = {px, pe, cx0, cx, ce, sigma};
        String[] names = {"px", "pe", "cx0", "cx", "ce", "sigma"};
        for (int i = 0; i < v.length; i++) {
            k.that(Double.isFinite(v[i]), names[i], "a finite number", v[i]);
        }
        c[INIT] = 0f;
        c[PX] = (float) px;
        c[PE] = (float) pe;
        c[LO] = clip ? -1f : Float.NEGATIVE_INFINITY;
        c[HI] = clip ? 1f : Float.POSITIVE_INFINITY;
        c[CX0] = (float) cx0;
        c[CX] = (float) cx;
        c[CE] = (float) ce;
        c[SIGMA] = (float) sigma;
        return c;
    }

    /**
     * Fills {@code c} with the coefficients of the loading step {@code out = z}: {@link #INIT} is 1 and
     * every weight 0.
     *
     * @return {@code c}
     */
    public static float[] init(float[] c) {
        Check.of("sampler.init").length("c", c, COEFFICIENTS);
        java.util.Arrays.fill(c, 0f);
        c[INIT] = 1f;
        c[LO] = Float.NEGATIVE_INFINITY;
        c[HI] = Float.POSITIVE_INFINITY;
        return c;
    }
}
