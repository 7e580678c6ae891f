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
 * {@link VectorMath#FLOAT} runs float sums of fused multiply-adds over at most {@value #RUN} terms, each added to
 * that lane's double sum. The batch is taken in groups of items: with {@code s = ⌊k/L⌋} vector steps an item, a
 * group is {@code ⌊RUN/s⌋} items when {@code s ≤ RUN} (one run goes on from item to item), else one item (runs of
 * {@code RUN} steps). Per group the lanes are added left to right, then the group's last {@code k mod L} products of
 * each item in double, and the groups' sums in order; the total is rounded to float once. Within
 * {@value #RUN}·2⁻²⁴ of the terms' absolute sum, plus a double sum's bound and half an ulp, of the exact value
 * ({@code GemmTest}, {@code ReductionAccuracyTest}). The order depends only on the shapes and the vector width:
 * the same bits on every thread count.
 *
 * <p>Why groups: the 1×1 layers of an attention block at 8×8 have {@code k = 64} positions, 4 vector steps at
 * 512 bits; with the lanes converted and added across after every item, that took longer than the products.
 *
 * <p>Micro-kernel: 2 rows of C × 4 columns, 8 float-vector accumulators; 4 rows × 4 columns, 16 accumulators, where
 * vectors have 16 lanes and there are 32 registers ({@link #FOUR}), each element summed the same way. No vector crosses a
 * method call (C2 would box it); a run's sums leave through a per-thread scratch array.
 */
final class GemmSumVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Terms per lane of one float run, before it is added to the lane's double sum. */
    static final int RUN = 32;

    /**
     * True where vectors have 16 lanes (AVX-512's 32 registers): rows of C four at a time ({@link #block4}). The training
     * step's four largest such launches one after the other (Intel Xeon, 2 threads, alternating JVMs, a throwaway
     * harness) 13.6 to 14.6 ms in pairs of rows, 10.9 to 13.3 in fours.
     */
    static final boolean FOUR = L >= 16;

    /** Per thread, reused: the accumulators' float runs (8, or 16 in {@link #block4}), then their double sums. */
    private static final class Scratch {
        final float[] run = new float[16 * L];
        final double[] lanes = new double[16 * L];
        /** The double totals of this thread's rows of C, grown on first use. */
        double[] totals = new double[0];
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
        if (scratch.totals.length < rows * n4) {
            scratch.totals = new double[rows * n4];
        }
        double[] totals = scratch.totals;
        for (int i = from; i < to; i++) {
            for (int j = 0; j < n4; j++) {
                totals[(i - from) * n4 + j] = accumulate != 0 ? c[i * n + j] : 0;
            }
        }
        int steps = k / L;
        int items = steps == 0 ? batch : Math.max(1, RUN / steps);
        // Groups of items outermost: the group's rows of A and B stay in cache while every block of these rows uses
        // them. Each element adds its groups' sums in order, to its double total.
        for (int b0 = 0; b0 < batch; b0 += items) {
            int b1 = Math.min(batch, b0 + items);
            for (int j = 0; j < n4; j += 4) {
                int i = from;
                for (; FOUR && i + 4 <= to; i += 4) {
                    block4(a, b, k, strideA, strideB, b0, b1, i, j, totals, (i - from) * n4, n4, scratch);
                }
                for (; i < to; i += 2) {
                    // an odd last row is computed as both rows of the pair and added once
                    int i1 = i + 1 < to ? i + 1 : i;
                    block(a, b, k, strideA, strideB, b0, b1, i, i1, j, totals, (i - from) * n4, (i1 - from) * n4, scratch);
                }
            }
        }
        for (int i = from; i < to; i++) {
            for (int j = 0; j < n4; j++) {
                c[i * n + j] = (float) totals[(i - from) * n4 + j];
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
     * The batch items {@code [b0, b1)} of rows {@code i0, i1} × columns {@code j .. j+3} of C: each of the eight sums
     * added to its total, {@code totals[t0 + j ..]} for row {@code i0} and {@code totals[t1 + j ..]} for row {@code i1}
     * (once when the two rows are one). A run of a lane takes at most {@value #RUN} steps: the whole group when its
     * items have that few together, else {@code RUN} steps of its one item.
     */
    private static void block(float[] a, float[] b, int k, int strideA, int strideB, int b0, int b1, int i0, int i1, int j,
                              double[] totals, int t0, int t1, Scratch scratch) {
        float[] run = scratch.run;
        double[] lanes = scratch.lanes;
        int kq = k - k % L;
        int span = kq / L <= RUN ? kq : RUN * L;
        // A run's float lanes are added to the double lanes; the first run's replace them (0 + x is x exactly).
        boolean first = true;
        for (int p0 = 0; p0 < kq; p0 += span) {
            int p1 = Math.min(kq, p0 + span);
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
            intoLanes(run, lanes, 8 * L, first);
            first = false;
        }
        if (first) {
            java.util.Arrays.fill(lanes, 0); // k < L: no run
        }
        finish(a, b, k, strideA, strideB, b0, b1, i0, j, lanes, 0, totals, t0 + j);
        if (i1 != i0) {
            finish(a, b, k, strideA, strideB, b0, b1, i1, j, lanes, 4 * L, totals, t1 + j);
        }
    }

    /** A run's {@code count} float lanes into the double lanes: the first run's replace them ({@code 0 + x} is x exactly). */
    private static void intoLanes(float[] run, double[] lanes, int count, boolean first) {
        if (first) {
            for (int l = 0; l < count; l++) {
                lanes[l] = run[l];
            }
        } else {
            for (int l = 0; l < count; l++) {
                lanes[l] += run[l];
            }
        }
    }

    /**
     * The four sums of row {@code i} × columns {@code j .. j+3} whose lanes start at {@code lanes[o]}: each its L lanes left
     * to right, then the group's last {@code k mod L} products of each item, added to {@code totals[t ..]}; the four as
     * independent chains side by side (one after the other, each chain's additions wait on the one before).
     */
    private static void finish(float[] a, float[] b, int k, int strideA, int strideB, int b0, int b1, int i, int j,
                               double[] lanes, int o, double[] totals, int t) {
        int kq = k - k % L;
        double s0 = lanes[o], s1 = lanes[o + L], s2 = lanes[o + 2 * L], s3 = lanes[o + 3 * L];
        for (int l = 1; l < L; l++) {
            s0 += lanes[o + l];
            s1 += lanes[o + L + l];
            s2 += lanes[o + 2 * L + l];
            s3 += lanes[o + 3 * L + l];
        }
        for (int bi = b0; bi < b1; bi++) {
            int ra = bi * strideA + i * k;
            int c0 = bi * strideB + j * k;
            for (int p = kq; p < k; p++) {
                double u = a[ra + p];
                s0 += u * b[c0 + p];
                s1 += u * b[c0 + k + p];
                s2 += u * b[c0 + 2 * k + p];
                s3 += u * b[c0 + 3 * k + p];
            }
        }
        totals[t] += s0;
        totals[t + 1] += s1;
        totals[t + 2] += s2;
        totals[t + 3] += s3;
    }

    /**
     * {@link #block} for four rows {@code i0 .. i0+3} of C, where vectors have 16 lanes (32 registers): 16 accumulators, and
     * per step 4 loads of B and 4 of A for 16 FMAs instead of 4 and 2 for 8, so that each row of A read from the cache
     * serves four columns and each row of B four rows. Each element's sums are {@link #block}'s, in the same order: the
     * same bits. Row {@code i0 + r}'s totals at {@code totals[t0 + r·ts + j ..]}.
     */
    private static void block4(float[] a, float[] b, int k, int strideA, int strideB, int b0, int b1, int i0, int j,
                               double[] totals, int t0, int ts, Scratch scratch) {
        float[] run = scratch.run;
        double[] lanes = scratch.lanes;
        int kq = k - k % L;
        int span = kq / L <= RUN ? kq : RUN * L;
        boolean first = true;
        for (int p0 = 0; p0 < kq; p0 += span) {
            int p1 = Math.min(kq, p0 + span);
            FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
            FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
            FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
            for (int bi = b0; bi < b1; bi++) {
                int r0 = bi * strideA + i0 * k;
                int c0 = bi * strideB + j * k;
                for (int p = p0; p < p1; p += L) {
                    FloatVector x0 = FloatVector.fromArray(F, b, c0 + p);
                    FloatVector x1 = FloatVector.fromArray(F, b, c0 + k + p);
                    FloatVector x2 = FloatVector.fromArray(F, b, c0 + 2 * k + p);
                    FloatVector x3 = FloatVector.fromArray(F, b, c0 + 3 * k + p);
                    FloatVector u = FloatVector.fromArray(F, a, r0 + p);
                    s00 = u.fma(x0, s00);
                    s01 = u.fma(x1, s01);
                    s02 = u.fma(x2, s02);
                    s03 = u.fma(x3, s03);
                    u = FloatVector.fromArray(F, a, r0 + k + p);
                    s10 = u.fma(x0, s10);
                    s11 = u.fma(x1, s11);
                    s12 = u.fma(x2, s12);
                    s13 = u.fma(x3, s13);
                    u = FloatVector.fromArray(F, a, r0 + 2 * k + p);
                    s20 = u.fma(x0, s20);
                    s21 = u.fma(x1, s21);
                    s22 = u.fma(x2, s22);
                    s23 = u.fma(x3, s23);
                    u = FloatVector.fromArray(F, a, r0 + 3 * k + p);
                    s30 = u.fma(x0, s30);
                    s31 = u.fma(x1, s31);
                    s32 = u.fma(x2, s32);
                    s33 = u.fma(x3, s33);
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
            s20.intoArray(run, 8 * L);
            s21.intoArray(run, 9 * L);
            s22.intoArray(run, 10 * L);
            s23.intoArray(run, 11 * L);
            s30.intoArray(run, 12 * L);
            s31.intoArray(run, 13 * L);
            s32.intoArray(run, 14 * L);
            s33.intoArray(run, 15 * L);
            intoLanes(run, lanes, 16 * L, first);
            first = false;
        }
        if (first) {
            java.util.Arrays.fill(lanes, 0); // k < L: no run
        }
        for (int r = 0; r < 4; r++) {
            finish(a, b, k, strideA, strideB, b0, b1, i0 + r, j, lanes, 4 * r * L, totals, t0 + r * ts + j);
        }
    }
}
