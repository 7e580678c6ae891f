package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link GemmKernels#matmulBatchSumRow}, the reduction
 * form of the product that a 1×1 convolution's weight gradient runs on; the plain loop stays the
 * reference and the TornadoVM input. Only {@code op(A) = A}, {@code op(B) = Bᵀ} (both operands contiguous
 * along {@code p}, the weight gradient's shape) is vectorised; other transposes run the plain rows.
 *
 * <p>Summation ({@code docs/KERNELS.md}, long sums), as {@link Conv2dWeightGradVector}'s: each lane of
 * {@link VectorMath#FLOAT} runs a float sum of fused multiply-adds over at most {@value #RUN} terms, which is
 * added to that lane's double sum; per batch item the lanes are added left to right, then the last
 * {@code k mod L} products in double, and the items' sums in order; the total is rounded to float once. Within
 * {@value #RUN}·2⁻²⁴ of the terms' absolute sum, plus a double sum's bound and half an ulp, of the exact value
 * ({@code GemmTest}, {@code ReductionAccuracyTest}). The order depends only on the shapes and the vector width:
 * the same bits on every thread count.
 *
 * <p>Micro-kernel: 2 rows of C × 4 columns, 8 float-vector accumulators. No vector crosses a method
 * call (C2 would box it); a run's sums leave through a per-thread scratch array.
 */
final class GemmSumVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Terms per lane of one float run, before it is added to the lane's double sum. */
    static final int RUN = 32;

    /** Per thread, reused: the 8 accumulators' float runs, then their double sums. */
    private static final class Scratch {
        final float[] run = new float[8 * L];
        final double[] lanes = new double[8 * L];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

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
        Scratch scratch = SCRATCH.get();
        int n4 = n - n % 4;
        for (int i = from; i < to; i += 2) {
            // an odd last row is computed as both rows of the pair and stored once
            int i1 = i + 1 < to ? i + 1 : i;
            for (int j = 0; j < n4; j += 4) {
                block(a, b, c, batch, n, k, strideA, strideB, accumulate, i, i1, j, scratch);
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
                              int accumulate, int i0, int i1, int j, Scratch scratch) {
        float[] run = scratch.run;
        double[] lanes = scratch.lanes;
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
            java.util.Arrays.fill(lanes, 0);
            for (int p0 = 0; p0 < kq; p0 += RUN * L) {
                int p1 = Math.min(kq, p0 + RUN * L);
                FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
                FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
                for (int p = p0; p < p1; p += L) {
                    FloatVector x0 = FloatVector.fromArray(F, b, b0 + p);
                    FloatVector x1 = FloatVector.fromArray(F, b, b1 + p);
                    FloatVector x2 = FloatVector.fromArray(F, b, b2 + p);
                    FloatVector x3 = FloatVector.fromArray(F, b, b3 + p);
                    FloatVector u = FloatVector.fromArray(F, a, ra + p);
                    s00 = u.fma(x0, s00);
                    s01 = u.fma(x1, s01);
                    s02 = u.fma(x2, s02);
                    s03 = u.fma(x3, s03);
                    u = FloatVector.fromArray(F, a, rb + p);
                    s10 = u.fma(x0, s10);
                    s11 = u.fma(x1, s11);
                    s12 = u.fma(x2, s12);
                    s13 = u.fma(x3, s13);
                }
                s00.intoArray(run, 0);
                s01.intoArray(run, L);
                s02.intoArray(run, 2 * L);
                s03.intoArray(run, 3 * L);
                s10.intoArray(run, 4 * L);
                s11.intoArray(run, 5 * L);
                s12.intoArray(run, 6 * L);
                s13.intoArray(run, 7 * L);
                for (int l = 0; l < 8 * L; l++) {
                    lanes[l] += run[l];
                }
            }
            t00 += combine(lanes, 0, a, ra, b, b0, kq, k);
            t01 += combine(lanes, L, a, ra, b, b1, kq, k);
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
