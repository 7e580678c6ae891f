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
     * What the device measured for the last {@link #execute()}, when the backend has a profiler (the
     * TornadoVM backend does; the JVM backend measures nothing beyond the wall time a caller takes).
     */
    default java.util.Optional<ExecutionStats> lastStats() {
        return java.util.Optional.empty();
    }

    @Override
    default void close() {
    }
}
