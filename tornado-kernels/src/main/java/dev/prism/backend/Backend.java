package dev.prism.backend;


/**
 * Runs kernel launches and compiled plans on one device.
 *
 * <p>Implementations: {@link JvmBackend} (all cores through the per-lane helpers, or sequentially
 * through the kernel methods themselves as the test oracle) and, under the {@code tornado} Maven
 * profile, a TornadoVM backend that compiles the same kernel methods for OpenCL, PTX or SPIR-V.
 */
public interface Backend extends AutoCloseable {

    /** Short identifier used by flags and reports: {@code jvm}, {@code jvm-seq}, {@code tornado}. */
    String id();

    /** A one-line description of the device and its configuration, for logs and benchmark rows. */
    String description();

    /** Runs one launch to completion; its outputs are on the host when this returns. */
    void run(Launch launch);

    /**
     * Prepares {@code plan} for repeated execution: buffers and compiled code are set up once, and
     * each {@link Executable#execute()} runs the whole list.
     */
    Executable compile(Plan plan);

    /** Releases threads and device resources; the backend cannot be used afterwards. */
    @Override
    void close();
}
