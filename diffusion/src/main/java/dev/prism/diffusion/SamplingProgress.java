package dev.prism.diffusion;

/** Called by {@link SamplingLoop} after each model evaluation, on the sampling thread. */
@FunctionalInterface
public interface SamplingProgress {

    /** Reports nothing. */
    SamplingProgress NONE = step -> { };

    /** What the loop has done so far. */
    interface Step {
        /** The step just evaluated, {@code 0 .. steps()−1}. */
        int index();

        /** The number of steps of the run. */
        int steps();

        /** The timestep the model was evaluated at. */
        int timestep();

        /** Nanoseconds since the run started (the noise drawn and the step's plan executed included). */
        long elapsedNanos();

        /**
         * A copy of the image the model was just evaluated on, {@code x_{t_i}} {@code [N,C,H,W]}. It is
         * fetched from the device when asked for, which costs a transfer; valid only during the callback.
         */
        float[] image();
    }

    /** Called once per step, after the model has been evaluated at {@code step.timestep()}. */
    void onStep(Step step);
}
