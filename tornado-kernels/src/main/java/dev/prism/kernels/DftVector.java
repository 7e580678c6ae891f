package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link DftKernels#passRow}, which stays the reference and the TornadoVM
 * input. The vectors run along the frequency k instead of the loop's scalar k: the table is symmetric
 * ({@code t[k·n + j]} depends on {@code k·j mod n} only), so the frequencies {@code k..k+V} of input element j are the
 * contiguous {@code t[j·n + k ..]}. Each output takes the loop's operations in the loop's order: over j ascending,
 * {@code re += a·c − b·s}, {@code im += a·s + b·c}, each product and sum rounded, no fused multiply-add (a real input
 * has b = 0, as in the loop): the same bits at every width. The last block of frequencies is masked (a row narrower
 * than a vector is one masked block). The sums are written out transposed, stride h, through a per-thread scratch.
 * The loop's serial sums were latency-bound: the 2-D DFT of 64 32×32 images took 6 times PyTorch's FFT.
 */
public final class DftVector {
    private static final VectorSpecies<Float> S = VectorMath.FLOAT;
    private static final int V = S.length();

    /** Two rows' blocks of real and imaginary sums, to be written out transposed: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[4 * V]);

    private DftVector() {
    }

    /** Lanes {@code [from, to)} of the pass (lane {@code l = p·h + i}): the same values as {@link DftKernels#passRow}. */
    public static void passRows(float[] in, float[] table, float[] out, int planes, int h, int w, int sign, int mode,
                                int from, int to) {
        boolean complexIn = mode != DftKernels.REAL_TO_COMPLEX;
        boolean complexOut = mode != DftKernels.COMPLEX_TO_REAL;
        float[] lanes = LANES.get();
        int l = from;
        // two rows at a time share each table load
        for (; l + 1 < to; l += 2) {
            for (int k0 = 0; k0 < w; k0 += V) {
                block2(in, table, w, sign, complexIn, l, l + 1, k0, lanes);
                store(lanes, 0, out, h, w, complexOut, l, k0);
                store(lanes, 2 * V, out, h, w, complexOut, l + 1, k0);
            }
        }
        if (l < to) {
            for (int k0 = 0; k0 < w; k0 += V) {
                block2(in, table, w, sign, complexIn, l, l, k0, lanes);   // the second row is the same row, not stored
                store(lanes, 0, out, h, w, complexOut, l, k0);
            }
        }
    }

    /**
     * Frequencies {@code k0 ..} of rows {@code l} and {@code l1} ({@code l + 1}, or {@code l} again at the end of a range): their
     * real and imaginary sums into {@code lanes[0, V)}, {@code [V, 2V)}, {@code [2V, 3V)}, {@code [3V, 4V)}. With
     * {@code sign = −1} the loop's {@code a·c − b·(−s)} and {@code a·(−s) + b·c} are written as {@code a·c + b·s} and
     * {@code b·c − a·s}: the same exact values, each rounded once, so the same bits without negating the table.
     */
    private static void block2(float[] in, float[] table, int w, int sign, boolean complexIn, int l, int l1, int k0,
                               float[] lanes) {
        int w2 = w * w;
        VectorMask<Float> m = S.indexInRange(k0, w);
        FloatVector re0 = FloatVector.zero(S), im0 = re0, re1 = re0, im1 = re0;
        int row0 = l * w, row1 = l1 * w;
        for (int j = 0; j < w; j++) {
            FloatVector c = FloatVector.fromArray(S, table, j * w + k0, m);
            FloatVector s = FloatVector.fromArray(S, table, w2 + j * w + k0, m);
            float a0 = complexIn ? in[2 * (row0 + j)] : in[row0 + j];
            float b0 = complexIn ? in[2 * (row0 + j) + 1] : 0f;
            float a1 = complexIn ? in[2 * (row1 + j)] : in[row1 + j];
            float b1 = complexIn ? in[2 * (row1 + j) + 1] : 0f;
            if (sign > 0) {
                re0 = re0.add(c.mul(a0).sub(s.mul(b0)));
                im0 = im0.add(s.mul(a0).add(c.mul(b0)));
                re1 = re1.add(c.mul(a1).sub(s.mul(b1)));
                im1 = im1.add(s.mul(a1).add(c.mul(b1)));
            } else {
                re0 = re0.add(c.mul(a0).add(s.mul(b0)));
                im0 = im0.add(c.mul(b0).sub(s.mul(a0)));
                re1 = re1.add(c.mul(a1).add(s.mul(b1)));
                im1 = im1.add(c.mul(b1).sub(s.mul(a1)));
            }
        }
        re0.intoArray(lanes, 0);
        im0.intoArray(lanes, V);
        re1.intoArray(lanes, 2 * V);
        im1.intoArray(lanes, 3 * V);
    }

    /** Writes a block's sums (at {@code lanes[at ..]}: real, then imaginary) to row {@code l}'s outputs, transposed. */
    private static void store(float[] lanes, int at, float[] out, int h, int w, boolean complexOut, int l, int k0) {
        int p = l / h;
        int i = l - p * h;
        int kEnd = Math.min(w, k0 + V);
        for (int k = k0; k < kEnd; k++) {
            int o = (p * w + k) * h + i;
            if (complexOut) {
                out[2 * o] = lanes[at + k - k0];
                out[2 * o + 1] = lanes[at + V + k - k0];
            } else {
                out[o] = lanes[at + k - k0];
            }
        }
    }
}
