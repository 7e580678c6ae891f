package dev.prism.diffusion;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A reverse process given as its steps: the timesteps the model is evaluated at, the update after each, and the
 * step the last update goes to. A part of another sampler's run, such as one stage of a {@link DvdpSampling}
 * run, whose last update ends at a switch step rather than at the clean image.
 *
 * @param schedule  the noise schedule the timesteps index
 * @param timesteps {@code t_0 > t_1 > … > t_{S−1}}, each in {@code [0, T)}
 * @param end       the step the last update goes to: below {@code t_{S−1}}, or −1 for the clean image
 * @param updates   the coefficients of each update, one per timestep
 * @param describe  the line {@link #describe()} returns
 */
public record StepList(NoiseSchedule schedule, int[] timesteps, int end, List<UpdateCoefficients> updates, String describe)
        implements DiffusionSampler {

    /**
     * Checks the steps.
     *
     * @throws IllegalArgumentException naming {@code timesteps} unless they strictly decrease inside the schedule,
     *                                  {@code end} unless it is below the last of them and at least −1, or
     *                                  {@code updates} unless there is one per timestep
     */
    public StepList {
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(describe, "describe");
        timesteps = timesteps.clone();
        updates = List.copyOf(updates);
        int T = schedule.timesteps();
        boolean ok = timesteps.length >= 1;
        for (int i = 0; ok && i < timesteps.length; i++) {
            ok = timesteps[i] >= 0 && timesteps[i] < T && (i == 0 || timesteps[i] < timesteps[i - 1]);
        }
        if (!ok) {
            throw NoiseSchedule.bad("step list", "timesteps", "at least one, strictly decreasing in [0, " + T + ")", Arrays.toString(timesteps));
        }
        if (end < -1 || end >= timesteps[timesteps.length - 1]) {
            throw NoiseSchedule.bad("step list", "end", "-1 or a step below " + timesteps[timesteps.length - 1], end);
        }
        if (updates.size() != timesteps.length) {
            throw NoiseSchedule.bad("step list", "updates", timesteps.length + " (one per timestep)", updates.size());
        }
    }

    @Override
    public int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public int steps() {
        return timesteps.length;
    }

    @Override
    public int timestep(int i) {
        return timesteps[Objects.checkIndex(i, timesteps.length)];
    }

    @Override
    public int target(int i) {
        Objects.checkIndex(i, timesteps.length);
        return i == timesteps.length - 1 ? end : timesteps[i + 1];
    }

    @Override
    public UpdateCoefficients update(int i) {
        return updates.get(i);
    }
}
