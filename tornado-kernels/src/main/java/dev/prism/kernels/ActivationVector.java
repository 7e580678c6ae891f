package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variants (Vector API) of the exp-bound activations of {@link ActivationKernels},
 * which stay the reference and the TornadoVM input.
 *
 * <p>Leaky ReLU and its backward are the loops' operations, lane by lane (the same bits). SiLU, its backward and sigmoid evaluate in float with {@link VectorMath#exp(FloatVector)} (within about 2
 * ulp) where the plain helpers evaluate in double with {@code Math.exp} and round once: a few float ulps
 * apart, inside the shared tolerance. When {@code exp(−v)} overflows (v &lt; −88.4) the float forms give
 * 0 (or −0) where the plain ones give a tiny value; infinities give the plain values, NaN gives NaN.
 * Softmax: the row maximum is exact, exp in float, the sum in double (in 8 partial sums), the scale in
 * float. Softmax's backward: the row's dot product in double (2 partial sums of the widened lanes, then the
 * scalar tail), {@code (gy − dot)·y} in float with the dot as a float pair. GELU: see
 * {@link #gelu(FloatVector)}; below about −13.2, where
 * {@code x·Φ(x)} is below float's smallest normal, gives 0 where the plain helper gives a subnormal (PyTorch's
 * float GELU gives 0 there too).
 *
 * <p>One block per loop iteration: C2 inlines {@link VectorMath#exp(FloatVector)} once per loop body within its node budget, and
 * a vector crossing a call it did not inline is boxed.
 *
 * <p>The element-wise kernels run a thread's span as one stream whose tail is a masked vector, so each
 * element takes the same operations wherever the spans end: every thread count gives the same bits.
 * Every element is read before it is written, as the plain loops do, so in place still works.
 */
public final class ActivationVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int V = F.length();

    private ActivationVector() {
    }

    /** {@code v / (1 + exp(−v))} in float. */
    static FloatVector silu(FloatVector v) {
        return v.div(VectorMath.exp(v.neg()).add(1f));
    }

    /** {@code 1 / (1 + exp(−v))} in float. */
    static FloatVector sigmoid(FloatVector v) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        return one.div(VectorMath.exp(v.neg()).add(one));
    }

    /**
     * Spans shorter than this take {@link #silu(float)} and {@link #siluGrad(float, float)}, the same
     * arithmetic one lane at a time (the same bits: {@link VectorMath#exp(float)} is the vector exp's lane).
     * Such a span is a small MLP's activation (a time or noise embedding), launched a few times per training
     * step: its vector loop reaches C2 only after hundreds of steps and until then runs in C1, where every
     * vector is an object. Measured on the training step of {@code ddpm-unet} width 32 at batch 64 (8,192
     * values per SiLU launch), 885 KB allocated per step after 40 steps, all in its two SiLU launches.
     */
    static final int SCALAR_BELOW = 16_384;

    /** {@link #silu(FloatVector)} on one lane. */
    static float silu(float v) {
        return v / (VectorMath.exp(-v) + 1f);
    }

    /** {@link #siluGrad(FloatVector, FloatVector)} on one lane. */
    static float siluGrad(float v, float gy) {
        float s = 1f / (VectorMath.exp(-v) + 1f);
        return gy * (s * (1f + v * (1f - s)));
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#silu}. */
    public static void siluRange(float[] x, float[] y, int len, int from, int to) {
        if (to - from < SCALAR_BELOW) {
            for (int k = from; k < to; k++) {
                y[k] = silu(x[k]);
            }
            return;
        }
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
    public static void siluBackwardRange(float[] x, float[] gy, float[] gx, int len, int from, int to) {
        if (to - from < SCALAR_BELOW) {
            for (int k = from; k < to; k++) {
                gx[k] = siluGrad(x[k], gy[k]);
            }
            return;
        }
        int i = from;
        for (; i + V <= to; i += V) {
            siluGrad(FloatVector.fromArray(F, x, i), FloatVector.fromArray(F, gy, i)).intoArray(gx, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            siluGrad(FloatVector.fromArray(F, x, i, m), FloatVector.fromArray(F, gy, i, m)).intoArray(gx, i, m);
        }
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#leakyRelu}: {@code v·(v > 0 ? 1 : slope)}, the loop's bits. */
    public static void leakyReluRange(float[] x, float[] y, int len, float slope, int from, int to) {
        FloatVector s = FloatVector.broadcast(F, slope);
        int i = from;
        for (; i + V <= to; i += V) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            v.mul(s.blend(1f, v.compare(VectorOperators.GT, 0f))).intoArray(y, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(F, x, i, m);
            v.mul(s.blend(1f, v.compare(VectorOperators.GT, 0f))).intoArray(y, i, m);
        }
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#leakyReluBackward}: {@code gy·(x > 0 ? 1 : slope)}, the loop's bits. */
    public static void leakyReluBackwardRange(float[] x, float[] gy, float[] gx, int len, float slope, int from, int to) {
        FloatVector s = FloatVector.broadcast(F, slope);
        int i = from;
        for (; i + V <= to; i += V) {
            FloatVector v = FloatVector.fromArray(F, x, i);
            FloatVector.fromArray(F, gy, i).mul(s.blend(1f, v.compare(VectorOperators.GT, 0f))).intoArray(gx, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            FloatVector v = FloatVector.fromArray(F, x, i, m);
            FloatVector.fromArray(F, gy, i, m).mul(s.blend(1f, v.compare(VectorOperators.GT, 0f))).intoArray(gx, i, m);
        }
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#sigmoid}. */
    public static void sigmoidRange(float[] x, float[] y, int len, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            sigmoid(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            sigmoid(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    /** {@code 0.5/√2}: {@code t = 1/(1 + |v|·0.5/√2)} is the plain erfc's t at {@code z = |v|/√2}. */
    private static final float HALF_OVER_SQRT2 = (float) (0.5 / Math.sqrt(2.0));
    private static final float INV_SQRT_2PI = (float) (1.0 / Math.sqrt(2.0 * Math.PI));
    /**
     * |v| is clamped here before the exp: {@code exp(−14²/2)} is far below float's range (0 after
     * {@link VectorMath#exp(FloatVector)}), so Φ is exactly 0 or 1 beyond it, as it is in float, and v² stays finite.
     */
    private static final float GELU_CLAMP = 14f;
    /**
     * Q(t) ≈ erfcx(a)/t for {@code t = 1/(1 + a/2)}, lowest power first: {@code erfc(a) = t·exp(−a²)·Q(t)}, so that
     * Φ and φ share one exp. This project's fit (relative-error minimax by Lawson-weighted least squares, printed by
     * {@code fit_erfcx_float()} in {@code tools/refgen/families/activation.py}, which re-measures the bound on every
     * regeneration): within 1.8e-7 relative over all a ≥ 0 with these float coefficients and Horner's rule in float.
     */
    private static final float Q0 = 0.28209479479678184f, Q1 = 0.28209385268549086f, Q2 = 0.24688058624391598f,
            Q3 = 0.17537682979140023f, Q4 = 0.09300059189892279f, Q5 = -0.05723250689223464f,
            Q6 = 0.12708951672422802f, Q7 = -0.4469775040063612f, Q8 = 0.4861788921830071f,
            Q9 = -0.23085765784929935f, Q10 = 0.042352593753023804f;

    /**
     * GELU's parts in float for {@code a = min(|v|, 14)}: {@code e = exp(−a²/2)}, with a² carried in two parts
     * ({@code s = a·a} and its exact rounding error {@code fma(a, a, −s)}, so the exponent's only rounding is one of
     * a number of magnitude at most 98), and {@code erfc(a/√2) = t·e·Q(t)}, {@code t = 1/(1 + a/(2√2))}. Its errors:
     * exp's 2 ulp, Q's 1.8e-7, the products' roundings and the exponent's (half an ulp of v²/2, 2e-6 relative at
     * |v| = 10); {@code ActivationVectorTest} holds v·Φ(v) and the gradient to 1e-5 of each value on [−10, 10].
     * Where e leaves float's normal range (|v| above about 13.2) Φ(v) is 0 below and 1 above. φ(v) = e/√(2π).
     *
     * <p>Written out in {@link #gelu(FloatVector)} and {@link #geluGrad(FloatVector, FloatVector)} rather than
     * called: a helper of this size was compiled alone first, then C2 would not inline its large code into the
     * loops, and the vectors crossing the call were boxed (ten times slower). The scalar forms below are the same
     * operations on one lane.
     */
    static FloatVector gelu(FloatVector v) {
        FloatVector a = v.abs().min(GELU_CLAMP);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector t = one.div(a.fma(a.broadcast(HALF_OVER_SQRT2), one));
        FloatVector q = t.mul(Q10).add(Q9);
        q = q.fma(t, t.broadcast(Q8));
        q = q.fma(t, t.broadcast(Q7));
        q = q.fma(t, t.broadcast(Q6));
        q = q.fma(t, t.broadcast(Q5));
        q = q.fma(t, t.broadcast(Q4));
        q = q.fma(t, t.broadcast(Q3));
        q = q.fma(t, t.broadcast(Q2));
        q = q.fma(t, t.broadcast(Q1));
        q = q.fma(t, t.broadcast(Q0));
        FloatVector s = a.mul(a);
        FloatVector e = VectorMath.exp(a.fma(a, s.neg()).fma(a.broadcast(-0.5f), s.mul(-0.5f)));
        FloatVector half = t.mul(e).mul(q).mul(0.5f);
        FloatVector cdf = half.blend(one.sub(half), v.compare(VectorOperators.GT, 0f));
        // A NaN v is returned as it is: the NaN that many operations would pass on depends on the order C2 gives
        // a commutative operation's operands, and every run must give the same bits
        return v.mul(cdf).blend(v, v.test(VectorOperators.IS_NAN));
    }

    /**
     * {@code gy·(Φ(v) + v·φ(v))} in float, with {@link #gelu(FloatVector)}'s parts. φ is computed from the
     * clamped |v| and multiplied by v itself, so that v = ±∞ gives ∞·0 = NaN, as the plain helper does. A NaN v
     * is returned as it is.
     */
    static FloatVector geluGrad(FloatVector v, FloatVector gy) {
        FloatVector a = v.abs().min(GELU_CLAMP);
        FloatVector one = FloatVector.broadcast(F, 1f);
        FloatVector t = one.div(a.fma(a.broadcast(HALF_OVER_SQRT2), one));
        FloatVector q = t.mul(Q10).add(Q9);
        q = q.fma(t, t.broadcast(Q8));
        q = q.fma(t, t.broadcast(Q7));
        q = q.fma(t, t.broadcast(Q6));
        q = q.fma(t, t.broadcast(Q5));
        q = q.fma(t, t.broadcast(Q4));
        q = q.fma(t, t.broadcast(Q3));
        q = q.fma(t, t.broadcast(Q2));
        q = q.fma(t, t.broadcast(Q1));
        q = q.fma(t, t.broadcast(Q0));
        FloatVector s = a.mul(a);
        FloatVector e = VectorMath.exp(a.fma(a, s.neg()).fma(a.broadcast(-0.5f), s.mul(-0.5f)));
        FloatVector half = t.mul(e).mul(q).mul(0.5f);
        FloatVector cdf = half.blend(one.sub(half), v.compare(VectorOperators.GT, 0f));
        FloatVector pdf = e.mul(INV_SQRT_2PI);
        return gy.mul(v.fma(pdf, cdf)).blend(v, v.test(VectorOperators.IS_NAN));
    }

    /** {@code exp(−a²/2)} on one lane, with {@link #gelu(FloatVector)}'s operations. */
    private static float geluExp(float a) {
        float s = a * a;
        return VectorMath.exp(Math.fma(Math.fma(a, a, -s), -0.5f, s * -0.5f));
    }

    /** {@code erfc(a/√2)/2 = t·e·Q(t)/2} on one lane, with {@link #gelu(FloatVector)}'s operations. */
    private static float geluHalfErfc(float a, float e) {
        float t = 1f / Math.fma(a, HALF_OVER_SQRT2, 1f);
        float q = t * Q10 + Q9;
        q = Math.fma(q, t, Q8);
        q = Math.fma(q, t, Q7);
        q = Math.fma(q, t, Q6);
        q = Math.fma(q, t, Q5);
        q = Math.fma(q, t, Q4);
        q = Math.fma(q, t, Q3);
        q = Math.fma(q, t, Q2);
        q = Math.fma(q, t, Q1);
        q = Math.fma(q, t, Q0);
        return t * e * q * 0.5f;
    }

    /** {@link #gelu(FloatVector)} on one lane: the same bits. */
    static float gelu(float v) {
        if (Float.isNaN(v)) {
            return v;
        }
        float a = Math.min(Math.abs(v), GELU_CLAMP);
        float half = geluHalfErfc(a, geluExp(a));
        return v * (v > 0f ? 1f - half : half);
    }

    /** {@link #geluGrad(FloatVector, FloatVector)} on one lane: the same bits. */
    static float geluGrad(float v, float gy) {
        if (Float.isNaN(v)) {
            return v;
        }
        float a = Math.min(Math.abs(v), GELU_CLAMP);
        float e = geluExp(a);
        float half = geluHalfErfc(a, e);
        float cdf = v > 0f ? 1f - half : half;
        return gy * Math.fma(v, e * INV_SQRT_2PI, cdf);
    }

    /**
     * Elements {@code [from, to)} of {@link ActivationKernels#gelu}: whole vectors, then the last elements one lane at
     * a time with the same operations (a masked vector tail, a second copy of the body, put the loop over C2's
     * node budget, and the vectors of the calls it then left out were boxed: 10 times slower).
     */
    public static void geluRange(float[] x, float[] y, int len, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            gelu(FloatVector.fromArray(F, x, i)).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = gelu(x[i]);
        }
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#geluBackward}, as {@link #geluRange}. */
    public static void geluBackwardRange(float[] x, float[] gy, float[] gx, int len, int from, int to) {
        int i = from;
        for (; i + V <= to; i += V) {
            geluGrad(FloatVector.fromArray(F, x, i), FloatVector.fromArray(F, gy, i)).intoArray(gx, i);
        }
        for (; i < to; i++) {
            gx[i] = geluGrad(x[i], gy[i]);
        }
    }

    /** Rows {@code [from, to)} of {@link ActivationKernels#softmax}. */
    public static void softmaxRows(float[] x, float[] y, int rows, int n, int from, int to) {
        for (int r = from; r < to; r++) {
            softmaxRow(x, y, n, r);
        }
    }

    /** Row {@code r} of {@link ActivationKernels#softmax}. */
    private static void softmaxRow(float[] x, float[] y, int n, int r) {
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
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, i).sub(vm));
            e.intoArray(y, i);
            s0 = s0.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        if (i < end) {
            VectorMask<Float> mask = F.indexInRange(i, end);
            // the lanes past the row are 0 after the masked load's zero minus m, exp'd: masked out of the sum
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, i, mask).sub(vm)).blend(0f, mask.not());
            e.intoArray(y, i, mask);
            s0 = s0.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        double[] lanes = VectorMath.lanes();
        s0.add(s1).intoArray(lanes, 0);
        float inv = (float) (1.0 / VectorMath.sumLanes(lanes));
        FloatVector vinv = FloatVector.broadcast(F, inv);
        i = base;
        for (; i + V <= end; i += V) {
            FloatVector.fromArray(F, y, i).mul(vinv).intoArray(y, i);
        }
        for (; i < end; i++) {
            y[i] = y[i] * inv;
        }
    }

    /** Rows {@code [from, to)} of {@link ActivationKernels#softmaxBackward}. */
    public static void softmaxBackwardRows(float[] y, float[] gy, float[] gx, int rows, int n, int from, int to) {
        double[] lanes = VectorMath.lanes();
        for (int r = from; r < to; r++) {
            int base = r * n;
            int end = base + n;
            DoubleVector s0 = DoubleVector.zero(D), s1 = s0;
            int i = base;
            for (; i + V <= end; i += V) {
                FloatVector g = FloatVector.fromArray(F, gy, i), p = FloatVector.fromArray(F, y, i);
                s0 = ((DoubleVector) g.convertShape(VectorOperators.F2D, D, 0))
                        .fma((DoubleVector) p.convertShape(VectorOperators.F2D, D, 0), s0);
                s1 = ((DoubleVector) g.convertShape(VectorOperators.F2D, D, 1))
                        .fma((DoubleVector) p.convertShape(VectorOperators.F2D, D, 1), s1);
            }
            s0.add(s1).intoArray(lanes, 0);
            double dot = VectorMath.sumLanes(lanes);
            for (; i < end; i++) {
                dot += (double) gy[i] * y[i];
            }
            // dot as a float pair: gy − hi is exact where the two are close (Sterbenz), so the difference keeps
            // the low bits that a row dominated by one probability cancels down to
            float hi = (float) dot, lo = (float) (dot - hi);
            FloatVector dHi = FloatVector.broadcast(F, hi), dLo = FloatVector.broadcast(F, lo);
            i = base;
            for (; i + V <= end; i += V) {
                FloatVector.fromArray(F, gy, i).sub(dHi).sub(dLo).mul(FloatVector.fromArray(F, y, i)).intoArray(gx, i);
            }
            for (; i < end; i++) {
                gx[i] = (gy[i] - hi - lo) * y[i];
            }
        }
    }
}
