package dev.prism.diffusion;

import java.util.Objects;

/**
 * DDPM ancestral sampling (Ho et al. 2020, Algorithm 2) over every step of the schedule,
 * {@code t = T−1, ..., 0}, with the posterior variance {@code σ_t² = β̃_t}.
 *
 * <p>Update at step t, to {@code t − 1}: draw from the posterior {@code q(x_{t−1} | x_t, x̂0)} of
 * DDPM eq. (6)–(7),
 * <pre>
 *   x_{t−1} = √ᾱ_{t−1}·β_t/(1−ᾱ_t) · x̂0  +  √α_t·(1−ᾱ_{t−1})/(1−ᾱ_t) · x_t  +  σ_t·z,
 *   σ_t² = β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t) · β_t,          ᾱ_{−1} = 1, so σ_0 = 0,
 * </pre>
 * with {@code x̂0} from the model ({@link Prediction}), optionally clipped to [−1, 1] as in the
 * authors' code ({@code clip_denoised}). Without clipping and with ε-prediction this is exactly eq. (11),
 * {@code μ = (x_t − β_t/√(1−ᾱ_t)·ε)/√α_t}. Kernel coefficients: {@code cx0} and {@code cx} the two
 * weights above, {@code ce = 0}, {@code σ = √β̃_t}.
 *
 * <p>With {@link Prediction#SAMPLE} and DDGAN's {@link NoiseSchedule#vp} schedule this is DDGAN's
 * posterior sampling ({@code sample_from_model}, which WaveDiff reuses): the generator's {@code x'_0}
 * goes into the same posterior.
 *
 * @param schedule   the noise schedule
 * @param clip       clamp x̂0 to [−1, 1] before it enters the posterior
 * @param prediction what the model outputs
 */
public record Ddpm(NoiseSchedule schedule, boolean clip, Prediction prediction) implements DiffusionSampler {

    /** Checks that the schedule and the prediction are given. */
    public Ddpm {
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(prediction, "prediction");
    }

    /** ε-prediction, no clipping. */
    public Ddpm(NoiseSchedule schedule) {
        this(schedule, false, Prediction.EPSILON);
    }

    @Override
    public int steps() {
        return schedule.timesteps();
    }

    @Override
    public int timestep(int i) {
        return schedule.timesteps() - 1 - Objects.checkIndex(i, steps());
    }

    @Override
    public int target(int i) {
        return timestep(i) - 1;
    }

    @Override
    public UpdateCoefficients update(int i) {
        int t = timestep(i);
        double ab = schedule.alphaBar(t), abPrev = schedule.alphaBarPrev(t), beta = schedule.beta(t);
        // DDPM eq. (7): the posterior mean's weights and variance.
        double cx0 = Math.sqrt(abPrev) * beta / (1 - ab);
        double cx = Math.sqrt(schedule.alpha(t)) * (1 - abPrev) / (1 - ab);
        double variance = (1 - abPrev) / (1 - ab) * beta;
        return UpdateCoefficients.of(prediction, ab, clip, cx0, cx, 0, Math.sqrt(variance));
    }

    @Override
    public String describe() {
        return "ddpm(steps=" + steps() + ", variance=posterior" + (clip ? ", clip" : "")
                + (prediction == Prediction.SAMPLE ? ", x0-prediction" : "") + ")";
    }
}
