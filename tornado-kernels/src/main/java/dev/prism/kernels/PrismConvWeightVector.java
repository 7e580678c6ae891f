package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link PrismConvKernels#weightPartialsLane}, the prism
 * convolution's filter-gradient partial sums; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>The same sums in double ({@link Sums}): {@link PrismConvKernels#tapTriple}'s three taps over the columns
 * they all read run as double vectors of {@link VectorMath#DOUBLE}'s L lanes: each step loads 2L floats
 * ({@link VectorMath#FLOAT}), widens both halves, and adds each half's products by a double FMA (exact
 * products, so the same additions as the loop's multiply-then-add, in another order: 2L partial sums per tap
 * instead of one running sum); a last half step takes L more columns where they remain. The remaining
 * columns, the single taps and the bias are the loop's own code. Within a few double ulps of the loop,
 * rounded to float by the reduction kernel: the same float nearly always, and never more than an ulp apart.
 * The order depends on the shapes and the vector width only: the same bits on every thread count. The
 * variants' one species, not a fixed narrower one: a second vector class in one JVM makes C2 box the
 * vectors of the other variants ({@link VectorMath#FLOAT}).
 */
final class PrismConvWeightVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int L = D.length();
    /** The float lanes {@code [0, L)}, for the last half step. */
    private static final VectorMask<Float> FIRST_HALF = F.indexInRange(0, L);

    private PrismConvWeightVector() {
    }

    /** Lanes {@code [from, to)} of {@link PrismConvKernels#weightPartials}. */
    static void weightPartialsLanes(float[] x, float[] gy, float[] partials, int n, int c, int h, int w,
                                    int kc, int kh, int kw, int mode, int from, int to) {
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int taps = kc * kh * kw;
        double[] lanes = VectorMath.lanes();
        for (int p = from; p < to; p++) {
            int img = p / c;
            int ch = p - img * c;
            int base = 2 * p * (taps + 1);
            int g = p * h * w;
            for (int dc = 0; dc < kc; dc++) {
                int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
                for (int dy = 0; dy < kh; dy++) {
                    int iLo = cs >= 0 ? Math.max(0, ph - dy) : 0;
                    int iHi = cs >= 0 ? Math.min(h, h + ph - dy) : 0;
                    int src = ((img * c + cs) * h + dy - ph) * w;
                    int out = base + 2 * (dc * kh + dy) * kw;
                    int dx = 0;
                    for (; dx + 3 <= kw; dx += 3) {
                        tapTriple(x, gy, partials, out + 2 * dx, g, src, w, iLo, iHi, dx - pw, lanes);
                    }
                    for (; dx < kw; dx++) {
                        PrismConvKernels.tapSingle(x, gy, partials, out + 2 * dx, g, src, w, iLo, iHi, dx - pw);
                    }
                }
            }
            Sums.storeSplit(partials, base + 2 * taps, Sums.sum(gy, g, h * w));
        }
    }

    /** {@link PrismConvKernels#tapTriple} with its inner columns in double vectors. */
    private static void tapTriple(float[] x, float[] gy, float[] partials, int at, int g, int src, int w,
                                  int iLo, int iHi, int o, double[] lanes) {
        int lo = Math.max(0, -o);
        int hi = Math.max(lo, Math.min(w, w - o - 2));
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        for (int i = iLo; i < iHi; i++) {
            int gr = g + i * w;
            int xr = src + i * w + o;
            int j = lo;
            for (; j + 2 * L <= hi; j += 2 * L) {
                FloatVector g2 = FloatVector.fromArray(F, gy, gr + j);
                FloatVector x0 = FloatVector.fromArray(F, x, xr + j);
                FloatVector x1 = FloatVector.fromArray(F, x, xr + j + 1);
                FloatVector x2 = FloatVector.fromArray(F, x, xr + j + 2);
                // the part index must be a constant where C2 compiles the conversion: no loop over parts
                DoubleVector u = (DoubleVector) g2.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector v = (DoubleVector) g2.convertShape(VectorOperators.F2D, D, 1);
                a0 = u.fma((DoubleVector) x0.convertShape(VectorOperators.F2D, D, 0), a0);
                a1 = u.fma((DoubleVector) x1.convertShape(VectorOperators.F2D, D, 0), a1);
                a2 = u.fma((DoubleVector) x2.convertShape(VectorOperators.F2D, D, 0), a2);
                b0 = v.fma((DoubleVector) x0.convertShape(VectorOperators.F2D, D, 1), b0);
                b1 = v.fma((DoubleVector) x1.convertShape(VectorOperators.F2D, D, 1), b1);
                b2 = v.fma((DoubleVector) x2.convertShape(VectorOperators.F2D, D, 1), b2);
            }
            if (j + L <= hi) {
                DoubleVector u = (DoubleVector) FloatVector.fromArray(F, gy, gr + j, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                a0 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0), a0);
                a1 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 1, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0), a1);
                a2 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 2, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0), a2);
                j += L;
            }
            for (; j < hi; j++) {
                double gv = gy[gr + j];
                s0 += gv * x[xr + j];
                s1 += gv * x[xr + j + 1];
                s2 += gv * x[xr + j + 2];
            }
            s0 += Conv2dKernels.edgeColumns(gy, gr, x, xr, w, w, o, lo, hi);
            s1 += Conv2dKernels.edgeColumns(gy, gr, x, xr + 1, w, w, o + 1, lo, hi);
            s2 += Conv2dKernels.edgeColumns(gy, gr, x, xr + 2, w, w, o + 2, lo, hi);
        }
        // lanes added in a fixed order (VectorMath.sumLanes): reduceLanes leaves it open
        a0.add(b0).intoArray(lanes, 0);
        Sums.storeSplit(partials, at, s0 + VectorMath.sumLanes(lanes));
        a1.add(b1).intoArray(lanes, 0);
        Sums.storeSplit(partials, at + 2, s1 + VectorMath.sumLanes(lanes));
        a2.add(b2).intoArray(lanes, 0);
        Sums.storeSplit(partials, at + 4, s2 + VectorMath.sumLanes(lanes));
    }
}
