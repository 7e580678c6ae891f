package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link GemmKernels#matmulBatchSumRow}, the reduction
 * form of the product that a 1×1 convolution's weight gradient runs on; the plain loop stays the
 * reference and the TornadoVM input. Only {@code op(A) = A}, {@code op(B) = Bᵀ} (both operands contiguous
 * along {@code p}, the weight gradient's shape) is vectorised; other transposes run the plain rows.
 *
 * <p>Summation ({@code docs/KERNELS.md}, long sums), as {@link Conv2dWeightGradVector}'s: each element of C has
 * {@link VectorMath#FLOAT}'s lane count of double sums, one per lane, and each lane runs float sums of fused
 * multiply-adds over at most {@value #RUN} terms, each added to that lane's double sum. A run goes on from one
 * batch item to the next while it has room: with {@code s = ⌊k/L⌋} vector steps an item, a run takes
 * {@code ⌊RUN/s⌋} whole items when {@code s ≤ RUN}, else {@code RUN} steps of one item. The last {@code k mod L}
 * products of each item are summed in double apart. At the end the old value (when accumulating), the lanes left to
 * right and those products' sum are added, and the total is rounded to float once. Within
 * {@value #RUN}·2⁻²⁴ of the terms' absolute sum, plus a double sum's bound and half an ulp, of the exact value
 * ({@code GemmTest}, {@code ReductionAccuracyTest}). The order depends only on the shapes and the vector width:
 * the same bits on every thread count.
 *
 * <p>Why runs across items: the 1×1 layers of an attention block at 8×8 have {@code k = 64} positions, 4 vector
 * steps at 512 bits; a run per item converted and reduced its eight sums to double after every 4 steps, which took
 * longer than the products.
 *
 * <p>Micro-kernel: 2 rows of C × 4 columns, 8 float-vector accumulators. No vector crosses a method
 * call (C2 would box it); a run's sums leave through a per-thread scratch array.
 */
final class GemmSumVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Terms per lane of one float run, before it is added to the lane's double sum. */
    static final int RUN = 32;

    /** Per thread, reused: the 8 accumulators' float runs, then the double sums of this thread's rows, grown on first use. */
    private static final class Scratch {
        final float[] run = new float[8 * L];
        /** Per element of this thread's rows × the first n − n mod 4 columns: L lane sums. */
        double[] lanes = new double[0];
        /** Per such element: the sum of the products past the last whole vector of each item. */
        double[] tails = new double[0];
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
        int rows = to - from;
        int elements = rows * n4;
        if (scratch.lanes.length < elements * L) {
            scratch.lanes = new double[elements * L];
            scratch.tails = new double[elements];
        }
        double[] lanes = scratch.lanes;
        double[] tails = scratch.tails;
        java.util.Arrays.fill(lanes, 0, elements * L, 0);
        java.util.Arrays.fill(tails, 0, elements, 0);
        int kq = k - k % L;
        int steps = kq / L;
        // A run: items [b0, b1) over positions [p0, p1) of each; whole items while they fit in RUN steps
        int items = steps == 0 ? batch : Math.max(1, RUN / steps);
        int span = steps <= RUN ? kq : RUN * L;
        for (int b0 = 0; b0 < batch; b0 += items) {
            int b1 = Math.min(batch, b0 + items);
            for (int p0 = 0; p0 < kq; p0 += span) {
                int p1 = Math.min(kq, p0 + span);
                // Columns outermost: the run's four rows of B per item stay in cache while every row pair uses them.
                for (int j = 0; j < n4; j += 4) {
                    for (int i = from; i < to; i += 2) {
                        // an odd last row is computed as both rows of the pair and added once
                        int i1 = i + 1 < to ? i + 1 : i;
                        block(a, b, k, strideA, strideB, b0, b1, p0, p1, i, i1, j, lanes,
                                ((i - from) * n4 + j) * L, ((i1 - from) * n4 + j) * L, scratch.run);
                    }
                }
            }
            if (kq < k) {
                for (int bi = b0; bi < b1; bi++) {
                    for (int i = from; i < to; i++) {
                        int ra = bi * strideA + i * k;
                        for (int j = 0; j < n4; j++) {
                            int rb = bi * strideB + j * k;
                            double s = tails[(i - from) * n4 + j];
                            for (int p = kq; p < k; p++) {
                                s += (double) a[ra + p] * b[rb + p];
                            }
                            tails[(i - from) * n4 + j] = s;
                        }
                    }
                }
            }
        }
        for (int i = from; i < to; i++) {
            for (int j = 0; j < n4; j++) {
                int e = (i - from) * n4 + j;
                double s = accumulate != 0 ? c[i * n + j] : 0;
                for (int l = 0; l < L; l++) {
                    s += lanes[e * L + l];
                }
                c[i * n + j] = (float) (s + tails[e]);
            }
            for (int j = n4; j < n; j++) {
                c[i * n + j] = (float) column(a, b, c, batch, n, k, strideA, strideB, accumulate, i, j);
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

    /**
     * One run, items {@code [b0, b1)} over positions {@code [p0, p1)} of each, of rows {@code i0, i1} × columns
     * {@code j .. j+3} of C: each of the eight float sums added lane by lane to its element's double lanes,
     * {@code lanes[l0 + q·L ..]} for row {@code i0}, column {@code j + q} and {@code lanes[l1 + q·L ..]} for row
     * {@code i1} (once when the two rows are one).
     */
    private static void block(float[] a, float[] b, int k, int strideA, int strideB, int b0, int b1, int p0, int p1,
                              int i0, int i1, int j, double[] lanes, int l0, int l1, float[] run) {
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        for (int bi = b0; bi < b1; bi++) {
            int ra = bi * strideA + i0 * k;
            int rb = bi * strideA + i1 * k;
            int c0 = bi * strideB + j * k;
            int c1 = c0 + k, c2 = c1 + k, c3 = c2 + k;
            for (int p = p0; p < p1; p += L) {
                FloatVector x0 = FloatVector.fromArray(F, b, c0 + p);
                FloatVector x1 = FloatVector.fromArray(F, b, c1 + p);
                FloatVector x2 = FloatVector.fromArray(F, b, c2 + p);
                FloatVector x3 = FloatVector.fromArray(F, b, c3 + p);
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
        }
        s00.intoArray(run, 0);
        s01.intoArray(run, L);
        s02.intoArray(run, 2 * L);
        s03.intoArray(run, 3 * L);
        s10.intoArray(run, 4 * L);
        s11.intoArray(run, 5 * L);
        s12.intoArray(run, 6 * L);
        s13.intoArray(run, 7 * L);
        for (int l = 0; l < 4 * L; l++) {
            lanes[l0 + l] += run[l];
        }
        if (i1 != i0) {
            for (int l = 0; l < 4 * L; l++) {
                lanes[l1 + l] += run[4 * L + l];
            }
        }
    }
}
