package dev.prism.backend;

/**
 * What a device backend measured for one execution of a compiled plan (TornadoVM's profiler).
 *
 * @param kernelNanos   time spent in kernels on the device
 * @param compileNanos  JIT and driver compile time charged to this execution (non-zero on the first)
 * @param copyInBytes   bytes moved host → device by this execution
 * @param copyOutBytes  bytes moved device → host by this execution
 * @param totalNanos    wall time of the execution as the host saw it, transfers included
 */
public record ExecutionStats(long kernelNanos, long compileNanos, long copyInBytes, long copyOutBytes, long totalNanos) {
}
