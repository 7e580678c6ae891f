package dev.prism.nn.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import dev.prism.nn.Tensor;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes fp32 tensors as a safetensors file, atomically ({@link AtomicWrite}): the target is either
 * left as it was or replaced by the complete new file.
 *
 * <p>Layout of what is written: tensors in the given order, contiguous, each {@code F32}
 * little-endian; {@code __metadata__} first in the header when there is any; the header padded with
 * spaces so that the data section starts at a multiple of 8 bytes (as Hugging Face's writer does).
 * Every file written here passes {@link SafetensorsFile}'s validation.
 *
 * <p>The file is streamed: the header goes straight to the file (its length is counted in a first
 * pass), and each tensor's values are converted and written a block at a time
 * ({@link WeightEntry#readFloats}), so writing the entries of an open weight file
 * ({@link #writeEntries}) needs memory for one block, not for the file: {@code prism convert} converts
 * checkpoints larger than the heap this way.
 *
 * <p>Stateless and thread-safe; the tensors must not be modified while they are being written.
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
    /** Elements converted and written at a time. */
    private static final int BLOCK = 1 << 16;

    private SafetensorsWriter() {
    }

    /**
     * Writes {@code tensors} (name → tensor, in iteration order) and {@code metadata} to {@code target}.
     *
     * @param replace whether an existing {@code target} may be replaced
     * @throws IllegalArgumentException if a name is {@code __metadata__} (reserved by the format), or a name,
     *                                  tensor, metadata key or value is null; nothing is written then
     * @throws java.nio.file.FileAlreadyExistsException if {@code target} exists and {@code replace} is false
     * @throws IOException if writing fails; {@code target} is then untouched
     */
    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata, boolean replace)
            throws IOException {
        Objects.requireNonNull(tensors, "tensors");
        List<WeightEntry> entries = new ArrayList<>(tensors.size());
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            if (e.getKey() == null || e.getValue() == null) {
                throw new IllegalArgumentException(target + ": tensor names and tensors must not be null, found "
                        + e.getKey() + " = " + e.getValue());
            }
            entries.add(new InMemory(e.getKey(), e.getValue()));
        }
        writeEntries(target, entries, metadata, replace);
    }

    /** Writes {@code tensors} with no metadata, refusing to replace an existing file. */
    public static void write(Path target, Map<String, Tensor> tensors) throws IOException {
        write(target, tensors, Map.of(), false);
    }

    /**
     * Writes {@code entries} (each converted to fp32, in list order, under its name) and {@code metadata} to
     * {@code target}, one block at a time: the entries of an open {@link WeightFile} are converted without
     * holding a whole tensor (see {@link WeightEntry#readFloats}), so memory does not grow with the file.
     *
     * @param replace whether an existing {@code target} may be replaced
     * @throws IllegalArgumentException if a name is {@code __metadata__} or repeats, or a name, metadata key or
     *                                  value is null; nothing is written then
     * @throws WeightFileException      if an entry cannot be converted to fp32 (checked before anything is
     *                                  written for its dtype, while writing for its data); the target is untouched
     * @throws java.nio.file.FileAlreadyExistsException if {@code target} exists and {@code replace} is false
     * @throws IOException if writing fails; {@code target} is then untouched
     */
    public static void writeEntries(Path target, List<? extends WeightEntry> entries, Map<String, String> metadata,
                                    boolean replace) throws IOException {
        Objects.requireNonNull(entries, "entries");
        Objects.requireNonNull(metadata, "metadata");
        Set<String> names = new HashSet<>();
        for (WeightEntry e : entries) {
            String name = e.name();
            if (name == null) {
                throw new IllegalArgumentException(target + ": tensor names must not be null");
            }
            if (name.equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException(target + ": tensor name '" + name + "' is reserved by the safetensors format");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException(target + ": tensor name '" + Printable.name(name) + "' occurs twice");
            }
            if (!e.dtype().loadsAsFloat()) {
                throw new WeightFileException(target.toString(), "tensor '" + Printable.name(name) + "': dtype " + e.dtype()
                        + " cannot be written as F32 (expected " + DType.floatNames() + ")");
            }
        }
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (m.getKey() == null || m.getValue() == null) {
                throw new IllegalArgumentException(target + ": metadata keys and values must not be null, found "
                        + m.getKey() + " = " + m.getValue());
            }
        }
        CountingStream counter = new CountingStream(OutputStream.nullOutputStream());
        header(counter, entries, metadata);
        long json = counter.count;
        long padded = (json + 7) / 8 * 8;
        AtomicWrite.write(target, replace, ch -> {
            OutputStream out = new BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20);
            byte[] length = new byte[8];
            MemorySegment.ofArray(length).set(Floats.I64_LE, 0, padded);
            out.write(length);
            CountingStream h = new CountingStream(out);
            header(h, entries, metadata);
            if (h.count != json) {
                throw new IllegalStateException(target + ": the header changed between its two passes (" + json + " then " + h.count + " bytes)");
            }
            for (long i = json; i < padded; i++) {
                out.write(' ');
            }
            float[] floats = new float[BLOCK];
            byte[] bytes = new byte[4 * BLOCK];
            MemorySegment seg = MemorySegment.ofArray(bytes);
            for (WeightEntry e : entries) {
                long[] written = {0};
                e.readFloats(floats, (values, n) -> {
                    MemorySegment.copy(values, 0, seg, Floats.F32_LE, 0, n);
                    out.write(bytes, 0, 4 * n);
                    written[0] += n;
                });
                if (written[0] != e.numel()) {
                    throw new IllegalStateException(target + ": tensor '" + Printable.name(e.name()) + "' gave " + written[0]
                            + " values, its shape " + Floats.shape(e.shape()) + " has " + e.numel());
                }
            }
            out.flush();
        });
    }

    /** Writes the JSON header of {@code entries} and {@code metadata} (no length, no padding) to {@code out}. */
    private static void header(OutputStream out, List<? extends WeightEntry> entries, Map<String, String> metadata)
            throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(SafetensorsFile.METADATA_KEY);
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (WeightEntry e : entries) {
                long bytes = Math.multiplyExact(4L, e.numel());
                g.writeObjectFieldStart(e.name());
                g.writeStringField("dtype", DType.F32.name());
                g.writeArrayFieldStart("shape");
                for (int d : e.shape()) {
                    g.writeNumber(d);
                }
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + bytes);
                g.writeEndArray();
                g.writeEndObject();
                offset += bytes;
            }
            g.writeEndObject();
        }
    }

    /** A tensor in memory, as an entry to write. */
    private record InMemory(String name, Tensor tensor) implements WeightEntry {
        @Override
        public DType dtype() {
            return DType.F32;
        }

        @Override
        public int[] shape() {
            return tensor.shape();
        }

        @Override
        public long numel() {
            return tensor.numel();
        }

        @Override
        public Tensor toTensor() {
            return tensor;
        }
    }

    /** Counts the bytes passed on to {@code out}. */
    private static final class CountingStream extends FilterOutputStream {
        long count;

        CountingStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
