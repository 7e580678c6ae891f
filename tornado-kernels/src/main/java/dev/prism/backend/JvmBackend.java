package dev.prism.backend;

import dev.prism.kernels.VectorWidth;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs kernels on the JVM that hosts Prism.
 *
 * <p>{@link #parallel(int)} splits a launch's lanes into one contiguous slice per thread and runs each
 * slice through the kernel's per-lane helper on a fixed team of threads that wait for the next launch
 * between launches (see {@code Team}; the calling thread runs any slice no worker has taken yet, so a
 * launch never waits for a sleeping worker); one launch runs at a time. {@link #sequential()} instead calls the kernel
 * method itself, the plain {@code @Parallel} loops that TornadoVM compiles, on the calling thread:
 * it is the reference every other backend is tested against.
 *
 * <p>Results are bit-identical for every thread count: a kernel's lanes write disjoint outputs and
 * each lane sums in a fixed order, so the partition cannot change a single rounding.
 *
 * <p>Where a kernel has a hand-vectorised variant of its per-lane helper ({@link Launch#vector()},
 * Vector API), the parallel mode runs that variant unless built with {@code vectorised = false}; a
 * variant may round differently from the plain loop (it is tested against it within 1e-5), but it too
 * gives the same bits on every thread count, for a given vector width ({@link VectorWidth}: 128, 256 or 512
 * bits, the machine's widest unless pinned); at another width it may round differently again.
 *
 * <p>The variants need the Vector API, an incubator module that a JVM has only when started with
 * {@code --add-modules jdk.incubator.vector}. Without it the parallel mode runs the plain per-lane helpers on
 * all its threads (the results are then those of the sequential loops, bit for bit), says so in
 * {@link #description()}, and prints {@link #NO_VECTOR_API} on standard error once per JVM, when the first such
 * backend is made. This class is the one place that decides whether a variant runs, so no class of
 * {@code jdk.incubator.vector} is loaded in a JVM without the module.
 */
public final class JvmBackend implements Backend {
    /** Below this many flops plus bytes a launch runs on the calling thread: a fork costs more than it saves. */
    private static final long INLINE_WORK = 1 << 15;
    private static final AtomicInteger POOLS = new AtomicInteger();
    /** Whether this JVM has the Vector API module, which the hand-vectorised variants need. */
    private static final boolean VECTOR_API = VectorWidth.modulePresent();
    /** The one line a JVM without the Vector API module prints when its first vectorised parallel backend is made. */
    public static final String NO_VECTOR_API = "prism: the JVM backend runs the plain kernel loops on all its threads: this JVM"
            + " has no Vector API module (start it with --add-modules jdk.incubator.vector for the hand-vectorised variants)";
    private static final AtomicBoolean TOLD = new AtomicBoolean();

    private final int threads;
    private final boolean sequential;
    /** As asked: with the variants where a kernel has one. */
    private final boolean vectorised;
    /** Whether the variants run: asked for, and the Vector API is present. */
    private final boolean variants;
    private final Team team;

    private JvmBackend(int threads, boolean sequential, boolean vectorised) {
        this.threads = threads;
        this.sequential = sequential;
        this.vectorised = vectorised;
        this.variants = vectorised && VECTOR_API;
        this.team = threads > 1 ? new Team(threads, "prism-jvm-" + POOLS.incrementAndGet()) : null;
    }

    /**
     * The most threads a parallel backend takes: each is a platform thread with its own stack and kernel
     * scratch, and more than a few per processor only adds switching.
     */
    public static final int MAX_THREADS = 1024;

    /** The reference backend: kernel methods run as written, on the calling thread. */
    public static JvmBackend sequential() {
        return new JvmBackend(1, true, false);
    }

    /**
     * A backend that spreads each launch over {@code threads} threads.
     *
     * @throws IllegalArgumentException unless {@code 1 <= threads <=} {@link #MAX_THREADS}
     */
    public static JvmBackend parallel(int threads) {
        return parallel(threads, true);
    }

    /**
     * A backend that spreads each launch over {@code threads} threads, through the kernels'
     * hand-vectorised variants when {@code vectorised}, a kernel has one and this JVM has the Vector API
     * module (without it: the plain loops, and {@link #NO_VECTOR_API} once per JVM).
     *
     * @throws IllegalArgumentException unless {@code 1 <= threads <=} {@link #MAX_THREADS}
     */
    public static JvmBackend parallel(int threads, boolean vectorised) {
        if (threads < 1 || threads > MAX_THREADS) {
            throw new IllegalArgumentException("jvm backend: argument 'threads' expected 1 to " + MAX_THREADS + ", found " + threads);
        }
        if (vectorised && !VECTOR_API && TOLD.compareAndSet(false, true)) {
            System.err.println(NO_VECTOR_API);
        }
        return new JvmBackend(threads, false, vectorised);
    }

    /** A parallel backend with one thread per available processor. */
    public static JvmBackend parallel() {
        return parallel(Runtime.getRuntime().availableProcessors());
    }

    /** The number of threads a launch may use. */
    public int threads() {
        return threads;
    }

    /** True for the oracle mode that runs the kernel methods themselves. */
    public boolean isSequential() {
        return sequential;
    }

    /**
     * {@code jvm-seq}, {@code jvm}, or {@code jvm-plain} for all cores without the hand-vectorised variants: the names the CLI
     * takes. A backend asked for with variants stays {@code jvm} in a JVM without the Vector API module, which
     * {@link #description()} tells.
     */
    @Override
    public String id() {
        return isSequential() ? "jvm-seq" : vectorised ? "jvm" : "jvm-plain";
    }

    /**
     * What runs and where, for the one line every command prints; for {@code jvm}, the vector width of the
     * variants ({@link VectorWidth#describe()}: {@code 512-bit vectors}, and whether they are emulated).
     * Asking fixes the width (a later {@link VectorWidth#pin} to another one fails), but loads no variant.
     */
    @Override
    public String description() {
        if (isSequential()) {
            return "JVM, sequential kernel loops (reference), " + Runtime.version();
        }
        String kind = !vectorised ? "plain loops only"
                : variants ? VectorWidth.describe() : "plain loops only (no Vector API module: start the JVM with --add-modules jdk.incubator.vector)";
        return "JVM, " + threads + " thread" + (threads == 1 ? "" : "s") + ", " + kind + ", " + Runtime.version();
    }

    @Override
    public void run(Launch launch) {
        if (isSequential()) {
            launch.loops().run();
            return;
        }
        int lanes = launch.lanes();
        // The one place a variant is chosen: never without the Vector API, whose classes it would load.
        Lanes body = variants && launch.vector() != null ? launch.vector() : launch.body();
        if (team == null || lanes < threads || launch.flops() + launch.bytes() < INLINE_WORK) {
            body.run(0, lanes);
            return;
        }
        team.run(body, lanes);
    }

    @Override
    public Executable compile(Plan plan) {
        return new Executable() {
            @Override
            public Plan plan() {
                return plan;
            }

            @Override
            public void execute() {
                for (Launch l : plan.launches()) {
                    run(l);
                }
            }
        };
    }

    @Override
    public void close() {
        if (team != null) {
            team.close();
        }
    }
}
