package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant of {@link AttentionKernels#softmaxRow} (Vector API), run by the JVM
 * backend's parallel mode; the plain loop stays the reference and the TornadoVM input.
 *
 * <p>Same three passes as the loop: the row maximum of {@code scale·s} (exact in any order), then
 * {@code e = exp(scale·s − max)} stored and summed, then the scaling by {@code 1/sum}, the sum taken in
 * double as the loop takes it ({@link Sums}), in vectors of double partial sums whose lanes are added in a
 * fixed order ({@link VectorMath#sumLanes}): another order than the loop's, a few double ulps apart. The
 * exponential differs, within the shared tolerance: it is {@link VectorMath#exp(FloatVector)}, a polynomial in plain float arithmetic accurate to
 * about 2 ulp instead of {@code (float) Math.exp}. The Vector API's own {@code EXP} is not used on purpose: C2 calls
 * a vector math library for it while the interpreter computes {@code Math.exp} per lane, so its last bit
 * would depend on whether the code was compiled yet, and results would differ between runs and thread
 * counts. The polynomial uses only multiply, add, FMA and bit operations, which round the same way in
 * every mode: the same bits on every thread count.
 */
final class AttentionVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;

    /** The lanes of the row maximum, read back one by one: one array per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private AttentionVector() {
    }

    /** Rows {@code [from, to)} of {@link AttentionKernels#softmax}. */
    static void softmaxRows(float[] probs, int rows, int cols, float scale, int from, int to) {
        float[] lanes = LANES.get();
        double[] sums = VectorMath.lanes();
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
            for (int m = 0; m < cv; m += L) {
                VectorMath.exp(FloatVector.fromArray(F, probs, base + m).mul(scale).sub(max)).intoArray(probs, base + m);
            }
            for (int m = cv; m < cols; m++) {
                probs[base + m] = VectorMath.exp(scale * probs[base + m] - max);
            }
            // the exponentials summed in double: each vector's halves widened (exact) into two vectors of partial sums
            DoubleVector lo = DoubleVector.zero(D);
            DoubleVector hi = lo;
            for (int m = 0; m < cv; m += L) {
                FloatVector e = FloatVector.fromArray(F, probs, base + m);
                lo = lo.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0));
                hi = hi.add((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1));
            }
            lo.add(hi).intoArray(sums, 0);
            double sum = VectorMath.sumLanes(sums);
            for (int m = cv; m < cols; m++) {
                sum += probs[base + m];
            }
            float inv = (float) (1.0 / sum);
            for (int m = 0; m < cv; m += L) {
                FloatVector.fromArray(F, probs, base + m).mul(inv).intoArray(probs, base + m);
            }
            for (int m = cv; m < cols; m++) {
                probs[base + m] *= inv;
            }
        }
    }
}
