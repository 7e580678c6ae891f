package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant of {@link AttentionKernels#softmaxRow} (Vector API), run by the JVM
 * backend's parallel mode; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>Same three passes as the loop: the row maximum of {@code scale·s} (exact in any order), then
 * {@code e = exp(scale·s − max)} stored and summed, then the scaling by {@code 1/sum}. Two things differ,
 * both within the shared tolerance: the exponential is {@link #exp}, a polynomial in plain float
 * arithmetic accurate to about 2 ulp instead of {@code (float) Math.exp}, and the sum is kept as 8 partial
 * sums added left to right at the end. The Vector API's own {@code EXP} is not used on purpose: C2 calls
 * a vector math library for it while the interpreter computes {@code Math.exp} per lane, so its last bit
 * would depend on whether the code was compiled yet, and results would differ between runs and thread
 * counts. The polynomial uses only multiply, add, FMA and bit operations, which round the same way in
 * every mode: the same bits on every thread count.
 */
final class AttentionVector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    /** The partial sums' lanes, added in a fixed order: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split in two so that {@code n·LN2_HI} is exact for the n that occur. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUND = 12582912f;
    /** Below this the result would leave the normal range; exp(−87) ≈ 1.6e-38 is returned instead. */
    private static final float LOW = -87f;

    private AttentionVector() {
    }

    /** Rows {@code [from, to)} of {@link AttentionKernels#softmax}. */
    static void softmaxRows(float[] probs, int cols, float scale, int from, int to) {
        float[] lanes = LANES.get();
        int cv = cols - cols % L;
        FloatVector negHi = FloatVector.broadcast(F, -LN2_HI), negLo = FloatVector.broadcast(F, -LN2_LO);
        FloatVector c2 = FloatVector.broadcast(F, 8.3334519073E-3f), c3 = FloatVector.broadcast(F, 4.1665795894E-2f);
        FloatVector c4 = FloatVector.broadcast(F, 1.6666665459E-1f), c5 = FloatVector.broadcast(F, 5.0000001201E-1f);
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
                FloatVector t = FloatVector.fromArray(F, probs, base + m).mul(scale).sub(max).max(LOW);
                // exp(t) = 2^n · exp(t − n·ln 2), n = round(t·log2 e), |t − n·ln 2| <= ln2/2
                FloatVector big = t.fma(LOG2E, ROUND);
                FloatVector n = big.sub(ROUND);
                FloatVector x = n.fma(negHi, t);
                x = n.fma(negLo, x);
                FloatVector p = x.fma(1.9875691500E-4f, 1.3981999507E-3f);
                p = p.fma(x, c2);
                p = p.fma(x, c3);
                p = p.fma(x, c4);
                p = p.fma(x, c5);
                p = p.fma(x.mul(x), x).add(1f);
                // 2^n from n's integer bits: big's low mantissa bits hold n + 2^22·1.5's pattern
                IntVector bits = big.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND)).add(127).lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul(bits.reinterpretAsFloats());
                e.intoArray(probs, base + m);
                vsum = vsum.add(e);
            }
            vsum.intoArray(lanes, 0);
            float sum = lanes[0];
            for (int i = 1; i < L; i++) {
                sum += lanes[i];
            }
            for (int m = cv; m < cols; m++) {
                float e = exp(scale * probs[base + m] - max);
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

    /** The scalar form of the vector exponential above, for {@code t <= 0}, same operations in the same order. */
    static float exp(float t) {
        t = Math.max(t, LOW);
        float big = Math.fma(t, LOG2E, ROUND);
        float n = big - ROUND;
        float x = Math.fma(n, -LN2_HI, t);
        x = Math.fma(n, -LN2_LO, x);
        float p = Math.fma(x, 1.9875691500E-4f, 1.3981999507E-3f);
        p = Math.fma(p, x, 8.3334519073E-3f);
        p = Math.fma(p, x, 4.1665795894E-2f);
        p = Math.fma(p, x, 1.6666665459E-1f);
        p = Math.fma(p, x, 5.0000001201E-1f);
        p = Math.fma(p, x * x, x) + 1f;
        int bits = (Float.floatToRawIntBits(big) - Float.floatToRawIntBits(ROUND) + 127) << 23;
        return p * Float.intBitsToFloat(bits);
    }
}
