package dev.prism.diffusion;

import java.util.SplittableRandom;

/**
 * Standard normal noise from a seed, the same on every backend and every JVM.
 *
 * <p>The stream, exactly: {@code root = new SplittableRandom(seed)}; image {@code n} of the batch
 * ({@code n = 0 .. N−1}) draws from its own generator {@code g_n}, the n-th call of {@code root.split()},
 * so an image does not depend on the batch size it was drawn in. Each {@code g_n} yields one continuous
 * sequence of normals, made in pairs by the Box–Muller transform in double:
 * <pre>
 *   u1 = 1 − g_n.nextDouble(),  u2 = g_n.nextDouble(),  r = √(−2·ln u1)     (StrictMath.log, sqrt)
 *   normals 2k, 2k+1 = r·cos(2π·u2), r·sin(2π·u2)                              (StrictMath.cos, sin)
 * </pre>
 * each rounded once to float. Blocks of {@code C·H·W} consecutive normals of {@code g_n} fill image n in
 * {@code [C,H,W]} row-major order: first x_T ({@link #initial}), then the noise z of each update that has
 * σ ≠ 0, in the order the sampler runs them ({@link #step}); a block may start in the middle of a pair.
 * Updates with σ = 0 draw nothing, so with DDIM η = 0 the image depends on x_T alone, and x_T depends
 * only on the seed, never on the sampler.
 */
public final class SeededNoise implements Noise {
    private final Stream[] images;
    private final int perImage;
    private int nextStep;

    /**
     * @param batch    N, the images of the batch
     * @param perImage C·H·W, the elements of one image
     */
    public SeededNoise(long seed, int batch, int perImage) {
        this(new SplittableRandom(seed), batch, perImage);
    }

    /**
     * The noise of the next {@code batch} images of a longer run: image n draws from the next call of
     * {@code root.split()}. Successive batches over one root (seeded with s) make the same images, in the
     * same order, as one batch of them all seeded with s, whatever the batch size.
     *
     * @param root advanced by {@code batch} splits
     */
    public SeededNoise(SplittableRandom root, int batch, int perImage) {
        if (batch < 1) {
            throw new IllegalArgumentException("seeded noise: argument 'batch' expected >= 1, found " + batch);
        }
        if (perImage < 1) {
            throw new IllegalArgumentException("seeded noise: argument 'perImage' expected >= 1, found " + perImage);
        }
        java.util.Objects.requireNonNull(root, "root");
        this.images = new Stream[batch];
        for (int n = 0; n < batch; n++) {
            images[n] = new Stream(root.split());
        }
        this.perImage = perImage;
    }

    @Override
    public void initial(float[] out) {
        fill(out);
    }

    /**
     * Fills {@code out} with the next block of every image's stream.
     *
     * @throws IllegalArgumentException if {@code step} is not larger than the step asked for before
     *                                  (the stream is sequential)
     */
    @Override
    public void step(int step, float[] out) {
        if (step < nextStep) {
            throw new IllegalArgumentException("seeded noise: argument 'step' expected >= " + nextStep
                    + " (steps are drawn in order), found " + step);
        }
        nextStep = step + 1;
        fill(out);
    }

    private void fill(float[] out) {
        if (out.length != images.length * perImage) {
            throw new IllegalArgumentException("seeded noise: argument 'out' expected length " + images.length * perImage
                    + ", found " + out.length);
        }
        for (int n = 0; n < images.length; n++) {
            Stream g = images[n];
            int base = n * perImage;
            for (int i = 0; i < perImage; i++) {
                out[base + i] = (float) g.next();
            }
        }
    }

    /** One image's continuous normal sequence. */
    private static final class Stream {
        private final SplittableRandom random;
        private double spare;
        private boolean hasSpare;

        Stream(SplittableRandom random) {
            this.random = random;
        }

        double next() {
            if (hasSpare) {
                hasSpare = false;
                return spare;
            }
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = StrictMath.sqrt(-2 * StrictMath.log(u1));
            double angle = 2 * Math.PI * u2;
            spare = r * StrictMath.sin(angle);
            hasSpare = true;
            return r * StrictMath.cos(angle);
        }
    }
}
