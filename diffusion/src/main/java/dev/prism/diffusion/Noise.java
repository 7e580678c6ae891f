package dev.prism.diffusion;

/**
 * The Gaussian noise of a sampling run: the initial image {@code x_T} and the fresh noise {@code z} of
 * each update that adds any. A {@link SamplingLoop} asks for {@link #initial} once, then for
 * {@link #step} once for every update whose σ is not 0, in increasing order of the step; it never asks
 * for the noise of an update with σ = 0 (the last step of DDPM, every step of DDIM with η = 0).
 * {@link SeededNoise} is the generator; tests supply recorded noise.
 */
public interface Noise {

    /** Fills {@code out[N,C,H,W]} with the initial image x_T. */
    void initial(float[] out);

    /** Fills {@code out[N,C,H,W]} with the noise z of update {@code step} (numbered as the sampler's steps). */
    void step(int step, float[] out);
}
