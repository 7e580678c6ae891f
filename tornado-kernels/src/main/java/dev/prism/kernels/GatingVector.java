package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link GatingKernels#bandDot}, the per-plane dot products of the
 * wavelet gates' gradients; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>The sum as the loop's ({@link Sums#dot}): both floats widened to double, each product exact, each step a
 * double FMA (the exact product added with one rounding, as the loop's multiply-then-add does), in four vector
 * partial sums instead of the loop's four scalars, then the lanes left to right and the last
 * {@code hw mod 2L} terms: another order of the same double sum, rounded (or split into a pair) once. The order
 * depends on the plane size and the vector width only: the same bits on every thread count.
 */
final class GatingVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int V = F.length();

    private GatingVector() {
    }

    /** Outputs {@code [from, to)} of {@link GatingKernels#bandDot}. */
    static void bandDotLanes(float[] y, float[] z, int perBand, float[] out, int pairs, int n, int c, int hw,
                             int from, int to) {
        double[] lanes = VectorMath.lanes();
        for (int q = from; q < to; q++) {
            int nk = q / c;
            int ch = q - nk * c;
            int b = nk / 4;
            int k = nk - b * 4;
            int ys = q * hw;
            int zs = ((b * (1 + 3 * perBand) + k * perBand) * c + ch) * hw;
            DoubleVector s0 = DoubleVector.zero(D), s1 = s0, s2 = s0, s3 = s0;
            int i = 0;
            for (; i + 2 * V <= hw; i += 2 * V) {
                FloatVector a = FloatVector.fromArray(F, y, ys + i), u = FloatVector.fromArray(F, z, zs + i);
                FloatVector a2 = FloatVector.fromArray(F, y, ys + i + V), u2 = FloatVector.fromArray(F, z, zs + i + V);
                s0 = ((DoubleVector) a.convertShape(VectorOperators.F2D, D, 0))
                        .fma((DoubleVector) u.convertShape(VectorOperators.F2D, D, 0), s0);
                s1 = ((DoubleVector) a.convertShape(VectorOperators.F2D, D, 1))
                        .fma((DoubleVector) u.convertShape(VectorOperators.F2D, D, 1), s1);
                s2 = ((DoubleVector) a2.convertShape(VectorOperators.F2D, D, 0))
                        .fma((DoubleVector) u2.convertShape(VectorOperators.F2D, D, 0), s2);
                s3 = ((DoubleVector) a2.convertShape(VectorOperators.F2D, D, 1))
                        .fma((DoubleVector) u2.convertShape(VectorOperators.F2D, D, 1), s3);
            }
            s0.add(s1).add(s2.add(s3)).intoArray(lanes, 0);
            double d = VectorMath.sumLanes(lanes);
            for (; i < hw; i++) {
                d += (double) y[ys + i] * z[zs + i];
            }
            if (pairs != 0) {
                Sums.storeSplit(out, 2 * q, d);
            } else {
                out[q] = (float) d;
            }
        }
    }
}
