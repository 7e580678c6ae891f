package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variants (Vector API) of the group-norm backward,
 * {@link NormKernels#groupBackwardPartialsLane} and {@link NormKernels#groupBackwardInputRow}, which
 * stay the reference and the TornadoVM input.
 *
 * <p>Without SiLU both take the plain loop's float operations: the input gradient
 * {@code (a·g + k2·d) + k3} with {@code d = x − μ}, unfused, the same bits; the partial sums
 * {@code Σ g} and {@code Σ g·d} in double as the loop (the products exact), but in
 * {@code 2·D.length()} partial sums instead of one, so they round in another order: a few double ulps
 * apart, below a float ulp of the stored results.
 *
 * <p>With SiLU the gradient reaching v, {@code g = gy·σ(v)·(1 + v·(1 − σ(v)))} with
 * {@code σ(v) = 1/(1 + exp(−v))}, is evaluated in float with {@link VectorMath#exp(FloatVector)}
 * (within about 2 ulp) where the plain helper evaluates it in double with {@code Math.exp}: a few float
 * ulps apart, inside the shared tolerance; when {@code exp(−v)} overflows ({@code v < −88.4}) σ is 0
 * where the plain loop has a tiny value.
 *
 * <p>A launch's rows that share a plane are contiguous and share μ, r, γ, β and the group's sums, so they
 * run as one span; the last elements of a span or a plane take a masked vector, so each element goes
 * through the same operations wherever the threads' spans end: every thread count gives the same bits.
 * One loop body per method, the only call in it {@link VectorMath#exp(FloatVector)} (see
 * docs/KERNELS.md on vectors crossing calls).
 */
final class NormBackwardVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    /** Doubles in a vector of the float species' width: each float vector widens into two. */
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int V = F.length();

    private NormBackwardVector() {
    }

    /**
     * Work-items {@code [from, to)} of {@link Norm#groupBackward} (one group of one batch item each, {@code u = n·groups + q}):
     * each one's planes as {@link #groupBackwardPartialsLanes}, then their rows as {@link #groupBackwardInputRows}, so the
     * same bits as the two launches. With {@code silu}, the first pass also stores each element's gradient through the
     * SiLU, {@code g}, in {@code gx} (the group's planes, 12 KiB at 3 channels of 32×32, are still in the cache), and the
     * second reads it there instead of evaluating {@code exp} and the division again: the same float either way.
     */
    static void groupBackwardGroups(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                    float[] gx, int n, int c, int h, int w, int groups, int silu, float[] addend, int add,
                                    int from, int to) {
        int cg = c / groups;
        int hw = h * w;
        for (int u = from; u < to; u++) {
            for (int p = u * cg; p < (u + 1) * cg; p++) {
                planePartials(x, gy, stats, gamma, beta, partials, silu != 0 ? gx : null, silu != 0, c, hw, groups, p);
            }
            for (int p = u * cg; p < (u + 1) * cg; p++) {
                planeInput(x, silu != 0 ? gx : gy, stats, gamma, partials, gx, add != 0 ? addend : null, c, hw, groups, p);
            }
        }
    }

    /**
     * Plane {@code p}'s two sums ({@link Norm#groupBackwardPartials}); with {@code silu} and {@code keep} not null, the
     * gradient through the SiLU also goes to {@code keep}, at the plane's own elements.
     */
    private static void planePartials(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                      float[] keep, boolean silu, int c, int hw, int groups, int p) {
        double[] lanes = VectorMath.lanes();
        int ch = p % c;
        int q = p / (c / groups);
        float mu = stats[2 * q];
        float r = stats[2 * q + 1];
        int o = p * hw;
        FloatVector vmu = FloatVector.broadcast(F, mu);
        FloatVector va = FloatVector.broadcast(F, r * gamma[ch]);
        FloatVector vb = FloatVector.broadcast(F, beta[ch]);
        FloatVector one = FloatVector.broadcast(F, 1f);
        DoubleVector sg0 = DoubleVector.zero(D), sg1 = sg0, sd0 = sg0, sd1 = sg0;
        for (int i = 0; i < hw; i += V) {
            VectorMask<Float> m = F.indexInRange(i, hw);
            FloatVector d = FloatVector.fromArray(F, x, o + i, m).sub(vmu);
            FloatVector g = FloatVector.fromArray(F, gy, o + i, m);
            if (silu) {
                FloatVector v = d.mul(va).add(vb);
                FloatVector s = one.div(VectorMath.exp(v.neg()).add(one));
                g = g.mul(s.mul(one.add(v.mul(one.sub(s)))));
                if (keep != null) {
                    g.intoArray(keep, o + i, m);
                }
            }
            // lanes past the plane: gy loads as 0, so g is 0 and adds nothing
            DoubleVector g0 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector g1 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 1);
            sg0 = sg0.add(g0);
            sg1 = sg1.add(g1);
            sd0 = g0.fma((DoubleVector) d.convertShape(VectorOperators.F2D, D, 0), sd0);
            sd1 = g1.fma((DoubleVector) d.convertShape(VectorOperators.F2D, D, 1), sd1);
        }
        sg0.add(sg1).intoArray(lanes, 0);
        partials[2 * p] = (float) VectorMath.sumLanes(lanes);
        sd0.add(sd1).intoArray(lanes, 0);
        partials[2 * p + 1] = (float) (VectorMath.sumLanes(lanes) * r);
    }

    /**
     * {@link #groupBackwardInputRows}'s rows of plane {@code p}, the gradient through the SiLU (or, without it, the output
     * gradient) read from {@code g}, which may be {@code gx} itself: each element is read before it is written. With
     * {@code addend} not null its element is added to each result in float, as {@link NormKernels#groupBackwardGroup}
     * adds it after the rows: the same bits.
     */
    private static void planeInput(float[] x, float[] g, float[] stats, float[] gamma, float[] partials, float[] gx,
                                   float[] addend, int c, int hw, int groups, int p) {
        int ch = p % c;
        int q = p / (c / groups);
        float mu = stats[2 * q];
        float r = stats[2 * q + 1];
        float k2 = NormKernels.groupBackwardCoefficient(stats, gamma, partials, c, hw, groups, p, 2);
        float k3 = NormKernels.groupBackwardCoefficient(stats, gamma, partials, c, hw, groups, p, 3);
        FloatVector vmu = FloatVector.broadcast(F, mu);
        FloatVector va = FloatVector.broadcast(F, r * gamma[ch]);
        FloatVector vk2 = FloatVector.broadcast(F, k2);
        FloatVector vk3 = FloatVector.broadcast(F, k3);
        int o = p * hw, hi = o + hw;
        if (addend == null) {
            for (int j = o; j < hi; j += V) {
                VectorMask<Float> mk = F.indexInRange(j, hi);
                FloatVector d = FloatVector.fromArray(F, x, j, mk).sub(vmu);
                va.mul(FloatVector.fromArray(F, g, j, mk)).add(vk2.mul(d)).add(vk3).intoArray(gx, j, mk);
            }
            return;
        }
        for (int j = o; j < hi; j += V) {
            VectorMask<Float> mk = F.indexInRange(j, hi);
            FloatVector d = FloatVector.fromArray(F, x, j, mk).sub(vmu);
            va.mul(FloatVector.fromArray(F, g, j, mk)).add(vk2.mul(d)).add(vk3).add(FloatVector.fromArray(F, addend, j, mk))
                    .intoArray(gx, j, mk);
        }
    }

    /** Lanes {@code [from, to)} of {@link Norm#groupBackwardPartials} (one lane per plane). */
    static void groupBackwardPartialsLanes(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                           float[] partials, int n, int c, int hw, int groups, int silu, int from, int to) {
        for (int p = from; p < to; p++) {
            planePartials(x, gy, stats, gamma, beta, partials, null, silu != 0, c, hw, groups, p);
        }
    }

    /** Lanes {@code [from, to)} of {@link Norm#groupBackwardInput} (one lane per row {@code l = p·H + i}). */
    static void groupBackwardInputRows(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                       float[] partials, float[] gx, int n, int c, int h, int w, int groups, int silu,
                                       int from, int to) {
        int cg = c / groups;
        int l = from;
        while (l < to) {
            int p = l / h;
            int end = Math.min(to, (p + 1) * h);
            int ch = p % c;
            int q = p / cg;
            float mu = stats[2 * q];
            float r = stats[2 * q + 1];
            float a = r * gamma[ch];
            float b = beta[ch];
            float k2 = NormKernels.groupBackwardCoefficient(stats, gamma, partials, c, h * w, groups, p, 2);
            float k3 = NormKernels.groupBackwardCoefficient(stats, gamma, partials, c, h * w, groups, p, 3);
            FloatVector vmu = FloatVector.broadcast(F, mu);
            FloatVector va = FloatVector.broadcast(F, a);
            FloatVector vb = FloatVector.broadcast(F, b);
            FloatVector vk2 = FloatVector.broadcast(F, k2);
            FloatVector vk3 = FloatVector.broadcast(F, k3);
            FloatVector one = FloatVector.broadcast(F, 1f);
            int hi = end * w;
            for (int j = l * w; j < hi; j += V) {
                VectorMask<Float> mk = F.indexInRange(j, hi);
                FloatVector d = FloatVector.fromArray(F, x, j, mk).sub(vmu);
                FloatVector g = FloatVector.fromArray(F, gy, j, mk);
                if (silu != 0) {
                    FloatVector v = d.mul(va).add(vb);
                    FloatVector s = one.div(VectorMath.exp(v.neg()).add(one));
                    g = g.mul(s.mul(one.add(v.mul(one.sub(s)))));
                }
                va.mul(g).add(vk2.mul(d)).add(vk3).intoArray(gx, j, mk);
            }
            l = end;
        }
    }
}
