package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link NormKernels#groupStatsLane} and
 * {@link NormKernels#groupApplyRow}, which stay the reference and the TornadoVM input.
 *
 * <p>Statistics: the same two passes (the mean, then the mean squared deviation from it), both summed in
 * double as the plain loop does, but in four double vectors of partial sums (16 at 256 bits, the floats
 * widened on load: two float vectors, each split into its two halves) instead of four, so the sums round
 * in another order, which depends on the width: within a few double ulps of the plain loop, far below a
 * float ulp of the results.
 *
 * <p>Apply: {@code v = (x − μ)·a + b} with the plain loop's float operations (the same bits), then, for
 * SiLU, {@code v / (1 + exp(−v))} in float with {@link ActivationVector#exp} (within about 2 ulp, and
 * the same bits interpreted or compiled) instead of the plain loop's double {@code v·σ(v)}: a few float ulps from the plain loop,
 * inside the shared tolerance. For {@code v < −88.4} exp overflows to +∞ and the quotient is −0 where the
 * plain loop gives a subnormal; ±∞ and NaN give what the plain loop gives. A launch's rows that share a
 * plane are contiguous and share μ, a and b, so they run as one span, whose last elements take a masked
 * vector: every element goes through the same operations wherever the threads' spans end.
 */
public final class NormVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int V = F.length();
    /** Floats per step of the statistics: two float vectors, four double vectors of partial sums. */
    private static final int STEP = 2 * V;

    private NormVector() {
    }

    /** Groups {@code [from, to)} of {@link NormKernels#groupStats}: one {@link #groupStatsLane} each. */
    static void groupStatsLanes(float[] x, float[] stats, int n, int c, int hw, int groups, float eps, int from, int to) {
        for (int q = from; q < to; q++) {
            groupStatsLane(x, stats, c, hw, groups, eps, q);
        }
    }

    /** Group {@code q}: the same statistics as {@link NormKernels#groupStatsLane}, summed in another order. */
    public static void groupStatsLane(float[] x, float[] stats, int c, int hw, int groups, float eps, int q) {
        int m = (c / groups) * hw;
        int base = q * m;
        double mean = sum(x, base, m) / m;
        double var = squaredDeviations(x, base, m, mean) / m;
        stats[2 * q] = (float) mean;
        stats[2 * q + 1] = (float) (1.0 / Math.sqrt(var + eps));
    }

    /** {@code Σ x[base .. base+m)} in double. */
    static double sum(float[] x, int base, int m) {
        DoubleVector s0 = DoubleVector.zero(D), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + STEP <= m; i += STEP) {
            FloatVector a = FloatVector.fromArray(F, x, base + i);
            FloatVector b = FloatVector.fromArray(F, x, base + i + V);
            s0 = s0.add((DoubleVector) a.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) a.convertShape(VectorOperators.F2D, D, 1));
            s2 = s2.add((DoubleVector) b.convertShape(VectorOperators.F2D, D, 0));
            s3 = s3.add((DoubleVector) b.convertShape(VectorOperators.F2D, D, 1));
        }
        double[] lanes = VectorMath.lanes();
        s0.add(s1).add(s2.add(s3)).intoArray(lanes, 0);
        double s = VectorMath.sumLanes(lanes);
        for (; i < m; i++) {
            s += x[base + i];
        }
        return s;
    }

    /** {@code Σ (x − mean)²} over {@code x[base .. base+m)} in double. */
    static double squaredDeviations(float[] x, int base, int m, double mean) {
        DoubleVector mu = DoubleVector.broadcast(D, mean);
        DoubleVector s0 = DoubleVector.zero(D), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + STEP <= m; i += STEP) {
            FloatVector a = FloatVector.fromArray(F, x, base + i);
            FloatVector b = FloatVector.fromArray(F, x, base + i + V);
            DoubleVector d0 = (DoubleVector) a.convertShape(VectorOperators.F2D, D, 0).sub(mu);
            DoubleVector d1 = (DoubleVector) a.convertShape(VectorOperators.F2D, D, 1).sub(mu);
            DoubleVector d2 = (DoubleVector) b.convertShape(VectorOperators.F2D, D, 0).sub(mu);
            DoubleVector d3 = (DoubleVector) b.convertShape(VectorOperators.F2D, D, 1).sub(mu);
            s0 = d0.fma(d0, s0);
            s1 = d1.fma(d1, s1);
            s2 = d2.fma(d2, s2);
            s3 = d3.fma(d3, s3);
        }
        double[] lanes = VectorMath.lanes();
        s0.add(s1).add(s2.add(s3)).intoArray(lanes, 0);
        double s = VectorMath.sumLanes(lanes);
        for (; i < m; i++) {
            double d = x[base + i] - mean;
            s += d * d;
        }
        return s;
    }

    /** Lanes {@code [from, to)} of {@link Norm#groupApply} (one lane per row {@code l = p·H + i}). */
    public static void groupApplyRows(float[] x, float[] stats, float[] gamma, float[] beta, float[] y,
                                      int n, int c, int h, int w, int groups, int silu, int from, int to) {
        int l = from;
        while (l < to) {
            int p = l / h;
            int end = Math.min(to, (p + 1) * h);
            int ch = p % c;
            int q = p / (c / groups);
            float mu = stats[2 * q];
            float a = stats[2 * q + 1] * gamma[ch];
            float b = beta[ch];
            if (silu != 0) {
                applySilu(x, y, l * w, end * w, mu, a, b);
            } else {
                apply(x, y, l * w, end * w, mu, a, b);
            }
            l = end;
        }
    }

    /** {@code y = silu((x − μ)·a + b)} over {@code [lo, hi)}. */
    private static void applySilu(float[] x, float[] y, int lo, int hi, float mu, float a, float b) {
        FloatVector vmu = FloatVector.broadcast(F, mu);
        FloatVector va = FloatVector.broadcast(F, a);
        FloatVector vb = FloatVector.broadcast(F, b);
        int j = lo;
        // One block per iteration: C2 inlines the exp once per loop body within its node budget; a second
        // copy would stay a call, and a vector crossing a call is boxed.
        for (; j + V <= hi; j += V) {
            ActivationVector.silu(FloatVector.fromArray(F, x, j).sub(vmu).mul(va).add(vb)).intoArray(y, j);
        }
        // The tail through the same vector operations, masked: each element's value never depends on
        // where a span (a thread's share of the rows) ends, so every thread count gives the same bits.
        for (; j < hi; j += V) {
            VectorMask<Float> m = F.indexInRange(j, hi);
            ActivationVector.silu(FloatVector.fromArray(F, x, j, m).sub(vmu).mul(va).add(vb)).intoArray(y, j, m);
        }
    }

    /** {@code y = (x − μ)·a + b} over {@code [lo, hi)}: the plain loop's operations, the same bits. */
    private static void apply(float[] x, float[] y, int lo, int hi, float mu, float a, float b) {
        FloatVector vmu = FloatVector.broadcast(F, mu);
        FloatVector va = FloatVector.broadcast(F, a);
        FloatVector vb = FloatVector.broadcast(F, b);
        int j = lo;
        for (; j + V <= hi; j += V) {
            FloatVector.fromArray(F, x, j).sub(vmu).mul(va).add(vb).intoArray(y, j);
        }
        for (; j < hi; j++) {
            y[j] = (x[j] - mu) * a + b;
        }
    }
}
