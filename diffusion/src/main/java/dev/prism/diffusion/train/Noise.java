package dev.prism.diffusion.train;

import java.util.SplittableRandom;

/** The random numbers of a training step: a generator per (seed, step), standard normal noise from it. */
final class Noise {
    private Noise() {
    }

    /** The generator of step {@code s} of a run seeded {@code seed}: seeded by a hash of (seed, s). */
    static SplittableRandom stream(long seed, long s) {
        return new SplittableRandom(mix(seed + s * 0x9E3779B97F4A7C15L));
    }

    /** Fills {@code out} with standard normal values by Box–Muller in double ({@code StrictMath}), pairwise. */
    static void gaussian(SplittableRandom r, float[] out) {
        for (int i = 0; i < out.length; i += 2) {
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double rad = StrictMath.sqrt(-2 * StrictMath.log(u1));
            out[i] = (float) (rad * StrictMath.cos(2 * Math.PI * u2));
            if (i + 1 < out.length) {
                out[i + 1] = (float) (rad * StrictMath.sin(2 * Math.PI * u2));
            }
        }
    }

    /** SplitMix64's finaliser: a 64-bit hash whose nearby inputs give unrelated outputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
