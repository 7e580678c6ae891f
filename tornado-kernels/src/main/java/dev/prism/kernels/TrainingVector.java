package dev.prism.kernels;

/**
 * JVM variants of the autoencoder's reparameterised sample and its backward ({@link TrainingKernels#gaussianSample},
 * {@link TrainingKernels#gaussianSampleBackward}): a thread's range of elements in one loop over the plain lane
 * helpers, so the same bits as the loops. On a latent of 12,288 values the per-element calls of the plain parallel
 * path cost as much as the arithmetic (2.0 times PyTorch's time on the catalog case).
 */
final class TrainingVector {
    private TrainingVector() {
    }

    /** Elements {@code [from, to)} of {@link TrainingKernels#gaussianSample}. */
    static void gaussianSampleRange(float[] mean, float[] logvar, float[] eps, float[] z, int len, int from, int to) {
        for (int i = from; i < to; i++) {
            TrainingKernels.gaussianSampleLane(mean, logvar, eps, z, len, i);
        }
    }

    /** Elements {@code [from, to)} of {@link TrainingKernels#gaussianSampleBackward}. */
    static void gaussianSampleBackwardRange(float[] logvar, float[] eps, float[] gz, float[] glogvar, int len, int from, int to) {
        for (int i = from; i < to; i++) {
            TrainingKernels.gaussianSampleBackwardLane(logvar, eps, gz, glogvar, len, i);
        }
    }
}
