package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link PrismConvKernels#weightPartialsLane}, the prism
 * convolution's filter-gradient partial sums; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>The same sums in double ({@link Sums}): {@link PrismConvKernels#tapTriple}'s three taps over the columns
 * they all read run as 256-bit double vectors, four columns per vector and two vectors per step, each a
 * double FMA of widened floats (exact products, so the same additions as the loop's multiply-then-add, in
 * another order: eight partial sums per tap instead of one running sum). The remaining columns, the
 * single taps and the bias are the loop's own code. Within a few double ulps of the loop, rounded to float
 * by the reduction kernel: the same float nearly always, and never more than an ulp apart. Fixed widths
 * (128-bit float loads, 256-bit double arithmetic) on every machine, so the order never changes.
 */
final class PrismConvWeightVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;

    private PrismConvWeightVector() {
    }

    /** Lanes {@code [from, to)} of {@link PrismConvKernels#weightPartials}. */
    static void weightPartialsLanes(float[] x, float[] gy, float[] partials, int n, int c, int h, int w,
                                    int kc, int kh, int kw, int mode, int from, int to) {
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int taps = kc * kh * kw;
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
                        tapTriple(x, gy, partials, out + 2 * dx, g, src, w, iLo, iHi, dx - pw);
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
                                  int iLo, int iHi, int o) {
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
            for (; j + 8 <= hi; j += 8) {
                DoubleVector u = (DoubleVector) FloatVector.fromArray(F, gy, gr + j).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector v = (DoubleVector) FloatVector.fromArray(F, gy, gr + j + 4).convertShape(VectorOperators.F2D, D, 0);
                a0 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j).convertShape(VectorOperators.F2D, D, 0), a0);
                a1 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 1).convertShape(VectorOperators.F2D, D, 0), a1);
                a2 = u.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 2).convertShape(VectorOperators.F2D, D, 0), a2);
                b0 = v.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 4).convertShape(VectorOperators.F2D, D, 0), b0);
                b1 = v.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 5).convertShape(VectorOperators.F2D, D, 0), b1);
                b2 = v.fma((DoubleVector) FloatVector.fromArray(F, x, xr + j + 6).convertShape(VectorOperators.F2D, D, 0), b2);
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
        Sums.storeSplit(partials, at, s0 + VectorMath.sumLanes(a0.add(b0)));
        Sums.storeSplit(partials, at + 2, s1 + VectorMath.sumLanes(a1.add(b1)));
        Sums.storeSplit(partials, at + 4, s2 + VectorMath.sumLanes(a2.add(b2)));
    }
}
