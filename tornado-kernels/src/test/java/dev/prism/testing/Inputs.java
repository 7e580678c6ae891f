package dev.prism.testing;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded inputs for tests: Gaussian values (never zeros) and NaN-poisoned outputs, so that an element
 * a kernel forgets to write fails the comparison.
 */
public final class Inputs {
    /** The one seed of Prism's tests; vary it per call through {@code stream}. */
    public static final long SEED = 0x5EED_2026L;

    private Inputs() {
    }

    /** {@code n} standard normal floats from the stream {@code stream} of the test seed. */
    public static float[] gaussian(int n, long stream) {
        SplittableRandom r = new SplittableRandom(SEED ^ (stream * 0x9E3779B97F4A7C15L));
        float[] a = new float[n];
        for (int i = 0; i < n; i += 2) {
            // Box-Muller: two normals from two uniforms.
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double rad = Math.sqrt(-2 * Math.log(u1));
            a[i] = (float) (rad * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                a[i + 1] = (float) (rad * Math.sin(2 * Math.PI * u2));
            }
        }
        return a;
    }

    /** {@code n} floats uniform in {@code [lo, hi)}. */
    public static float[] uniform(int n, float lo, float hi, long stream) {
        SplittableRandom r = new SplittableRandom(SEED ^ (stream * 0x9E3779B97F4A7C15L));
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return a;
    }

    /** An output buffer of {@code n} NaNs. */
    public static float[] poisoned(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    /** Fills {@code a} with NaN and returns it. */
    public static float[] poison(float[] a) {
        Arrays.fill(a, Float.NaN);
        return a;
    }
}
