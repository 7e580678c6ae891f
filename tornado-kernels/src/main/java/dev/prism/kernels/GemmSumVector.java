package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link GemmKernels#matmulBatchSumRow}, the reduction
 * form of the product that a 1×1 convolution's weight gradient runs on; the plain loop stays the
 * reference and the TornadoVM input. Only {@code op(A) = A}, {@code op(B) = Bᵀ} (both operands contiguous
 * along {@code p}, the weight gradient's shape) is vectorised; other transposes run the plain rows.
 *
 * <p>The same sums in double as the loop ({@link Sums#dot}): floats are loaded and widened to double
 * (exact), and each step is a double FMA, which adds the same exact product the loop's multiply-then-add
 * adds. The partial sums are the lanes of {@link VectorMath#DOUBLE} (the pinned width) instead of the loop's
 * four, then added left to right, followed by the last {@code k mod L} terms: a few double ulps from the
 * loop, rounded to float once, so the same float nearly always and never more than an ulp apart. The
 * order depends only on the shapes and the vector width: the same bits on every thread count.
 *
 * <p>Micro-kernel: 2 rows of C × 4 columns, 8 double-vector accumulators. No vector crosses a method
 * call (C2 would box it); the accumulators' lanes leave through a per-thread scratch array.
 */
final class GemmSumVector {
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    /**
     * The float species of the same width: each float vector widens into two double vectors (parts 0 and 1).
     * No narrower species: a second float vector class in one JVM makes C2 box the vectors of other variants
     * ({@link VectorMath#FLOAT}).
     */
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = D.length();
    /** The float lanes {@code [0, L)}: a load whose second half lies past the terms. */
    private static final VectorMask<Float> FIRST_HALF = F.indexInRange(0, L);

    /** The 8 accumulators' lanes: one array per thread, reused. */
    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[8 * L]);

    private GemmSumVector() {
    }

    /** Rows {@code [from, to)} of {@link GemmKernels#matmulBatchSum}. */
    static void matmulBatchSumRows(float[] a, float[] b, float[] c, int batch, int m, int n, int k, int transA,
                                   int transB, int strideA, int strideB, int accumulate, int from, int to) {
        if (transA != 0 || transB == 0) {
            for (int i = from; i < to; i++) {
                GemmKernels.matmulBatchSumRow(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, accumulate, i);
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
        int kq = k - k % L;
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
            // 2L terms per step, each float vector's two halves in turn: the same FMAs in the same order as
            // L terms per step, then a last half step where kq is an odd number of L
            int p = 0;
            for (; p + 2 * L <= kq; p += 2 * L) {
                FloatVector y0 = FloatVector.fromArray(F, b, b0 + p);
                FloatVector y1 = FloatVector.fromArray(F, b, b1 + p);
                FloatVector y2 = FloatVector.fromArray(F, b, b2 + p);
                FloatVector y3 = FloatVector.fromArray(F, b, b3 + p);
                FloatVector v0 = FloatVector.fromArray(F, a, ra + p);
                FloatVector v1 = FloatVector.fromArray(F, a, rb + p);
                DoubleVector x0 = (DoubleVector) y0.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x1 = (DoubleVector) y1.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x2 = (DoubleVector) y2.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x3 = (DoubleVector) y3.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector u = (DoubleVector) v0.convertShape(VectorOperators.F2D, D, 0);
                s00 = u.fma(x0, s00);
                s01 = u.fma(x1, s01);
                s02 = u.fma(x2, s02);
                s03 = u.fma(x3, s03);
                u = (DoubleVector) v1.convertShape(VectorOperators.F2D, D, 0);
                s10 = u.fma(x0, s10);
                s11 = u.fma(x1, s11);
                s12 = u.fma(x2, s12);
                s13 = u.fma(x3, s13);
                // the part index must be a constant where C2 compiles the conversion: written out twice
                x0 = (DoubleVector) y0.convertShape(VectorOperators.F2D, D, 1);
                x1 = (DoubleVector) y1.convertShape(VectorOperators.F2D, D, 1);
                x2 = (DoubleVector) y2.convertShape(VectorOperators.F2D, D, 1);
                x3 = (DoubleVector) y3.convertShape(VectorOperators.F2D, D, 1);
                u = (DoubleVector) v0.convertShape(VectorOperators.F2D, D, 1);
                s00 = u.fma(x0, s00);
                s01 = u.fma(x1, s01);
                s02 = u.fma(x2, s02);
                s03 = u.fma(x3, s03);
                u = (DoubleVector) v1.convertShape(VectorOperators.F2D, D, 1);
                s10 = u.fma(x0, s10);
                s11 = u.fma(x1, s11);
                s12 = u.fma(x2, s12);
                s13 = u.fma(x3, s13);
            }
            if (p < kq) {
                DoubleVector x0 = (DoubleVector) FloatVector.fromArray(F, b, b0 + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x1 = (DoubleVector) FloatVector.fromArray(F, b, b1 + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x2 = (DoubleVector) FloatVector.fromArray(F, b, b2 + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector x3 = (DoubleVector) FloatVector.fromArray(F, b, b3 + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                DoubleVector u = (DoubleVector) FloatVector.fromArray(F, a, ra + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                s00 = u.fma(x0, s00);
                s01 = u.fma(x1, s01);
                s02 = u.fma(x2, s02);
                s03 = u.fma(x3, s03);
                u = (DoubleVector) FloatVector.fromArray(F, a, rb + p, FIRST_HALF).convertShape(VectorOperators.F2D, D, 0);
                s10 = u.fma(x0, s10);
                s11 = u.fma(x1, s11);
                s12 = u.fma(x2, s12);
                s13 = u.fma(x3, s13);
            }
            s00.intoArray(lanes, 0);
            s01.intoArray(lanes, 1 * L);
            s02.intoArray(lanes, 2 * L);
            s03.intoArray(lanes, 3 * L);
            s10.intoArray(lanes, 4 * L);
            s11.intoArray(lanes, 5 * L);
            s12.intoArray(lanes, 6 * L);
            s13.intoArray(lanes, 7 * L);
            t00 += combine(lanes, 0, a, ra, b, b0, kq, k);
            t01 += combine(lanes, 1 * L, a, ra, b, b1, kq, k);
            t02 += combine(lanes, 2 * L, a, ra, b, b2, kq, k);
            t03 += combine(lanes, 3 * L, a, ra, b, b3, kq, k);
            t10 += combine(lanes, 4 * L, a, rb, b, b0, kq, k);
            t11 += combine(lanes, 5 * L, a, rb, b, b1, kq, k);
            t12 += combine(lanes, 6 * L, a, rb, b, b2, kq, k);
            t13 += combine(lanes, 7 * L, a, rb, b, b3, kq, k);
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

    /** The {@code L} partial sums at {@code lanes[at..]} added left to right, then the last terms {@code p in [kq, k)}. */
    private static double combine(double[] lanes, int at, float[] a, int ra, float[] b, int rb, int kq, int k) {
        double s = lanes[at];
        for (int l = 1; l < L; l++) {
            s += lanes[at + l];
        }
        for (int p = kq; p < k; p++) {
            s += (double) a[ra + p] * b[rb + p];
        }
        return s;
    }
}
