package dev.prism.bench;

import dev.prism.kernels.VectorWidth;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The two limits of this machine that kernels are measured against, taken in the same run:
 * memory bandwidth (a parallel copy of 64 MiB, counting read and write) for memory-bound kernels, and
 * the FMA peak (independent fused multiply-add chains in vector registers on every thread) for dense
 * ones. A kernel whose arithmetic intensity (flops per byte) lies above {@code fmaPeak / bandwidth} is
 * compute-bound, below it memory-bound.
 *
 * @param bandwidth bytes per second
 * @param fmaPeak   floating-point operations per second (a multiply-add counts as two)
 * @param threads   threads used for both measurements
 */
public record Ceilings(double bandwidth, double fmaPeak, int threads) {
    /**
     * The kernels' own width ({@link VectorWidth#bits()}, so {@code --vector-bits} too), in a holder class that
     * loads after the width is pinned: the peak is the one the variants can reach, and no second vector class
     * runs in the JVM beside theirs (that would make C2 box their vectors, see {@code VectorMath.FLOAT}).
     */
    private static final class Width {
        static final VectorSpecies<Float> SPECIES = VectorSpecies.of(float.class, VectorShape.forBitSize(VectorWidth.bits()));
    }

    /** Measures both ceilings with {@code threads} threads: a few hundred milliseconds. */
    public static Ceilings measure(int threads) {
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "prism-ceilings");
            t.setDaemon(true);
            return t;
        });
        try {
            return new Ceilings(bandwidth(pool, threads), fmaPeak(pool, threads), threads);
        } finally {
            pool.shutdownNow();
        }
    }

    /** Which limit bounds a kernel of this many flops and bytes, and the fraction of it reached in {@code seconds}. */
    public Fraction fraction(long flops, long bytes, double seconds) {
        if (seconds <= 0 || (flops == 0 && bytes == 0)) {
            return new Fraction("", Double.NaN);
        }
        boolean compute = bytes == 0 || (double) flops / bytes > fmaPeak / bandwidth;
        return compute ? new Fraction("fma", flops / seconds / fmaPeak) : new Fraction("mem", bytes / seconds / bandwidth);
    }

    /**
     * @param limit {@code mem} (memory bandwidth) or {@code fma} (the FMA peak)
     * @param value the fraction of that limit reached
     */
    public record Fraction(String limit, double value) {
        @Override
        public String toString() {
            return Double.isNaN(value) ? "" : String.format(java.util.Locale.ROOT, "%s %.0f%%", limit, 100 * value);
        }
    }

    private static double bandwidth(ExecutorService pool, int threads) {
        int n = 16 << 20;                       // 16 Mi floats: 64 MiB per array, far beyond the caches
        float[] src = new float[n];
        float[] dst = new float[n];
        Arrays.fill(src, 1f);
        double[] seconds = new double[7];
        for (int rep = -2; rep < seconds.length; rep++) {
            long t0 = System.nanoTime();
            run(pool, threads, k -> {
                int from = (int) ((long) n * k / threads), to = (int) ((long) n * (k + 1) / threads);
                System.arraycopy(src, from, dst, from, to - from);
                return null;
            });
            if (rep >= 0) {
                seconds[rep] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Arrays.sort(seconds);
        return 2.0 * 4 * n / seconds[seconds.length / 2];
    }

    private static double fmaPeak(ExecutorService pool, int threads) {
        int iterations = 20_000_000 / Width.SPECIES.length();
        double[] seconds = new double[5];
        for (int rep = -2; rep < seconds.length; rep++) {
            long t0 = System.nanoTime();
            run(pool, threads, k -> fmaChains(iterations, k));
            if (rep >= 0) {
                seconds[rep] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Arrays.sort(seconds);
        // 8 chains × lanes × 2 flops per iteration and thread.
        return 2.0 * 8 * Width.SPECIES.length() * iterations * threads / seconds[seconds.length / 2];
    }

    /** Eight independent FMA chains: enough to keep two FMA pipes with a four-cycle latency busy. */
    private static Float fmaChains(int iterations, int seed) {
        FloatVector a = FloatVector.broadcast(Width.SPECIES, 0.999999f);
        FloatVector b = FloatVector.broadcast(Width.SPECIES, 1e-7f * (seed + 1));
        FloatVector c0 = FloatVector.broadcast(Width.SPECIES, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
        }
        // The sum keeps every chain alive, so the JIT cannot drop any.
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private interface Part {
        Object run(int k) throws Exception;
    }

    private static void run(ExecutorService pool, int threads, Part part) {
        try {
            Future<?>[] f = new Future<?>[threads];
            for (int k = 0; k < threads; k++) {
                int id = k;
                f[k] = pool.submit((Callable<Object>) () -> part.run(id));
            }
            for (Future<?> x : f) {
                x.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException("measuring the machine's ceilings failed: " + e, e);
        }
    }
}
