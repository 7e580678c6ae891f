package dev.prism.nn.io;

import dev.prism.nn.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * An open weight file: a named set of tensors whose headers have been read and validated, and whose
 * data is converted to fp32 only when a caller asks ({@link WeightEntry#toTensor()}).
 *
 * <p>Two formats: {@link SafetensorsFile} (memory-mapped; read and written) and {@link PthFile}
 * (PyTorch {@code torch.save} zip archives of a {@code state_dict}; read only). {@link #open} tells
 * them apart by their first bytes, not their names.
 *
 * <p><b>Lifetime.</b> The file is a resource: whoever opens it closes it, best with
 * try-with-resources. Tensors returned by {@link WeightEntry#toTensor()} are copies and stay valid
 * after {@link #close()}; the entries themselves (and a safetensors entry's mapped bytes) do not.
 *
 * <p><b>Threads.</b> After opening, a weight file is immutable: any number of threads may read
 * entries and convert tensors at the same time. {@link #close()} must not race with those reads.
 */
public sealed interface WeightFile extends AutoCloseable permits SafetensorsFile, PthFile {

    /** {@link #open(Path, PickleLimits)} under {@link PickleLimits#DEFAULT}. */
    static WeightFile open(Path path) throws IOException {
        return open(path, PickleLimits.DEFAULT);
    }

    /**
     * Opens {@code path} as safetensors or as a PyTorch zip archive, whichever its first bytes say
     * (a zip starts with {@code PK\3\4}; a safetensors file has its JSON header after 8 bytes). A path that
     * is not a regular file (a directory, a FIFO, a device) is refused before it is opened. Formats Prism
     * recognises but does not read are named in the error: PyTorch's legacy non-zip format (with how to
     * re-save it), a bare pickle, TorchScript, NumPy, GGUF, HDF5, compressed files, a Git LFS pointer, a web
     * page.
     *
     * @param limits bounds on a PyTorch file's pickle ({@link PthFile}); safetensors files are bounded by
     *               {@link SafetensorsFile#MAX_HEADER_BYTES}
     * @throws WeightFileException if the path is not a regular file, or the file is in another format, breaks
     *                             its format, or cannot be read once open
     * @throws IOException         if it cannot be opened (it does not exist, permission is denied)
     */
    static WeightFile open(Path path, PickleLimits limits) throws IOException {
        Formats.requireRegularFile(path);
        byte[] head = Formats.head(path);
        if (Formats.zip(head)) {
            return PthFile.open(path, limits);
        }
        long size = java.nio.file.Files.size(path);
        if (Formats.safetensors(head, size)) {
            // Before the other formats' magic numbers: a header length such as 0x480 starts like a pickle (80 04).
            return SafetensorsFile.open(path);
        }
        Formats.rejectKnown(path.toString(), head, size);
        if (size >= 8 && !Formats.maybeSafetensors(head, size)) {
            throw Formats.unknown(path.toString(), head);
        }
        return SafetensorsFile.open(path);
    }

    /** The file as the caller named it; every error message starts with it. */
    String source();

    /** "safetensors" or "pytorch zip": the format, for people. */
    String format();

    /** The tensors in file order (header order for safetensors, pickle order for PyTorch files). */
    List<? extends WeightEntry> entries();

    /**
     * The tensor named {@code name}.
     *
     * @throws WeightFileException if there is none; the message names the file
     */
    WeightEntry entry(String name);

    /** True if the file has a tensor named {@code name}. */
    boolean has(String name);

    /** The file's string metadata (safetensors {@code __metadata__}); empty when there is none. */
    Map<String, String> metadata();

    /** {@code entry(name).toTensor()}. */
    default Tensor tensor(String name) {
        return entry(name).toTensor();
    }

    /** Releases the mapping or archive. Entries must not be used afterwards; converted tensors stay valid. */
    @Override
    void close();
}
