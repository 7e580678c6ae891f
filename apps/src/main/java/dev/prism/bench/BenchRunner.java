package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.ExecutionStats;
import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
import dev.prism.kernels.catalog.KernelCase;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Times catalog cases on a backend: what {@code prism bench} reports.
 *
 * <p>For each case the plan is built on fresh seeded buffers and compiled; the first execution is timed
 * on its own (it carries the JIT warm-up, and on TornadoVM the kernel compilation); then come untimed
 * executions, at least {@code warmup} of them and for at least {@code warmupSeconds} (the JIT compiles a
 * kernel's hot loop only after many iterations), and {@code runs} timed ones, stopped early once
 * {@code budgetNanos} is spent (never before 5 timed runs). Reported: median and interquartile range of the wall time per
 * execution and, where the backend has a profiler, the median device kernel time.
 *
 * <p>The JIT: after the warm-up the runner keeps executing until HotSpot has finished no compilation for
 * {@link #JIT_QUIET_NANOS} (at most {@link #JIT_WAIT_NANOS} longer), because a case timed while C2 is still
 * compiling its kernels runs code that allocates its vectors on the heap (the Vector API below C2) and can take
 * twice as long. A case during whose timed executions the JIT still finished compilations worth at least
 * {@link #JIT_SHARE} of their time is recorded in {@link #jitDuringTiming()}, which {@code prism bench} prints as a
 * warning.
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

    /** The JIT counts as done once it has finished no compilation for this long. */
    static final long JIT_QUIET_NANOS = 500_000_000L;
    /** The share of a case's timed runs that compilation must reach for the case to be named. */
    static final double JIT_SHARE = 0.05;
    /** The longest the warm-up is extended while the JIT is still compiling. */
    static final long JIT_WAIT_NANOS = 20_000_000_000L;
    /** Profiled executions after the timed ones, for the device time of backends with a profiler. */
    public static final int PROFILED_RUNS = 5;

    private final int warmup;
    private final long warmupNanos;
    private final int runs;
    private final long budgetNanos;
    /** Milliseconds the JIT has spent compiling so far, or −1 where the JVM does not say. */
    private final LongSupplier jitClock;
    private final long jitQuietNanos;
    private final long jitWaitNanos;
    /** Case and backend, to the milliseconds of compilation the JIT finished during its timed executions. */
    private final Map<String, Long> jitDuringTiming = new LinkedHashMap<>();

    /** The most warm-up or timed executions: --breakdown runs every one of them, whatever the budget. */
    public static final int MAX_COUNT = 100_000;
    /** The longest warm-up or budget, in seconds: an hour per case. */
    public static final int MAX_SECONDS = 3600;

    /**
     * @throws IllegalArgumentException naming the option when a count or a time is out of range (or not a number)
     */
    public BenchRunner(int warmup, double warmupSeconds, int runs, double budgetSeconds) {
        this(warmup, warmupSeconds, runs, budgetSeconds, BenchRunner::hotSpotJitMillis, JIT_QUIET_NANOS, JIT_WAIT_NANOS);
    }

    /**
     * As above, reading the JIT's compilation time from {@code jitClock}, with the quiet time and the longest
     * wait given (tests drive a clock of their own).
     */
    BenchRunner(int warmup, double warmupSeconds, int runs, double budgetSeconds, LongSupplier jitClock, long jitQuietNanos,
                long jitWaitNanos) {
        this.jitClock = jitClock;
        this.jitQuietNanos = jitQuietNanos;
        this.jitWaitNanos = jitWaitNanos;
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
            untilJitQuiet(e::execute);
            List<Double> wall = new ArrayList<>();
            List<Double> kernel = new ArrayList<>();
            long jit0 = jitMillis();
            long start = System.nanoTime();
            while (wall.size() < runs && (wall.size() < 5 || System.nanoTime() - start < budgetNanos)) {
                long t = System.nanoTime();
                e.execute();
                wall.add((System.nanoTime() - t) / 1e6);
            }
            noteJit(c.name(), backend.id(), jit0, wall.stream().mapToDouble(Double::doubleValue).sum());
            // Device time comes from profiled executions after the timed ones: a profiler (TornadoVM's) costs
            // time of its own, which the wall times above must not include.
            e.profile(true);
            for (int i = 0; i < PROFILED_RUNS; i++) {
                e.execute();
                Optional<ExecutionStats> s = e.lastStats();
                if (s.isEmpty()) {
                    break;
                }
                kernel.add(s.get().kernelNanos() / 1e6);
            }
            double[] w = sorted(wall);
            return new Result(c.name(), c.shape(), backend.id(), first, quantile(w, 0.5), quantile(w, 0.25), quantile(w, 0.75),
                    w.length, kernel.isEmpty() ? Double.NaN : quantile(sorted(kernel), 0.5), compile, plan.flops(), plan.bytes());
        }
    }

    /**
     * The cases (as {@code "kernel on backend"}) during whose timed executions the JIT finished compilations,
     * with the milliseconds it spent on them: their times may include code not yet compiled. Empty where the
     * JVM does not report compilation time.
     */
    public Map<String, Long> jitDuringTiming() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(jitDuringTiming));
    }

    private long jitMillis() {
        return jitClock.getAsLong();
    }

    /** Milliseconds this JVM's JIT has spent compiling, or −1 where it does not say. */
    private static long hotSpotJitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /** Runs {@code work} until the JIT has finished no compilation for the quiet time, or for the longest wait. */
    private void untilJitQuiet(Runnable work) {
        long last = jitMillis();
        if (last < 0) {
            return;
        }
        long begin = System.nanoTime();
        long changed = begin;
        while (System.nanoTime() - changed < jitQuietNanos && System.nanoTime() - begin < jitWaitNanos) {
            work.run();
            long now = jitMillis();
            if (now != last) {
                last = now;
                changed = System.nanoTime();
            }
        }
    }

    /**
     * Records the case when the JIT's compilation during its timed runs ({@code timedMillis} of them) came to at
     * least {@link #JIT_SHARE} of their time: a few milliseconds of small compilations elsewhere in the JVM are
     * normal and do not make a case's times wrong.
     */
    private void noteJit(String kernel, String backend, long before, double timedMillis) {
        long spent = jitMillis() - before;
        if (before >= 0 && spent > 0 && spent >= JIT_SHARE * timedMillis) {
            jitDuringTiming.merge(kernel + " on " + backend, spent, Long::sum);
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
        untilJitQuiet(once);
        List<Double> wall = new ArrayList<>();
        long jit0 = jitMillis();
        long start = System.nanoTime();
        while (wall.size() < runs && (wall.size() < 3 || System.nanoTime() - start < budgetNanos)) {
            long t = System.nanoTime();
            once.run();
            wall.add((System.nanoTime() - t) / 1e6);
        }
        noteJit(kernel, backend, jit0, wall.stream().mapToDouble(Double::doubleValue).sum());
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
