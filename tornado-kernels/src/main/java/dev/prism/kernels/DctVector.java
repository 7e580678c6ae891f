package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link DctKernels#passRow}, which stays the reference and
 * the TornadoVM input. Every output {@code out[p, k, i] = Σ_j M[k][j]·in[p, i, j]} is summed as the plain
 * loop sums it: from 0, over j in ascending order, a multiply and an add each rounded (no fused
 * multiply-add), so the result is bit-identical.
 *
 * <p>The plain loop takes one input row and four outputs at a time, reducing along j. Here the vectors
 * run along k instead: the table holds M and its transpose, so the column {@code M[k..k+V)[j]} is one
 * contiguous load from the other half, and four input rows times two such blocks of V frequencies are
 * eight independent sums in registers, sharing each column load across four rows and each broadcast
 * input element across two blocks. The output is written transposed ({@code out[p, k, i]}, stride h in
 * k), lane by lane. Frequencies past the last whole pair of blocks, and rows past the last group of four
 * of a plane in the thread's range, take the plain loop's scalar sums.
 */
public final class DctVector {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int V = S.length();

    private DctVector() {
    }

    /** Lanes {@code [from, to)} of the pass (lane {@code l = p·h + i}): the same values as {@link DctKernels#passRow}. */
    public static void passRows(float[] in, float[] table, int offset, float[] out, int h, int w, int from, int to) {
        // M[k][j] = table[offset + k·w + j]; the other half holds Mᵀ: M[k][j] = table[cols + j·w + k]
        int cols = offset == 0 ? w * w : 0;
        int l = from;
        while (l < to) {
            int p = l / h;
            int i = l - p * h;
            int rows = Math.min(to - l, h - i);
            if (rows >= 4) {
                fourRows(in, table, offset, cols, out, h, w, p, i);
                l += 4;
            } else {
                oneRow(in, table, offset, cols, out, h, w, p, i);
                l++;
            }
        }
    }

    /** Rows {@code i .. i+3} of plane {@code p}. */
    private static void fourRows(float[] in, float[] table, int offset, int cols, float[] out, int h, int w, int p, int i) {
        int row0 = (p * h + i) * w;
        int row1 = row0 + w, row2 = row1 + w, row3 = row2 + w;
        int col = p * w * h + i;
        int k = 0;
        for (; k + 2 * V <= w; k += 2 * V) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int m = cols + k;
            for (int j = 0; j < w; j++, m += w) {
                FloatVector c0 = FloatVector.fromArray(S, table, m);
                FloatVector c1 = FloatVector.fromArray(S, table, m + V);
                FloatVector x0 = FloatVector.broadcast(S, in[row0 + j]);
                FloatVector x1 = FloatVector.broadcast(S, in[row1 + j]);
                FloatVector x2 = FloatVector.broadcast(S, in[row2 + j]);
                FloatVector x3 = FloatVector.broadcast(S, in[row3 + j]);
                a0 = a0.add(c0.mul(x0));
                a1 = a1.add(c0.mul(x1));
                a2 = a2.add(c0.mul(x2));
                a3 = a3.add(c0.mul(x3));
                b0 = b0.add(c1.mul(x0));
                b1 = b1.add(c1.mul(x1));
                b2 = b2.add(c1.mul(x2));
                b3 = b3.add(c1.mul(x3));
            }
            store(out, col + k * h, h, a0);
            store(out, col + 1 + k * h, h, a1);
            store(out, col + 2 + k * h, h, a2);
            store(out, col + 3 + k * h, h, a3);
            store(out, col + (k + V) * h, h, b0);
            store(out, col + 1 + (k + V) * h, h, b1);
            store(out, col + 2 + (k + V) * h, h, b2);
            store(out, col + 3 + (k + V) * h, h, b3);
        }
        for (int r = 0; r < 4; r++) {
            scalar(in, table, offset, out, h, w, row0 + r * w, col + r, k);
        }
    }

    /** Row {@code i} of plane {@code p}. */
    private static void oneRow(float[] in, float[] table, int offset, int cols, float[] out, int h, int w, int p, int i) {
        int row = (p * h + i) * w;
        int col = p * w * h + i;
        int k = 0;
        for (; k + V <= w; k += V) {
            FloatVector a = FloatVector.zero(S);
            int m = cols + k;
            for (int j = 0; j < w; j++, m += w) {
                a = a.add(FloatVector.fromArray(S, table, m).mul(FloatVector.broadcast(S, in[row + j])));
            }
            store(out, col + k * h, h, a);
        }
        scalar(in, table, offset, out, h, w, row, col, k);
    }

    /** Frequencies {@code [k0, w)} of one row, as the plain loop sums them. */
    private static void scalar(float[] in, float[] table, int offset, float[] out, int h, int w, int row, int col, int k0) {
        for (int k = k0; k < w; k++) {
            int m = offset + k * w;
            float s = 0f;
            for (int j = 0; j < w; j++) {
                s += table[m + j] * in[row + j];
            }
            out[col + k * h] = s;
        }
    }

    /** {@code out[o + t·stride] = a[t]} for the V lanes. */
    private static void store(float[] out, int o, int stride, FloatVector a) {
        out[o] = a.lane(0);
        out[o + 1 * stride] = a.lane(1);
        out[o + 2 * stride] = a.lane(2);
        out[o + 3 * stride] = a.lane(3);
        out[o + 4 * stride] = a.lane(4);
        out[o + 5 * stride] = a.lane(5);
        out[o + 6 * stride] = a.lane(6);
        out[o + 7 * stride] = a.lane(7);
    }
}
