package dev.prism.backend;

/**
 * One device a backend can run on, as {@code prism devices} lists it.
 *
 * @param id           the value of {@code --device}: {@code jvm:0}, {@code tornado:0}, {@code tornado:1}, ...
 * @param driver       OpenCL, PTX, SPIR-V, or JVM
 * @param platform     the platform (vendor runtime) the device belongs to
 * @param name         the device's own name
 * @param type         CPU, GPU, ACCELERATOR, ...
 * @param globalMemory global memory in bytes, or -1 when the backend does not say
 */
public record DeviceInfo(String id, String driver, String platform, String name, String type, long globalMemory) {
}
