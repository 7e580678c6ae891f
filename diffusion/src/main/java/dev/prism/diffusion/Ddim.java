package dev.prism.diffusion;

import java.util.Objects;

/**
 * DDIM sampling (Song et al. 2021) on a sub-sequence of {@code steps} timesteps, with
 * stochasticity η ({@code η = 0}: the deterministic DDIM; {@code η = 1} on every step: DDPM's posterior).
 *
 * <p>Timesteps: the "leading", evenly spaced sub-sequence {@code τ_j = j·⌊T/S⌋, j = 0 .. S−1}, run
 * from {@code τ_{S−1}} down to {@code τ_0} — DDIM's own {@code skip_type="uniform"}
 * ({@code range(0, T, T // S)}) whenever S divides T (25 steps of 1000: 960, 920, ..., 0), and
 * exactly S steps when it does not (diffusers' {@code timestep_spacing="leading"}).
 *
 * <p>Update from {@code t = τ_j} to {@code s = τ_{j−1}} ({@code ᾱ_s = 1} after {@code τ_0}), DDIM eq. (12)
 * with ᾱ for the paper's α:
 * <pre>
 *   x_s = √ᾱ_s · x̂0  +  √(1 − ᾱ_s − σ²) · ε  +  σ·z,
 *   σ   = η · √((1−ᾱ_s)/(1−ᾱ_t)) · √(1 − ᾱ_t/ᾱ_s)          (eq. (16)),
 * </pre>
 * {@code x̂0 = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t}, optionally clipped to [−1, 1]; the direction term uses the
 * model's ε, not one recomputed from the clipped x̂0 (as DDIM's code). Kernel coefficients:
 * {@code cx0 = √ᾱ_s}, {@code cx = 0}, {@code ce = √(1 − ᾱ_s − σ²)}, σ; for an x0-predicting model ε is
 * {@code (x_t − √ᾱ_t·x̂0)/√(1−ᾱ_t)}, which moves the direction weight onto {@code cx} and {@code ce}
 * ({@link UpdateCoefficients}). The last step (to {@code ᾱ_s = 1}) has σ = 0 and returns x̂0.
 *
 * @param schedule   the noise schedule; T = {@code schedule.timesteps()}
 * @param steps      S, the number of model evaluations, {@code 1 <= S <= T}
 * @param eta        η ≥ 0, small enough that {@code σ² <= 1 − ᾱ_s} on every step (every η ≤ 1 is)
 * @param clip       clamp x̂0 to [−1, 1]
 * @param prediction what the model outputs
 */
public record Ddim(NoiseSchedule schedule, int steps, double eta, boolean clip, Prediction prediction) implements DiffusionSampler {

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException naming {@code steps} unless {@code 1 <= steps <= T}, or {@code eta} unless
     *                                  it is finite, {@code >= 0} and keeps {@code σ² <= 1 − ᾱ_s} on every step
     */
    public Ddim {
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(prediction, "prediction");
        int T = schedule.timesteps();
        if (steps < 1 || steps > T) {
            throw NoiseSchedule.bad("ddim", "steps", "in [1, " + T + "] (T of " + schedule.name() + ")", steps);
        }
        if (!(eta >= 0 && eta < Double.POSITIVE_INFINITY)) {
            throw NoiseSchedule.bad("ddim", "eta", "a finite number >= 0", eta);
        }
        int stride = T / steps;
        for (int j = 0; j < steps; j++) {
            int t = j * stride;
            double ab = schedule.alphaBar(t), abPrev = j == 0 ? 1.0 : schedule.alphaBar(t - stride);
            double var = variance(eta, ab, abPrev);
            if (var > 1 - abPrev) {
                throw NoiseSchedule.bad("ddim", "eta", "small enough that sigma^2 <= 1 - alphaBar_prev on every step"
                        + " (every eta <= 1 is; from t = " + t + " sigma^2 = " + var + " > " + (1 - abPrev) + ")", eta);
            }
        }
    }

    /** ε-prediction, no clipping. */
    public Ddim(NoiseSchedule schedule, int steps, double eta) {
        this(schedule, steps, eta, false, Prediction.EPSILON);
    }

    /** ⌊T/S⌋, the spacing of the sub-sequence. */
    public int stride() {
        return schedule.timesteps() / steps;
    }

    @Override
    public int timestep(int i) {
        return (steps - 1 - Objects.checkIndex(i, steps)) * stride();
    }

    @Override
    public int target(int i) {
        return i == steps - 1 ? -1 : timestep(i + 1);
    }

    @Override
    public UpdateCoefficients update(int i) {
        return update(timestep(i), target(i));
    }

    /**
     * The coefficients of this sampler's update from {@code t} to any earlier {@code s} ({@code −1}: the clean
     * image), eq. (12) with σ of eq. (16): what a reverse process that adds its own steps to the sub-sequence
     * uses ({@link DvdpSampling}).
     */
    public UpdateCoefficients update(int t, int s) {
        if (s >= t || s < -1 || t >= schedule.timesteps()) {
            throw new IllegalArgumentException("ddim: steps t = " + t + " and s = " + s + " expected -1 <= s < t < " + schedule.timesteps());
        }
        double ab = schedule.alphaBar(t), abPrev = s < 0 ? 1.0 : schedule.alphaBar(s);
        double var = variance(eta, ab, abPrev);
        // DDIM eq. (12): √ᾱ_s·x̂0 + √(1 − ᾱ_s − σ²)·ε + σ·z.
        return UpdateCoefficients.of(prediction, ab, clip, Math.sqrt(abPrev), 0, Math.sqrt(Math.max(0, 1 - abPrev - var)),
                Math.sqrt(var));
    }

    /** σ² of DDIM eq. (16). */
    private static double variance(double eta, double ab, double abPrev) {
        return eta * eta * (1 - abPrev) / (1 - ab) * (1 - ab / abPrev);
    }

    @Override
    public String describe() {
        return "ddim(steps=" + steps + ", eta=" + eta + ", leading" + (clip ? ", clip" : "")
                + (prediction == Prediction.SAMPLE ? ", x0-prediction" : "") + ")";
    }
}
