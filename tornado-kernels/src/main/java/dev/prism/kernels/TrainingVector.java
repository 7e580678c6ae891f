package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variants (Vector API) of two training kernels of {@link TrainingKernels}, which stay the
 * reference and the TornadoVM input: the autoencoder's reparameterised sample and its backward, whose
 * {@code exp(½·lv)} is {@link VectorMath#exp(FloatVector)} in float where the loop takes {@code Math.exp} in double
 * and rounds once (a few float ulps apart, inside the shared tolerance; the log-variance clamped as the loop clamps
 * it). A thread's range is one stream with a masked tail, so every thread count gives the same bits.
 */
final class TrainingVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int V = F.length();

    private TrainingVector() {
    }

    /** Elements {@code [from, to)} of {@link TrainingKernels#gaussianSample}: {@code z = mean + exp(½·lv)·eps}. */
    static void gaussianSampleRange(float[] mean, float[] logvar, float[] eps, float[] z, int len, int from, int to) {
        for (int i = from; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            FloatVector lv = FloatVector.fromArray(F, logvar, i, m)
                    .max(TrainingKernels.LOGVAR_MIN).min(TrainingKernels.LOGVAR_MAX);
            FloatVector sd = VectorMath.exp(lv.mul(0.5f));
            FloatVector.fromArray(F, mean, i, m).add(sd.mul(FloatVector.fromArray(F, eps, i, m))).intoArray(z, i, m);
        }
    }

    /**
     * Elements {@code [from, to)} of {@link TrainingKernels#gaussianSampleBackward}: {@code gz·eps·½·exp(½·lv)} where
     * lv lies in the clamp's range, else 0.
     */
    static void gaussianSampleBackwardRange(float[] logvar, float[] eps, float[] gz, float[] glogvar, int len, int from, int to) {
        for (int i = from; i < to; i += V) {
            VectorMask<Float> m = F.indexInRange(i, to);
            FloatVector lv = FloatVector.fromArray(F, logvar, i, m);
            VectorMask<Float> inside = lv.compare(VectorOperators.GE, TrainingKernels.LOGVAR_MIN)
                    .and(lv.compare(VectorOperators.LE, TrainingKernels.LOGVAR_MAX));
            FloatVector g = FloatVector.fromArray(F, gz, i, m).mul(FloatVector.fromArray(F, eps, i, m)).mul(0.5f)
                    .mul(VectorMath.exp(lv.mul(0.5f)));
            g.blend(0f, inside.not()).intoArray(glogvar, i, m);
        }
    }
}
