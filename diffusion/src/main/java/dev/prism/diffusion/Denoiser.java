package dev.prism.diffusion;

import dev.prism.backend.Plan;
import dev.prism.nn.Footprint;

/**
 * A model that a {@link SamplingLoop} evaluates once per step: it adds to a plan the launches that
 * compute the model output {@code e[N,C,H,W]} (ε or x̂0, see {@link Prediction}) from the current image
 * {@code x[N,C,H,W]} and the timesteps {@code t[N]} (one per image, as floats; a sampler sets them all
 * to the step's timestep).
 *
 * <p>Contract of {@link #addTo}: the launches read {@code x} and {@code t} and never write them (the
 * loop owns them: {@code x} is the plan's state, {@code t} an input rewritten by the host every step);
 * they write every element of {@code e}; the model declares its own weights and tables on the builder
 * with {@code constants(...)}, and allocates its activations and scratch buffers itself, once, when it
 * is added. The loop checks the first two rules.
 */
public interface Denoiser {

    /** C, the image channels the model takes and returns. */
    int channels();

    /** H, the image height. */
    int height();

    /** W, the image width. */
    int width();

    /**
     * Adds the launches {@code e = model(x, t)} for a batch of {@code batch} images to {@code plan}.
     *
     * @param x the current image {@code [batch, C, H, W]}, read only
     * @param t the timesteps {@code [batch]}, read only
     * @param e the output {@code [batch, C, H, W]}, written entirely
     */
    void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e);

    /**
     * Elements per image of a latent input the model takes besides x and t, drawn fresh for every step (the
     * z of a GAN generator: DDGAN, WaveDiff), or 0 for none (the default).
     */
    default int latentSize() {
        return 0;
    }

    /**
     * {@link #addTo(Plan.Builder, int, float[], float[], float[])} for a model with a latent input: the loop
     * passes {@code latent [batch, latentSize()]}, read only, which it rewrites before every step. The
     * default, for a model without one, ignores it.
     */
    default void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] latent, float[] e) {
        addTo(plan, batch, x, t, e);
    }

    /**
     * The arrays {@link #addTo} allocates and the weights and tables it declares, without x, t and e, known
     * before they are allocated: what the loop checks against the heap first ({@link SamplingLoop#checkHeap}).
     * The default, for a model that cannot say, is {@link Footprint#NONE}: the loop then checks its own arrays only.
     */
    default Footprint footprint() {
        return Footprint.NONE;
    }
}
