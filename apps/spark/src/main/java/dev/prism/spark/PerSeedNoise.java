package dev.prism.spark;

import dev.prism.diffusion.Noise;
import dev.prism.diffusion.SeededNoise;

/**
 * The noise of a batch whose images each have a seed of their own: image n draws exactly what image 0 of
 * {@code prism sample --seed seeds[n]} draws ({@link SeededNoise} of that seed), so an image depends on its seed
 * alone, not on the batch or the partition it was sampled in.
 */
public final class PerSeedNoise implements Noise {
    private final SeededNoise[] images;
    private final int perImage;
    private final float[] one;

    /**
     * @param seeds    one per image of the batch
     * @param perImage C·H·W
     */
    public PerSeedNoise(long[] seeds, int perImage) {
        if (seeds.length < 1) {
            throw new IllegalArgumentException("per-seed noise: argument 'seeds' expected at least one seed, found none");
        }
        this.images = new SeededNoise[seeds.length];
        for (int n = 0; n < seeds.length; n++) {
            images[n] = new SeededNoise(seeds[n], 1, perImage);
        }
        this.perImage = perImage;
        this.one = new float[perImage];
    }

    @Override
    public void initial(float[] out) {
        check(out);
        for (int n = 0; n < images.length; n++) {
            images[n].initial(one);
            System.arraycopy(one, 0, out, n * perImage, perImage);
        }
    }

    @Override
    public void step(int step, float[] out) {
        check(out);
        for (int n = 0; n < images.length; n++) {
            images[n].step(step, one);
            System.arraycopy(one, 0, out, n * perImage, perImage);
        }
    }

    private void check(float[] out) {
        if (out.length != (long) images.length * perImage) {
            throw new IllegalArgumentException("per-seed noise: argument 'out' expected length " + (long) images.length * perImage
                    + ", found " + out.length);
        }
    }
}
