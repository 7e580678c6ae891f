package dev.prism.backend;

/** A plan compiled for one backend. */
public interface Executable extends AutoCloseable {

    /** The plan this was compiled from. */
    Plan plan();

    /**
     * Runs every launch of the plan once, in order. Before it starts, the host values of the plan's
     * inputs are taken; when it returns, the plan's outputs hold the results on the host.
     */
    void execute();

    /**
     * Makes the host copies of {@code buffers} hold their values after the last {@link #execute()}. On
     * the JVM they always do; a device backend copies them back now.
     *
     * @throws IllegalArgumentException if a buffer was not declared fetchable (or output) in the plan
     */
    default void fetch(float[]... buffers) {
        for (float[] b : buffers) {
            if (!plan().fetchable().contains(b) && !plan().outputs().contains(b)) {
                throw new IllegalArgumentException("plan '" + plan().name() + "': a buffer of length " + b.length
                        + " was not declared fetchable (Plan.Builder.fetchable) or output");
            }
        }
    }

    /**
     * What the device measured for the last {@link #execute()}, when the backend has a profiler and it was on
     * for that execution (the TornadoVM backend's is on for the first execution and after {@code profile(true)};
     * the JVM backend measures nothing beyond the wall time a caller takes).
     */
    default java.util.Optional<ExecutionStats> lastStats() {
        return java.util.Optional.empty();
    }

    /**
     * Whether the following executions are profiled for {@link #lastStats()}. A profiler can cost time of its
     * own: TornadoVM's added about 1 ms to every execution of a one-kernel plan on PoCL, so the TornadoVM
     * backend profiles a plan's first execution only (which is where a bailout shows), unless asked here.
     * Backends without a profiler ignore it.
     */
    default void profile(boolean on) {
    }

    @Override
    default void close() {
    }
}
