package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.ExecutionStats;
import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
import dev.prism.kernels.catalog.KernelCase;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Times catalog cases on a backend: what {@code prism bench} reports.
 *
 * <p>For each case the plan is built on fresh seeded buffers and compiled; the first execution is timed
 * on its own (it carries the JIT warm-up, and on TornadoVM the kernel compilation); then come untimed
 * executions, at least {@code warmup} of them and for at least {@code warmupSeconds} (the JIT compiles a
 * kernel's hot loop only after many iterations), and {@code runs} timed ones, stopped early once
 * {@code budgetNanos} is spent (never before 5 timed runs). Reported: median and interquartile range of the wall time per
 * execution and, where the backend has a profiler, the median device kernel time.
 */
public final class BenchRunner {

    /**
     * One case on one backend.
     *
     * @param firstMillis       the first execution, compile and JIT included
     * @param medianMillis      median wall time of the timed executions (transfers included on a device)
     * @param p25Millis         first quartile
     * @param p75Millis         third quartile
     * @param runs              timed executions
     * @param kernelMillis      median device kernel time (TornadoVM profiler), or NaN when the backend has none
     * @param compileMillis     compile time the profiler charged to the first execution, or NaN
     * @param flops             floating-point operations of one execution
     * @param bytes             minimum bytes one execution moves
     */
    public record Result(String kernel, String shape, String backend, double firstMillis, double medianMillis,
                         double p25Millis, double p75Millis, int runs, double kernelMillis, double compileMillis,
                         long flops, long bytes) {
    }

    private final int warmup;
    private final long warmupNanos;
    private final int runs;
    private final long budgetNanos;

    /** The most warm-up or timed executions: --breakdown runs every one of them, whatever the budget. */
    public static final int MAX_COUNT = 100_000;
    /** The longest warm-up or budget, in seconds: an hour per case. */
    public static final int MAX_SECONDS = 3600;

    /**
     * @throws IllegalArgumentException naming the option when a count or a time is out of range (or not a number)
     */
    public BenchRunner(int warmup, double warmupSeconds, int runs, double budgetSeconds) {
        if (warmup < 0 || warmup > MAX_COUNT) {
            throw new IllegalArgumentException("--warmup expected 0 to " + MAX_COUNT + ", found " + warmup);
        }
        if (!(warmupSeconds >= 0 && warmupSeconds <= MAX_SECONDS)) {
            throw new IllegalArgumentException("--warmup-time expected 0 to " + MAX_SECONDS + " seconds, found " + warmupSeconds);
        }
        if (runs < 5 || runs > MAX_COUNT) {
            throw new IllegalArgumentException("--runs expected 5 to " + MAX_COUNT + " (a median of fewer than 5 is noise), found " + runs);
        }
        if (!(budgetSeconds > 0 && budgetSeconds <= MAX_SECONDS)) {
            throw new IllegalArgumentException("--budget expected more than 0 and at most " + MAX_SECONDS + " seconds, found " + budgetSeconds);
        }
        this.warmup = warmup;
        this.warmupNanos = (long) (warmupSeconds * 1e9);
        this.runs = runs;
        this.budgetNanos = (long) (budgetSeconds * 1e9);
    }

    public Result run(KernelCase c, Backend backend, long seed) {
        Plan plan = c.build().apply(seed);
        try (Executable e = backend.compile(plan)) {
            long t0 = System.nanoTime();
            e.execute();
            double first = (System.nanoTime() - t0) / 1e6;
            double compile = e.lastStats().map(s -> s.compileNanos() / 1e6).orElse(Double.NaN);
            long warm = System.nanoTime();
            for (int i = 0; i < warmup || System.nanoTime() - warm < warmupNanos; i++) {
                e.execute();
            }
            List<Double> wall = new ArrayList<>();
            List<Double> kernel = new ArrayList<>();
            long start = System.nanoTime();
            while (wall.size() < runs && (wall.size() < 5 || System.nanoTime() - start < budgetNanos)) {
                long t = System.nanoTime();
                e.execute();
                wall.add((System.nanoTime() - t) / 1e6);
                Optional<ExecutionStats> s = e.lastStats();
                s.ifPresent(st -> kernel.add(st.kernelNanos() / 1e6));
            }
            double[] w = sorted(wall);
            return new Result(c.name(), c.shape(), backend.id(), first, quantile(w, 0.5), quantile(w, 0.25), quantile(w, 0.75),
                    w.length, kernel.isEmpty() ? Double.NaN : quantile(sorted(kernel), 0.5), compile, plan.flops(), plan.bytes());
        }
    }

    /**
     * Times {@code once}, a whole unit of work that is not a single plan execution (a sampling run):
     * the first call on its own, then at least one untimed call, then repeated timed calls (at least 3,
     * more while the budget lasts, at most {@code runs}).
     */
    public Result time(String kernel, String shape, String backend, Runnable once, long flops, long bytes) {
        long t0 = System.nanoTime();
        once.run();
        double first = (System.nanoTime() - t0) / 1e6;
        once.run();
        List<Double> wall = new ArrayList<>();
        long start = System.nanoTime();
        while (wall.size() < runs && (wall.size() < 3 || System.nanoTime() - start < budgetNanos)) {
            long t = System.nanoTime();
            once.run();
            wall.add((System.nanoTime() - t) / 1e6);
        }
        double[] w = sorted(wall);
        return new Result(kernel, shape, backend, first, quantile(w, 0.5), quantile(w, 0.25), quantile(w, 0.75), w.length,
                Double.NaN, Double.NaN, flops, bytes);
    }

    /**
     * Where a plan's time goes on a JVM backend: each launch run on its own, timed, and summed per kernel
     * over {@code runs} executions after a warm-up of at least three executions and {@code warmupSeconds}
     * (the Vector API variants run several times slower until C2 has compiled them); milliseconds per
     * execution, largest first.
     */
    public static java.util.LinkedHashMap<String, Double> breakdown(KernelCase c, dev.prism.backend.JvmBackend backend, long seed,
                                                                    int runs, double warmupSeconds) {
        Plan plan = c.build().apply(seed);
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        for (int r = 0; r < 3 || System.nanoTime() < warmEnd; r++) {
            for (dev.prism.backend.Launch l : plan.launches()) {
                backend.run(l);
            }
        }
        java.util.Map<String, Double> total = new java.util.HashMap<>();
        for (int r = 0; r < runs; r++) {
            for (dev.prism.backend.Launch l : plan.launches()) {
                long t = System.nanoTime();
                backend.run(l);
                total.merge(l.kernel(), (System.nanoTime() - t) / 1e6 / runs, Double::sum);
            }
        }
        java.util.LinkedHashMap<String, Double> out = new java.util.LinkedHashMap<>();
        total.entrySet().stream().sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    private static double[] sorted(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a;
    }

    /** The value at rank {@code p·(n−1)}, interpolated between neighbours. */
    static double quantile(double[] sorted, double p) {
        double r = p * (sorted.length - 1);
        int lo = (int) Math.floor(r);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (r - lo) * (sorted[hi] - sorted[lo]);
    }
}
