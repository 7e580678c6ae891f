package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link GemmKernels#matmulBatchSumRow}, the reduction
 * form of the product that a 1×1 convolution's weight gradient runs on; the plain loop stays the
 * reference and the TornadoVM input. Only {@code op(A) = A}, {@code op(B) = Bᵀ} (both operands contiguous
 * along {@code p}, the weight gradient's shape) is vectorised; other transposes run the plain rows.
 *
 * <p>Bit-identical to the plain loop, on every machine: {@link Sums#dot} keeps four interleaved double
 * partial sums, term {@code p} going to sum {@code p mod 4}, and here lane {@code l} of a 4-lane double
 * vector is sum {@code l}. Four floats are loaded and widened to double (exact), and each step is a
 * double FMA, which equals the plain loop's multiply-then-add because a product of two floats is exact
 * in double. The lanes are then combined as {@link Sums#dot} combines its sums, after the last
 * {@code k mod 4} terms are added to sum 0 in order. The widths are fixed (128-bit float loads, 256-bit
 * double arithmetic) whatever the machine's preferred width, so the lane-to-sum mapping never changes.
 *
 * <p>Micro-kernel: 2 rows of C × 4 columns, 8 double-vector accumulators. No vector crosses a method
 * call (C2 would box it); the accumulators' lanes leave through a per-thread scratch array.
 */
final class GemmSumVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;

    /** The 8 accumulators' lanes, 4 each: one array per thread, reused. */
    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[32]);

    private GemmSumVector() {
    }

    /** Rows {@code [from, to)} of {@link GemmKernels#matmulBatchSum}. */
    static void matmulBatchSumRows(float[] a, float[] b, float[] c, int batch, int m, int n, int k, int transA,
                                   int transB, int strideA, int strideB, int accumulate, int from, int to) {
        if (transA != 0 || transB == 0) {
            for (int i = from; i < to; i++) {
                GemmKernels.matmulBatchSumRow(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, i, accumulate);
            }
            return;
        }
        double[] lanes = LANES.get();
        int n4 = n - n % 4;
        for (int i = from; i < to; i += 2) {
            // an odd last row is computed as both rows of the pair and stored once
            int i1 = i + 1 < to ? i + 1 : i;
            for (int j = 0; j < n4; j += 4) {
                block(a, b, c, batch, n, k, strideA, strideB, accumulate, i, i1, j, lanes);
            }
            for (int j = n4; j < n; j++) {
                c[i * n + j] = (float) column(a, b, c, batch, n, k, strideA, strideB, accumulate, i, j);
                if (i1 != i) {
                    c[i1 * n + j] = (float) column(a, b, c, batch, n, k, strideA, strideB, accumulate, i1, j);
                }
            }
        }
    }

    /** {@code c[i,j]} as the plain loop computes it (the old value, then each batch item's {@link Sums#dot}). */
    private static double column(float[] a, float[] b, float[] c, int batch, int n, int k, int strideA, int strideB,
                                 int accumulate, int i, int j) {
        double s = accumulate != 0 ? c[i * n + j] : 0;
        for (int bi = 0; bi < batch; bi++) {
            s += Sums.dot(a, bi * strideA + i * k, b, bi * strideB + j * k, k);
        }
        return s;
    }

    /** Rows {@code i0, i1} × columns {@code j .. j+3} of C. */
    private static void block(float[] a, float[] b, float[] c, int batch, int n, int k, int strideA, int strideB,
                              int accumulate, int i0, int i1, int j, double[] lanes) {
        int kq = k - k % 4;
        double t00 = 0, t01 = 0, t02 = 0, t03 = 0, t10 = 0, t11 = 0, t12 = 0, t13 = 0;
        if (accumulate != 0) {
            t00 = c[i0 * n + j];
            t01 = c[i0 * n + j + 1];
            t02 = c[i0 * n + j + 2];
            t03 = c[i0 * n + j + 3];
            t10 = c[i1 * n + j];
            t11 = c[i1 * n + j + 1];
            t12 = c[i1 * n + j + 2];
            t13 = c[i1 * n + j + 3];
        }
        for (int bi = 0; bi < batch; bi++) {
            int ra = bi * strideA + i0 * k;
            int rb = bi * strideA + i1 * k;
            int b0 = bi * strideB + j * k;
            int b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            DoubleVector s00 = DoubleVector.zero(D), s01 = s00, s02 = s00, s03 = s00;
            DoubleVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int p = 0; p < kq; p += 4) {
                DoubleVector x0 = (DoubleVector) FloatVector.fromArray(F, b, b0 + p).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x1 = (DoubleVector) FloatVector.fromArray(F, b, b1 + p).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x2 = (DoubleVector) FloatVector.fromArray(F, b, b2 + p).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x3 = (DoubleVector) FloatVector.fromArray(F, b, b3 + p).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector u = (DoubleVector) FloatVector.fromArray(F, a, ra + p).convertShape(VectorOperators.F2D, D, 0);
                s00 = u.fma(x0, s00);
                s01 = u.fma(x1, s01);
                s02 = u.fma(x2, s02);
                s03 = u.fma(x3, s03);
                u = (DoubleVector) FloatVector.fromArray(F, a, rb + p).convertShape(VectorOperators.F2D, D, 0);
                s10 = u.fma(x0, s10);
                s11 = u.fma(x1, s11);
                s12 = u.fma(x2, s12);
                s13 = u.fma(x3, s13);
            }
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, 4);
            s02.intoArray(lanes, 8);
            s03.intoArray(lanes, 12);
            s10.intoArray(lanes, 16);
            s11.intoArray(lanes, 20);
            s12.intoArray(lanes, 24);
            s13.intoArray(lanes, 28);
            t00 += combine(lanes, 0, a, ra, b, b0, kq, k);
            t01 += combine(lanes, 4, a, ra, b, b1, kq, k);
            t02 += combine(lanes, 8, a, ra, b, b2, kq, k);
            t03 += combine(lanes, 12, a, ra, b, b3, kq, k);
            t10 += combine(lanes, 16, a, rb, b, b0, kq, k);
            t11 += combine(lanes, 20, a, rb, b, b1, kq, k);
            t12 += combine(lanes, 24, a, rb, b, b2, kq, k);
            t13 += combine(lanes, 28, a, rb, b, b3, kq, k);
        }
        c[i0 * n + j] = (float) t00;
        c[i0 * n + j + 1] = (float) t01;
        c[i0 * n + j + 2] = (float) t02;
        c[i0 * n + j + 3] = (float) t03;
        c[i1 * n + j] = (float) t10;
        c[i1 * n + j + 1] = (float) t11;
        c[i1 * n + j + 2] = (float) t12;
        c[i1 * n + j + 3] = (float) t13;
    }

    /**
     * The four partial sums at {@code lanes[at..at+3]} with the last terms {@code p in [kq, k)} added to the
     * first, combined as {@link Sums#dot} combines them.
     */
    private static double combine(double[] lanes, int at, float[] a, int ra, float[] b, int rb, int kq, int k) {
        double s0 = lanes[at];
        for (int p = kq; p < k; p++) {
            s0 += (double) a[ra + p] * b[rb + p];
        }
        return (s0 + lanes[at + 1]) + (lanes[at + 2] + lanes[at + 3]);
    }
}
