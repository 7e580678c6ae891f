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
 * float. GELU keeps its plain loop (its erfc fit needs a double exp, not written here).
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
}
