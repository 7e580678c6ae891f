package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variants (Vector API) of the exp-bound activations of {@link ActivationKernels},
 * which stay the reference and the TornadoVM input.
 *
 * <p>SiLU, its backward and sigmoid evaluate in float with this class's {@link #exp} (within about 2
 * ulp) where the plain helpers evaluate in double with {@code Math.exp} and round once: a few float ulps
 * apart, inside the shared tolerance. When {@code exp(−v)} overflows (v &lt; −88.4) the float forms give
 * 0 (or −0) where the plain ones give a tiny value; infinities give the plain values, NaN gives NaN.
 * Softmax: the row maximum is exact, exp in float, the sum in double (in 8 partial sums), the scale in
 * float. GELU keeps its plain loop (its erfc fit needs a double exp, not written here).
 *
 * <p>One block per loop iteration: C2 inlines {@link #exp} once per loop body within its node budget, and
 * a vector crossing a call it did not inline is boxed.
 *
 * <p>The element-wise kernels run a thread's span as one stream whose tail is a masked vector, so each
 * element takes the same operations wherever the spans end: every thread count gives the same bits.
 * Every element is read before it is written, as the plain loops do, so in place still works.
 */
public final class ActivationVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final int V = F.length();

    private ActivationVector() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that {@code n·LN2_HI} is exact for the |n| &le; 128 used here. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Above this, 2^n would leave the float exponent range: the result is +∞ (exp(88.38) is 2.4e38, near the top). */
    private static final float EXP_HI = 88.3762626647949f;
    /** Below this, the result would be subnormal: it is 0 (exp(−87.34) is 1.2e-38, the smallest normal). */
    private static final float EXP_LO = -87.3365447504f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUNDER = 12582912f;

    /**
     * {@code e^v} in float, within about 2 ulp of the exact value for {@code v} in [−87.3, 88.3]; +∞ above,
     * 0 below, NaN for NaN. Written with the Vector API's basic IEEE operations only (multiply, add,
     * fused multiply-add, min, max, compare, integer shift and add), never
     * {@link VectorOperators#EXP}: each of those is exactly defined, so the interpreter's and C1's
     * Java fallback and C2's intrinsics give the same bits, and a run gives the same result before and
     * after the JIT compiles it (the transcendental EXP does not: its intrinsic is another library).
     *
     * <p>The classic reduction: {@code n = round(v·log₂e)}, {@code r = v − n·ln2} (in two parts, so r
     * keeps its low bits), {@code |r| ≤ ln2/2}, {@code e^r ≈ 1 + r + r²·P(r)} with P of degree 5 (the
     * minimax coefficients of Moshier's Cephes {@code expf}), then the exponent field raised by n.
     */
    static FloatVector exp(FloatVector v) {
        // No clamp: lanes outside [EXP_LO, EXP_HI] compute garbage that the blends below replace, and a
        // NaN stays NaN through every step (its shifted bits add nothing to the exponent field).
        FloatVector x = v;
        FloatVector rounded = x.mul(LOG2E).add(ROUNDER);
        FloatVector n = rounded.sub(ROUNDER);
        FloatVector r = n.neg().fma(FloatVector.broadcast(F, LN2_HI), x);
        r = n.neg().fma(FloatVector.broadcast(F, LN2_LO), r);
        FloatVector p = r.mul(1.9875691500e-4f).add(1.3981999507e-3f);
        p = p.fma(r, FloatVector.broadcast(F, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(F, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(F, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(F, 5.0000001201e-1f));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        // n sits in the low mantissa bits of 1.5·2^23 + n, and only its low 9 bits reach the exponent field
        IntVector k = rounded.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        FloatVector y = e.reinterpretAsInts().add(k).reinterpretAsFloats();
        y = y.blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GT, EXP_HI));
        return y.blend(0f, v.compare(VectorOperators.LT, EXP_LO));
    }

    /** {@code v / (1 + exp(−v))} in float. */
    static FloatVector silu(FloatVector v) {
        return v.div(exp(v.neg()).add(1f));
    }

    /** {@code 1 / (1 + exp(−v))} in float. */
    static FloatVector sigmoid(FloatVector v) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        return one.div(exp(v.neg()).add(one));
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#silu}. */
    public static void silu(float[] x, float[] y, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            silu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            silu(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    /** {@code gy·σ(v)·(1 + v·(1 − σ(v)))} in float. */
    private static FloatVector siluGrad(FloatVector v, FloatVector gy) {
        FloatVector s = sigmoid(v);
        FloatVector one = FloatVector.broadcast(F, 1f);
        return gy.mul(s.mul(one.add(v.mul(one.sub(s)))));
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#siluBackward}. */
    public static void siluBackward(float[] x, float[] gy, float[] gx, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            siluGrad(FloatVector.fromArray(F, x, i), FloatVector.fromArray(F, gy, i)).intoArray(gx, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            siluGrad(FloatVector.fromArray(F, x, i, m), FloatVector.fromArray(F, gy, i, m)).intoArray(gx, i, m);
        }
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#sigmoid}. */
    public static void sigmoid(float[] x, float[] y, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            sigmoid(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            sigmoid(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    /** Row {@code r} of {@link ActivationKernels#softmax}. */
    public static void softmaxRow(float[] x, float[] y, int n, int r) {
        int base = r * n;
        int end = base + n;
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = base;
        for (; i + V <= end; i += V) {
            mv = mv.max(FloatVector.fromArray(F, x, i));
        }
        float m = mv.reduceLanes(VectorOperators.MAX);
        for (; i < end; i++) {
            m = Math.max(m, x[i]);
        }
        FloatVector vm = FloatVector.broadcast(F, m);
        DoubleVector s0 = DoubleVector.zero(D), s1 = s0;
        i = base;
        for (; i + V <= end; i += V) {
            FloatVector e = exp(FloatVector.fromArray(F, x, i).sub(vm));
            e.intoArray(y, i);
            s0 = s0.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        if (i < end) {
            VectorMask<Float> mask = F.indexInRange(i, end);
            // the lanes past the row are 0 after the masked load's zero minus m, exp'd: masked out of the sum
            FloatVector e = exp(FloatVector.fromArray(F, x, i, mask).sub(vm)).blend(0f, mask.not());
            e.intoArray(y, i, mask);
            s0 = s0.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        float inv = (float) (1.0 / s0.add(s1).reduceLanes(VectorOperators.ADD));
        FloatVector vinv = FloatVector.broadcast(F, inv);
        i = base;
        for (; i + V <= end; i += V) {
            FloatVector.fromArray(F, y, i).mul(vinv).intoArray(y, i);
        }
        for (; i < end; i++) {
            y[i] = y[i] * inv;
        }
    }
}
