package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variants (Vector API) of {@link DctKernels#passRow} and {@link DctKernels#lowpassRow},
 * which stay the reference and the TornadoVM input. The low-pass mask copies and zeroes whole rows of a thread's
 * range with {@link System#arraycopy} and {@link java.util.Arrays#fill} (the loop's values, bit for bit: a row
 * at a time the per-lane calls cost as much as the copying). Every output {@code out[p, k, i] = Σ_j M[k][j]·in[p, i, j]} is summed as the plain
 * loop sums it: from 0, over j in ascending order, a multiply and an add each rounded (no fused
 * multiply-add), so the result is bit-identical at every vector width.
 *
 * <p>The plain loop takes one input row and four outputs at a time, reducing along j. Here the vectors
 * run along k instead: the table holds M and its transpose, so the column {@code M[k..k+V)[j]} is one
 * contiguous load from the other half, and four input rows times two such blocks of V frequencies are
 * eight independent sums in registers, sharing each column load across four rows and each broadcast
 * input element across two blocks. The frequencies past the last whole pair of blocks take one block at
 * a time, the last one masked (its lanes past w load nothing and are never stored), so a row narrower
 * than a vector (w = 8 at 512 bits) is still one vector per step; rows past the last group of four of a
 * plane in the thread's range go one at a time. The sums are written out transposed
 * ({@code out[p, k, i]}, stride h in k) through a per-thread scratch, lane by lane.
 */
public final class DctVector {
    private static final VectorSpecies<Float> S = VectorMath.FLOAT;
    private static final int V = S.length();

    /** The eight sums of a step, stored to be written out transposed: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * V]);

    private DctVector() {
    }

    /** Lanes {@code [from, to)} of the pass (lane {@code l = p·h + i}): the same values as {@link DctKernels#passRow}. */
    public static void passRows(float[] in, float[] table, int offset, float[] out, int planes, int h, int w, int from, int to) {
        // M[k][j] = table[offset + k·w + j]; the other half holds Mᵀ: M[k][j] = table[cols + j·w + k]
        int cols = offset == 0 ? w * w : 0;
        float[] lanes = LANES.get();
        int l = from;
        while (l < to) {
            int p = l / h;
            int i = l - p * h;
            int rows = Math.min(to - l, h - i);
            if (rows >= 4) {
                fourRows(in, table, cols, out, h, w, p, i, lanes);
                l += 4;
            } else {
                oneRow(in, table, cols, out, h, w, p, i, lanes);
                l++;
            }
        }
    }

    /** Rows {@code i .. i+3} of plane {@code p}. */
    private static void fourRows(float[] in, float[] table, int cols, float[] out, int h, int w, int p, int i, float[] lanes) {
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
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, V);
            a2.intoArray(lanes, 2 * V);
            a3.intoArray(lanes, 3 * V);
            b0.intoArray(lanes, 4 * V);
            b1.intoArray(lanes, 5 * V);
            b2.intoArray(lanes, 6 * V);
            b3.intoArray(lanes, 7 * V);
            transpose(lanes, out, col, h, k, 4, V);
            transpose(lanes, out, col, h, k + V, 4, V, 4 * V);
        }
        for (; k < w; k += V) {
            VectorMask<Float> valid = S.indexInRange(k, w);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            int m = cols + k;
            for (int j = 0; j < w; j++, m += w) {
                FloatVector c0 = FloatVector.fromArray(S, table, m, valid);
                a0 = a0.add(c0.mul(FloatVector.broadcast(S, in[row0 + j])));
                a1 = a1.add(c0.mul(FloatVector.broadcast(S, in[row1 + j])));
                a2 = a2.add(c0.mul(FloatVector.broadcast(S, in[row2 + j])));
                a3 = a3.add(c0.mul(FloatVector.broadcast(S, in[row3 + j])));
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, V);
            a2.intoArray(lanes, 2 * V);
            a3.intoArray(lanes, 3 * V);
            transpose(lanes, out, col, h, k, 4, Math.min(V, w - k));
        }
    }

    /** Row {@code i} of plane {@code p}. */
    private static void oneRow(float[] in, float[] table, int cols, float[] out, int h, int w, int p, int i, float[] lanes) {
        int row = (p * h + i) * w;
        int col = p * w * h + i;
        for (int k = 0; k < w; k += V) {
            VectorMask<Float> valid = S.indexInRange(k, w);
            FloatVector a = FloatVector.zero(S);
            int m = cols + k;
            for (int j = 0; j < w; j++, m += w) {
                a = a.add(FloatVector.fromArray(S, table, m, valid).mul(FloatVector.broadcast(S, in[row + j])));
            }
            a.intoArray(lanes, 0);
            transpose(lanes, out, col, h, k, 1, Math.min(V, w - k));
        }
    }

    /** {@link #transpose(float[], float[], int, int, int, int, int, int)} from the start of {@code lanes}. */
    private static void transpose(float[] lanes, float[] out, int col, int h, int k, int rows, int n) {
        transpose(lanes, out, col, h, k, rows, n, 0);
    }

    /**
     * {@code out[col + r + (k + t)·h] = lanes[at + r·V + t]} for rows {@code r < rows} and frequencies
     * {@code t < n}: a block of sums, row by row in {@code lanes}, written into the transposed output.
     */
    private static void transpose(float[] lanes, float[] out, int col, int h, int k, int rows, int n, int at) {
        for (int r = 0; r < rows; r++) {
            int o = col + r + k * h;
            int src = at + r * V;
            for (int t = 0; t < n; t++, o += h) {
                out[o] = lanes[src + t];
            }
        }
    }

    /** Lanes {@code [from, to)} (lane {@code p·h + u}: row u of plane p) of {@link DctKernels#lowpass}. */
    public static void lowpassRows(float[] x, float[] y, int planes, int h, int w, int k, int from, int to) {
        for (int l = from; l < to; l++) {
            int row = l * w;
            int keep = l % h < k ? k : 0;
            System.arraycopy(x, row, y, row, keep);
            java.util.Arrays.fill(y, row + keep, row + w, 0f);
        }
    }
}
