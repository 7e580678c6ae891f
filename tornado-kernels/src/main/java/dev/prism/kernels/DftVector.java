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

    /** One block's real and imaginary sums, to be written out transposed: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[2 * V]);

    private DftVector() {
    }

    /** Lanes {@code [from, to)} of the pass (lane {@code l = p·h + i}): the same values as {@link DftKernels#passRow}. */
    public static void passRows(float[] in, float[] table, float[] out, int planes, int h, int w, int sign, int mode,
                                int from, int to) {
        boolean complexIn = mode != DftKernels.REAL_TO_COMPLEX;
        boolean complexOut = mode != DftKernels.COMPLEX_TO_REAL;
        int w2 = w * w;
        float sg = sign;
        float[] lanes = LANES.get();
        FloatVector zero = FloatVector.zero(S);
        for (int l = from; l < to; l++) {
            int p = l / h;
            int i = l - p * h;
            int row = l * w;
            for (int k0 = 0; k0 < w; k0 += V) {
                VectorMask<Float> m = S.indexInRange(k0, w);
                FloatVector re = zero, im = zero;
                for (int j = 0; j < w; j++) {
                    FloatVector c = FloatVector.fromArray(S, table, j * w + k0, m);
                    FloatVector s = FloatVector.fromArray(S, table, w2 + j * w + k0, m).mul(sg);
                    float a = complexIn ? in[2 * (row + j)] : in[row + j];
                    float b = complexIn ? in[2 * (row + j) + 1] : 0f;
                    re = re.add(c.mul(a).sub(s.mul(b)));
                    im = im.add(s.mul(a).add(c.mul(b)));
                }
                re.intoArray(lanes, 0);
                im.intoArray(lanes, V);
                int kEnd = Math.min(w, k0 + V);
                for (int k = k0; k < kEnd; k++) {
                    int o = (p * w + k) * h + i;
                    if (complexOut) {
                        out[2 * o] = lanes[k - k0];
                        out[2 * o + 1] = lanes[V + k - k0];
                    } else {
                        out[o] = lanes[k - k0];
                    }
                }
            }
        }
    }
}
