package dev.prism.nn.train;

import dev.prism.kernels.ArgumentException;

import java.util.Locale;

/**
 * The learning rate of each step: a linear warm-up from 0 over {@code warmup} steps, then constant, or
 * a linear or cosine decay to {@code minRatio·lr} at step {@code total}.
 *
 * <pre>
 *   s ≤ warmup:  lr·s/warmup
 *   constant:    lr
 *   linear:      lr·(m + (1 − m)·(1 − p))          p = (s − warmup)/(total − warmup), m = minRatio
 *   cosine:      lr·(m + (1 − m)·(1 + cos(π·p))/2)
 * </pre>
 * Steps count from 1.
 *
 * @param decay    {@code constant}, {@code linear} or {@code cosine}
 * @param warmup   warm-up steps (0: none)
 * @param total    the step at which a decay ends (for constant: ignored)
 * @param minRatio the final learning rate as a fraction of the peak
 */
public record LrSchedule(String decay, long warmup, long total, double minRatio) {
    public LrSchedule {
        decay = decay.toLowerCase(Locale.ROOT);
        if (!decay.equals("constant") && !decay.equals("linear") && !decay.equals("cosine")) {
            throw new ArgumentException("decay", "expected constant, linear or cosine, found '" + decay + "'");
        }
        if (warmup < 0) {
            throw new ArgumentException("warmup", "expected >= 0 steps, found " + warmup);
        }
        if (!decay.equals("constant") && total <= warmup) {
            throw new ArgumentException("total", "expected more steps than the warm-up (" + warmup + ") for a " + decay
                    + " decay, found " + total);
        }
        if (!(minRatio >= 0 && minRatio <= 1)) {
            throw new ArgumentException("minRatio", "expected a number in [0, 1], found " + minRatio);
        }
    }

    /** A constant learning rate after {@code warmup} steps. */
    public static LrSchedule constant(long warmup) {
        return new LrSchedule("constant", warmup, 0, 1);
    }

    /** The factor of the peak learning rate at step {@code step} (from 1). */
    public double factor(long step) {
        if (step < 1) {
            throw new IllegalArgumentException("step expected >= 1, found " + step);
        }
        if (step <= warmup) {
            return (double) step / warmup;
        }
        if (decay.equals("constant")) {
            return 1;
        }
        double p = Math.min(1, (double) (step - warmup) / (total - warmup));
        double shape = decay.equals("linear") ? 1 - p : (1 + Math.cos(Math.PI * p)) / 2;
        return minRatio + (1 - minRatio) * shape;
    }
}
