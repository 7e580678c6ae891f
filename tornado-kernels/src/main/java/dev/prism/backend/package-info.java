/**
 * The runtime: what runs launches. A {@link dev.prism.backend.Launch} is one invocation of a kernel
 * over concrete buffers; a {@link dev.prism.backend.Plan} is an ordered list of them with its inputs,
 * outputs and constants; a {@link dev.prism.backend.Backend} compiles a plan into an
 * {@link dev.prism.backend.Executable}. Here live the JVM backend ({@link dev.prism.backend.JvmBackend},
 * its worker team {@link dev.prism.backend.Team}) and the reflective side of the TornadoVM backend
 * ({@link dev.prism.backend.TornadoSupport}, {@link dev.prism.backend.KernelScan}); the TornadoVM
 * task-graph glue itself is in {@code src/tornado/java}, compiled only under the {@code tornado} profile.
 */
package dev.prism.backend;
