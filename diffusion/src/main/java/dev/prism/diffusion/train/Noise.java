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

    /**
     * Fills {@code out} with standard normal values, pairwise by Marsaglia's polar method: u, v uniform in
     * (−1, 1) until {@code 0 < s = u² + v² < 1}, then {@code u·√(−2 ln s / s)} and {@code v·√(−2 ln s / s)}, in
     * double with {@code StrictMath.log} (the same bits on every JVM). Not Box–Muller: its {@code StrictMath.sin}
     * and {@code cos} allocate an array per call for most angles (fdlibm's argument reduction), and a
     * training step allocates nothing in steady state.
     */
    static void gaussian(SplittableRandom r, float[] out) {
        for (int i = 0; i < out.length; i += 2) {
            double u, v, s;
            do {
                u = 2 * r.nextDouble() - 1;
                v = 2 * r.nextDouble() - 1;
                s = u * u + v * v;
            } while (s >= 1 || s == 0);
            double f = Math.sqrt(-2 * StrictMath.log(s) / s);
            out[i] = (float) (u * f);
            if (i + 1 < out.length) {
                out[i + 1] = (float) (v * f);
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
