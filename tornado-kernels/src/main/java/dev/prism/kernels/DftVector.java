package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link DftKernels#passRow}, which stays the reference and the TornadoVM
 * input. The vectors run along the frequency k instead of the loop's scalar k: the table is symmetric
 * ({@code t[k·n + j]} depends on {@code k·j mod n} only), so the frequencies {@code k..k+V} of input element j are the
 * contiguous {@code t[j·n + k ..]}. Two rows at a time share each table load. The last block of frequencies is masked
 * (a row narrower than a vector is one masked block). The sums are written out transposed, stride h, through a
 * per-thread scratch. The loop's serial sums were latency-bound: the 2-D DFT of 64 32×32 images took 6 times PyTorch's
 * FFT.
 *
 * <p>Arithmetic, over j ascending for every output:
 * <ul>
 *   <li>real input ({@link DftKernels#REAL_TO_COMPLEX}, the forward's first pass): the loop's operations,
 *       {@code re += a·c − b·s}, {@code im += a·s + b·c}, each product and sum rounded, b = 0 as in the loop: the loop's
 *       bits;</li>
 *   <li>complex input (the forward's second pass, both passes of the backward): each term two fused multiply-adds on
 *       its sum, {@code re ← fma(−s, b, fma(c, a, re))}, {@code im ← fma(c, b, fma(s, a, im))} for {@code sign = +1}
 *       ({@code re ← fma(s, b, fma(c, a, re))}, {@code im ← fma(−s, a, fma(c, b, im))} for −1): two roundings a term
 *       instead of the loop's four, so not the loop's bits but within the shared tolerance of them, and the same
 *       operations in every lane, so the same bits at every width and thread count. Whole vectors of frequencies run
 *       two at a time (eight sums of two rows, so that the FMA chains overlap); a pass that writes the real part only
 *       ({@link DftKernels#COMPLEX_TO_REAL}, the backward's last) leaves out the imaginary sums. The backward of 64
 *       32×32 images, both sides held to AVX2 (256 bits) on the Intel Xeon, median of three JVMs: 0.51 ms (1.72 times
 *       PyTorch's FFT) with the loop's operations, 0.32 to 0.40 ms (0.94 to 1.29 times) in four runs this way; at 512
 *       bits 0.21 to 0.27 ms (0.61 to 0.85 times; docs/BENCHMARKS.md).</li>
 * </ul>
 */
public final class DftVector {
    private static final VectorSpecies<Float> S = VectorMath.FLOAT;
    private static final int V = S.length();

    /** Two rows' blocks (up to two each) of real and imaginary sums, to be written out transposed: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * V]);

    private DftVector() {
    }

    /** Lanes {@code [from, to)} of the pass (lane {@code l = p·h + i}): {@link DftKernels#passRow}'s values. */
    public static void passRows(float[] in, float[] table, float[] out, int planes, int h, int w, int sign, int mode,
                                int from, int to) {
        boolean complexIn = mode != DftKernels.REAL_TO_COMPLEX;
        boolean complexOut = mode != DftKernels.COMPLEX_TO_REAL;
        float[] lanes = LANES.get();
        int l = from;
        while (l < to) {
            // two rows, or at the end of a range the last row twice (its second copy not stored)
            int l1 = l + 1 < to ? l + 1 : l;
            int k0 = 0;
            if (complexIn) {
                for (; k0 + 2 * V <= w; k0 += 2 * V) {
                    complexPair(in, table, w, sign, complexOut, l, l1, k0, lanes);
                    store(lanes, 0, out, h, w, complexOut, l, k0);
                    store(lanes, 4 * V, out, h, w, complexOut, l, k0 + V);
                    if (l1 != l) {
                        store(lanes, 2 * V, out, h, w, complexOut, l1, k0);
                        store(lanes, 6 * V, out, h, w, complexOut, l1, k0 + V);
                    }
                }
                for (; k0 < w; k0 += V) {
                    complexBlock(in, table, w, sign, complexOut, l, l1, k0, lanes);
                    store(lanes, 0, out, h, w, complexOut, l, k0);
                    if (l1 != l) {
                        store(lanes, 2 * V, out, h, w, complexOut, l1, k0);
                    }
                }
            } else {
                for (; k0 < w; k0 += V) {
                    realBlock(in, table, w, sign, l, l1, k0, lanes);
                    store(lanes, 0, out, h, w, complexOut, l, k0);
                    if (l1 != l) {
                        store(lanes, 2 * V, out, h, w, complexOut, l1, k0);
                    }
                }
            }
            l = l1 + 1;
        }
    }

    /**
     * Frequencies {@code k0 ..} of the real rows {@code l} and {@code l1}, the loop's operations: their real and imaginary
     * sums into {@code lanes[0, V)}, {@code [V, 2V)}, {@code [2V, 3V)}, {@code [3V, 4V)}. With {@code sign = −1} the loop's
     * {@code a·c − b·(−s)} and {@code a·(−s) + b·c} are written as {@code a·c + b·s} and {@code b·c − a·s}: the same exact
     * values, each rounded once, so the same bits without negating the table.
     */
    private static void realBlock(float[] in, float[] table, int w, int sign, int l, int l1, int k0, float[] lanes) {
        int w2 = w * w;
        VectorMask<Float> m = S.indexInRange(k0, w);
        boolean whole = k0 + V <= w;
        FloatVector re0 = FloatVector.zero(S), im0 = re0, re1 = re0, im1 = re0;
        int row0 = l * w, row1 = l1 * w;
        float b0 = 0f, b1 = 0f;
        for (int j = 0; j < w; j++) {
            FloatVector c = whole ? FloatVector.fromArray(S, table, j * w + k0) : FloatVector.fromArray(S, table, j * w + k0, m);
            FloatVector s = whole ? FloatVector.fromArray(S, table, w2 + j * w + k0)
                    : FloatVector.fromArray(S, table, w2 + j * w + k0, m);
            float a0 = in[row0 + j];
            float a1 = in[row1 + j];
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

    /**
     * Frequencies {@code k0 ..} (a vector of them, the last ones masked) of the complex rows {@code l} and {@code l1} by
     * fused multiply-adds, into {@link #realBlock}'s places (with {@code complexOut} false the imaginary sums are not
     * computed).
     */
    private static void complexBlock(float[] in, float[] table, int w, int sign, boolean complexOut, int l, int l1, int k0,
                                     float[] lanes) {
        int w2 = w * w;
        VectorMask<Float> m = S.indexInRange(k0, w);
        FloatVector re0 = FloatVector.zero(S), im0 = re0, re1 = re0, im1 = re0;
        int row0 = 2 * l * w, row1 = 2 * l1 * w;
        for (int j = 0; j < w; j++) {
            FloatVector c = FloatVector.fromArray(S, table, j * w + k0, m);
            FloatVector s = FloatVector.fromArray(S, table, w2 + j * w + k0, m);
            FloatVector a0 = FloatVector.broadcast(S, in[row0 + 2 * j]);
            FloatVector b0 = FloatVector.broadcast(S, in[row0 + 2 * j + 1]);
            FloatVector a1 = FloatVector.broadcast(S, in[row1 + 2 * j]);
            FloatVector b1 = FloatVector.broadcast(S, in[row1 + 2 * j + 1]);
            if (sign > 0) {
                re0 = s.neg().fma(b0, c.fma(a0, re0));
                re1 = s.neg().fma(b1, c.fma(a1, re1));
                if (complexOut) {
                    im0 = c.fma(b0, s.fma(a0, im0));
                    im1 = c.fma(b1, s.fma(a1, im1));
                }
            } else {
                re0 = s.fma(b0, c.fma(a0, re0));
                re1 = s.fma(b1, c.fma(a1, re1));
                if (complexOut) {
                    im0 = s.neg().fma(a0, c.fma(b0, im0));
                    im1 = s.neg().fma(a1, c.fma(b1, im1));
                }
            }
        }
        re0.intoArray(lanes, 0);
        im0.intoArray(lanes, V);
        re1.intoArray(lanes, 2 * V);
        im1.intoArray(lanes, 3 * V);
    }

    /**
     * {@link #complexBlock}'s operations on two whole vectors of frequencies, {@code k0 ..} into {@code lanes[0, 4V)} and
     * {@code k0 + V ..} into {@code lanes[4V, 8V)}, each in {@link #realBlock}'s order (row l real, imaginary, row l1
     * real, imaginary; with {@code complexOut} false the imaginary sums are not computed).
     */
    private static void complexPair(float[] in, float[] table, int w, int sign, boolean complexOut, int l, int l1, int k0,
                                    float[] lanes) {
        int w2 = w * w;
        FloatVector re0 = FloatVector.zero(S), im0 = re0, re1 = re0, im1 = re0, re2 = re0, im2 = re0, re3 = re0, im3 = re0;
        int row0 = 2 * l * w, row1 = 2 * l1 * w;
        for (int j = 0; j < w; j++) {
            FloatVector c = FloatVector.fromArray(S, table, j * w + k0);
            FloatVector s = FloatVector.fromArray(S, table, w2 + j * w + k0);
            FloatVector d = FloatVector.fromArray(S, table, j * w + k0 + V);
            FloatVector t = FloatVector.fromArray(S, table, w2 + j * w + k0 + V);
            FloatVector a0 = FloatVector.broadcast(S, in[row0 + 2 * j]);
            FloatVector b0 = FloatVector.broadcast(S, in[row0 + 2 * j + 1]);
            FloatVector a1 = FloatVector.broadcast(S, in[row1 + 2 * j]);
            FloatVector b1 = FloatVector.broadcast(S, in[row1 + 2 * j + 1]);
            if (sign > 0) {
                re0 = s.neg().fma(b0, c.fma(a0, re0));
                re1 = s.neg().fma(b1, c.fma(a1, re1));
                re2 = t.neg().fma(b0, d.fma(a0, re2));
                re3 = t.neg().fma(b1, d.fma(a1, re3));
                if (complexOut) {
                    im0 = c.fma(b0, s.fma(a0, im0));
                    im1 = c.fma(b1, s.fma(a1, im1));
                    im2 = d.fma(b0, t.fma(a0, im2));
                    im3 = d.fma(b1, t.fma(a1, im3));
                }
            } else {
                re0 = s.fma(b0, c.fma(a0, re0));
                re1 = s.fma(b1, c.fma(a1, re1));
                re2 = t.fma(b0, d.fma(a0, re2));
                re3 = t.fma(b1, d.fma(a1, re3));
                if (complexOut) {
                    im0 = s.neg().fma(a0, c.fma(b0, im0));
                    im1 = s.neg().fma(a1, c.fma(b1, im1));
                    im2 = t.neg().fma(a0, d.fma(b0, im2));
                    im3 = t.neg().fma(a1, d.fma(b1, im3));
                }
            }
        }
        re0.intoArray(lanes, 0);
        im0.intoArray(lanes, V);
        re1.intoArray(lanes, 2 * V);
        im1.intoArray(lanes, 3 * V);
        re2.intoArray(lanes, 4 * V);
        im2.intoArray(lanes, 5 * V);
        re3.intoArray(lanes, 6 * V);
        im3.intoArray(lanes, 7 * V);
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
