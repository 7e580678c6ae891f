package dev.prism.backend;

/**
 * What a device backend measured for one execution of a compiled plan (TornadoVM's profiler).
 *
 * @param kernelNanos   time spent in kernels on the device
 * @param compileNanos  JIT and driver compile time charged to this execution (non-zero on the first)
 * @param copyInBytes   bytes host → device as TornadoVM's profiler counts them: the transfers of this
 *                      execution, plus (TornadoVM's accounting, seen in its bytecode trace with
 *                      {@code -Dtornado.print.bytecodes=true}) the size of every output buffer and 24 bytes
 *                      of kernel arguments per task, which are not transfers
 * @param copyOutBytes  bytes moved device → host by this execution
 * @param totalNanos    wall time of the execution as the host saw it, transfers included
 */
public record ExecutionStats(long kernelNanos, long compileNanos, long copyInBytes, long copyOutBytes, long totalNanos) {
}
