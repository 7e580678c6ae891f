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
 * <p>SiLU, its backward and sigmoid evaluate in float with the Vector API's exp
 * ({@link VectorOperators#EXP}, within an ulp or two) where the plain helpers evaluate in double with
 * {@code Math.exp} and round once: a few float ulps apart, inside the shared tolerance. When
 * {@code exp(−v)} overflows (v &lt; −88.7) the float forms give 0 (or −0) where the plain ones give a
 * subnormal; infinities give the plain values, NaN gives NaN. GELU keeps the plain helper's double
 * evaluation ({@link ActivationKernels#erfc}'s formula, four doubles per vector, the Vector API's
 * double exp), so it rounds to the plain result but for an occasional last bit. Softmax: the row
 * maximum is exact, exp in float, the sum in double (in 16 partial sums), the scale in float.
 *
 * <p>The element-wise kernels run a thread's span as one stream whose tail is a masked vector, so each
 * element takes the same operations wherever the spans end: every thread count gives the same bits.
 * Every element is read before it is written, as the plain loops do, so in place still works.
 */
public final class ActivationVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> F4 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final int V = F.length();
    private static final double INV_SQRT2 = 0.70710678118654752440;

    private ActivationVector() {
    }

    /** {@code v / (1 + exp(−v))} in float. */
    static FloatVector silu(FloatVector v) {
        return v.div(v.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /** {@code 1 / (1 + exp(−v))} in float. */
    static FloatVector sigmoid(FloatVector v) {
        FloatVector one = FloatVector.broadcast(F, 1f);
        return one.div(v.neg().lanewise(VectorOperators.EXP).add(one));
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#silu}. */
    public static void silu(float[] x, float[] y, int from, int to) {
        int i = from;
        for (; i + 2 * V <= to; i += 2 * V) {
            FloatVector v0 = FloatVector.fromArray(F, x, i);
            FloatVector v1 = FloatVector.fromArray(F, x, i + V);
            silu(v0).intoArray(y, i);
            silu(v1).intoArray(y, i + V);
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
        for (; i + 2 * V <= to; i += 2 * V) {
            FloatVector v0 = FloatVector.fromArray(F, x, i);
            FloatVector v1 = FloatVector.fromArray(F, x, i + V);
            sigmoid(v0).intoArray(y, i);
            sigmoid(v1).intoArray(y, i + V);
        }
        for (; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            sigmoid(FloatVector.fromArray(F, x, i, m)).intoArray(y, i, m);
        }
    }

    /** {@code v·Φ(v)} in double, {@link ActivationKernels#geluOf}'s formula. */
    private static DoubleVector gelu(DoubleVector v) {
        DoubleVector z = v.neg().mul(INV_SQRT2);
        DoubleVector a = z.abs();
        DoubleVector t = DoubleVector.broadcast(D, 1.0).div(a.mul(0.5).add(1.0));
        DoubleVector t2 = t.mul(t);
        DoubleVector t4 = t2.mul(t2);
        DoubleVector t8 = t4.mul(t4);
        DoubleVector q0 = t.mul(0.99999820360268932).add(-1.2655121182324303);
        DoubleVector q1 = t.mul(0.08108338803826215).add(0.37510165393285583);
        DoubleVector q2 = t.mul(-0.31545220359914805).add(-0.060279491326036994);
        DoubleVector q3 = t.mul(-1.9180742231321652).add(0.62875176351624862);
        DoubleVector q4 = t.mul(-3.3425184272696398).add(3.490682311299607);
        DoubleVector q5 = t.mul(-0.46412437015332919).add(1.7429268356827576);
        DoubleVector lo = q0.add(q1.mul(t2)).add(q2.add(q3.mul(t2)).mul(t4));
        DoubleVector hi = q4.add(q5.mul(t2)).add(t4.mul(0.047416672390035719));
        DoubleVector r = t.mul(lo.add(hi.mul(t8)).sub(a.mul(a)).lanewise(VectorOperators.EXP));
        DoubleVector erfc = DoubleVector.broadcast(D, 2.0).sub(r).blend(r, z.compare(VectorOperators.GE, 0.0));
        return v.mul(erfc.mul(0.5));
    }

    /** Elements {@code [from, to)} of {@link ActivationKernels#gelu}, four at a time in double. */
    public static void gelu(float[] x, float[] y, int from, int to) {
        int i = from;
        for (; i + 4 <= to; i += 4) {
            DoubleVector v = (DoubleVector) FloatVector.fromArray(F4, x, i).convertShape(VectorOperators.F2D, D, 0);
            ((FloatVector) gelu(v).convertShape(VectorOperators.D2F, F4, 0)).intoArray(y, i);
        }
        if (i < to) {
            VectorMask<Float> m = F4.indexInRange(i, to);
            DoubleVector v = (DoubleVector) FloatVector.fromArray(F4, x, i, m).convertShape(VectorOperators.F2D, D, 0);
            ((FloatVector) gelu(v).convertShape(VectorOperators.D2F, F4, 0)).intoArray(y, i, m);
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
            FloatVector e = FloatVector.fromArray(F, x, i).sub(vm).lanewise(VectorOperators.EXP);
            e.intoArray(y, i);
            s0 = s0.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
        }
        if (i < end) {
            VectorMask<Float> mask = F.indexInRange(i, end);
            // the lanes past the row are 0 after the masked load's zero minus m, exp'd: masked out of the sum
            FloatVector e = FloatVector.fromArray(F, x, i, mask).sub(vm).lanewise(VectorOperators.EXP)
                    .blend(0f, mask.not());
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
