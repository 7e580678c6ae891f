package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant of {@link AttentionKernels#softmaxRow} (Vector API), run by the JVM
 * backend's parallel mode; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>Same three passes as the loop: the row maximum of {@code scale·s} (exact in any order), then
 * {@code e = exp(scale·s − max)} stored and summed, then the scaling by {@code 1/sum}. Two things differ,
 * both within the shared tolerance: the exponential is {@link VectorMath#exp(FloatVector)}, a polynomial in
 * plain float arithmetic accurate to about 2 ulp instead of {@code (float) Math.exp}, and the sum is kept as 8 partial
 * sums added left to right at the end. The Vector API's own {@code EXP} is not used on purpose: C2 calls
 * a vector math library for it while the interpreter computes {@code Math.exp} per lane, so its last bit
 * would depend on whether the code was compiled yet, and results would differ between runs and thread
 * counts. The polynomial uses only multiply, add, FMA and bit operations, which round the same way in
 * every mode: the same bits on every thread count.
 */
final class AttentionVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();

    /** The partial sums' lanes, added in a fixed order: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private AttentionVector() {
    }

    /** Rows {@code [from, to)} of {@link AttentionKernels#softmax}. */
    static void softmaxRows(float[] probs, int cols, float scale, int from, int to) {
        float[] lanes = LANES.get();
        int cv = cols - cols % L;
        for (int r = from; r < to; r++) {
            int base = r * cols;
            FloatVector vmax = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int m = 0; m < cv; m += L) {
                vmax = vmax.max(FloatVector.fromArray(F, probs, base + m).mul(scale));
            }
            vmax.intoArray(lanes, 0);
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < L; i++) {
                max = Math.max(max, lanes[i]);
            }
            for (int m = cv; m < cols; m++) {
                max = Math.max(max, scale * probs[base + m]);
            }
            FloatVector vsum = FloatVector.zero(F);
            for (int m = 0; m < cv; m += L) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(F, probs, base + m).mul(scale).sub(max));
                e.intoArray(probs, base + m);
                vsum = vsum.add(e);
            }
            vsum.intoArray(lanes, 0);
            float sum = lanes[0];
            for (int i = 1; i < L; i++) {
                sum += lanes[i];
            }
            for (int m = cv; m < cols; m++) {
                float e = VectorMath.exp(scale * probs[base + m] - max);
                probs[base + m] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int m = 0; m < cv; m += L) {
                FloatVector.fromArray(F, probs, base + m).mul(inv).intoArray(probs, base + m);
            }
            for (int m = cv; m < cols; m++) {
                probs[base + m] *= inv;
            }
        }
    }
}
