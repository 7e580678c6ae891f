package dev.prism.kernels.catalog;

import java.util.SplittableRandom;

/** Seeded random buffers for catalog cases. */
public final class Rand {
    private final SplittableRandom random;

    public Rand(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** {@code n} standard normal floats. */
    public float[] gaussian(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            a[i] = (float) (r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                a[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
            }
        }
        return a;
    }

    /** {@code n} standard normal floats times {@code scale}. */
    public float[] gaussian(int n, float scale) {
        float[] a = gaussian(n);
        for (int i = 0; i < n; i++) {
            a[i] *= scale;
        }
        return a;
    }

    /** {@code n} floats uniform in {@code [lo, hi)}. */
    public float[] uniform(int n, float lo, float hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return a;
    }

    /** An output buffer of {@code n} NaNs: an element no kernel writes stays NaN and fails the check. */
    public static float[] poisoned(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }
}
