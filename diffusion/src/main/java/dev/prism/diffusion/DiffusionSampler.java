package dev.prism.diffusion;

/**
 * A reverse process on a {@link NoiseSchedule}: which timesteps the model is evaluated at, and the
 * update that follows each evaluation. {@link SamplingLoop} runs it.
 *
 * <p>Steps are numbered in the order they run, {@code i = 0 .. steps()−1}. Step {@code i} evaluates the
 * model at {@link #timestep(int) t_i} on the current image {@code x_{t_i}} and then applies
 * {@link #update(int) update i}, which produces {@code x_{target(i)}}; the update of the last step
 * produces the clean image ({@link #target(int)} = −1). Timesteps decrease strictly.
 */
public sealed interface DiffusionSampler permits Ddpm, Ddim, StepList {

    /** The schedule the timesteps index. */
    NoiseSchedule schedule();

    /** The number of model evaluations. */
    int steps();

    /** The timestep {@code t_i} the model sees at step {@code i}, {@code 0 <= t_i < T}. */
    int timestep(int i);

    /** The timestep update {@code i} goes to, {@code t_{i+1}}, or −1 for the last step (the clean image). */
    int target(int i);

    /** The coefficients of update {@code i}. */
    UpdateCoefficients update(int i);

    /** One line for logs and image metadata, e.g. {@code ddim(steps=25, eta=0.0, leading)}. */
    String describe();

    /** All timesteps in the order they run. */
    default int[] timesteps() {
        int[] t = new int[steps()];
        for (int i = 0; i < t.length; i++) {
            t[i] = timestep(i);
        }
        return t;
    }
}
