/**
 * Weight files: safetensors (read and write) and PyTorch {@code state_dict} archives (read).
 *
 * <h2>Reading</h2>
 * <pre>{@code
 * try (WeightFile f = WeightFile.open(Path.of("model.safetensors"))) {   // or a .pth / .pt
 *     for (WeightEntry e : f.entries()) {
 *         System.out.println(e.name() + " " + e.dtype() + Arrays.toString(e.shape()));
 *     }
 *     Tensor w = f.tensor("down.0.conv.weight");                          // fp32, a copy
 *     Map<String, Tensor> all = StrictLoad.load(f, model.parameterShapes(), "module.");
 * }
 * }</pre>
 * {@link dev.prism.nn.io.WeightFile#open} picks the format from the first bytes.
 * {@link dev.prism.nn.io.SafetensorsFile} memory-maps the file and exposes each tensor's bytes as a
 * slice of the mapping; {@link dev.prism.nn.io.PthFile} reads a {@code torch.save} zip archive whose
 * pickle is unpickled by {@link dev.prism.nn.io.TorchPickle} under an allow-list of globals, so no code
 * in the file can run. Either way, data becomes a {@code float[]} only when
 * {@link dev.prism.nn.io.WeightEntry#toTensor()} is called; F32, F16 and BF16 convert (exactly),
 * other dtypes are listed and rejected by name. {@link dev.prism.nn.io.StrictLoad} loads exactly a
 * model's parameter set or reports every mismatch at once.
 *
 * <h2>Writing</h2>
 * {@link dev.prism.nn.io.SafetensorsWriter} writes fp32 tensors and string metadata through
 * {@link dev.prism.nn.io.AtomicWrite}: a temporary file in the same directory, flushed, then renamed,
 * so a failure never leaves a partial file or loses the previous one.
 *
 * <h2>Errors and untrusted files</h2>
 * Every problem with a file's contents is a {@link dev.prism.nn.io.WeightFileException} (an
 * {@link java.lang.IllegalArgumentException}) whose message starts with the file and says what was
 * expected and what was found, with names from the file escaped for a terminal ({@link dev.prism.nn.io.Printable}).
 * A path that is not a regular file is refused before it is opened; failing to open a file is an
 * {@link java.io.IOException}; once a file is open, failing to read it is a {@code WeightFileException} naming the
 * place. Reading a {@code .pth} pickle is bounded by {@link dev.prism.nn.io.PickleLimits}, and
 * {@link dev.prism.nn.io.WeightEntry#readFloats} converts a tensor piece by piece, so that
 * {@link dev.prism.nn.io.SafetensorsWriter#writeEntries} copies a file larger than the heap.
 *
 * <h2>Lifetime and threads</h2>
 * Whoever opens a weight file closes it. Open files are immutable and may be read from many threads;
 * tensors returned by {@code toTensor()} are independent copies that outlive the file.
 */
package dev.prism.nn.io;
