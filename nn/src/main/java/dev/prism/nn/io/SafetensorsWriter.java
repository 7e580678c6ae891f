package dev.prism.nn.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.prism.nn.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * Writes fp32 tensors as a safetensors file, atomically ({@link AtomicWrite}): the target is either
 * left as it was or replaced by the complete new file.
 *
 * <p>Layout of what is written: tensors in the map's iteration order, contiguous, each
 * {@code F32} little-endian; {@code __metadata__} first in the header when there is any; the header
 * padded with spaces so that the data section starts at a multiple of 8 bytes (as Hugging Face's
 * writer does). Every file written here passes {@link SafetensorsFile}'s validation.
 *
 * <p>Stateless and thread-safe; the tensors must not be modified while they are being written.
 */
public final class SafetensorsWriter {
    private static final JsonFactory JSON = new JsonFactory();
    private static final int CHUNK = 1 << 20;

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
        byte[] header = header(target.toString(), tensors, metadata);
        AtomicWrite.write(target, replace, ch -> {
            ByteBuffer buf = ByteBuffer.allocate(Math.max(CHUNK, header.length + 8)).order(ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length).put(header);
            // Over the whole backing array: offsets below are absolute buffer positions.
            MemorySegment seg = MemorySegment.ofArray(buf.array());
            for (Tensor t : tensors.values()) {
                float[] a = t.data();
                int i = 0;
                while (i < a.length) {
                    if (buf.remaining() < 4) {
                        drain(ch, buf);
                    }
                    int n = Math.min(a.length - i, buf.remaining() / 4);
                    MemorySegment.copy(a, i, seg, Floats.F32_LE, buf.position(), n);
                    buf.position(buf.position() + 4 * n);
                    i += n;
                }
            }
            drain(ch, buf);
        });
    }

    /** Writes {@code tensors} with no metadata, refusing to replace an existing file. */
    public static void write(Path target, Map<String, Tensor> tensors) throws IOException {
        write(target, tensors, Map.of(), false);
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }

    /** The JSON header, space-padded so that 8 + its length is a multiple of 8. */
    static byte[] header(String target, Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(SafetensorsFile.METADATA_KEY);
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new IllegalArgumentException(target + ": metadata keys and values must not be null, found "
                                + m.getKey() + " = " + m.getValue());
                    }
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            long offset = 0;
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                String name = e.getKey();
                Tensor t = e.getValue();
                if (name == null || t == null) {
                    throw new IllegalArgumentException(target + ": tensor names and tensors must not be null, found "
                            + name + " = " + t);
                }
                if (name.equals(SafetensorsFile.METADATA_KEY)) {
                    throw new IllegalArgumentException(target + ": tensor name '" + name + "' is reserved by the safetensors format");
                }
                long bytes = 4L * t.numel();
                g.writeObjectFieldStart(name);
                g.writeStringField("dtype", DType.F32.name());
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) {
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
        } catch (IOException e) {
            throw new UncheckedIOException("writing a JSON header to memory", e);
        }
        byte[] json = out.toByteArray();
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = new byte[padded];
        System.arraycopy(json, 0, header, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            header[i] = ' ';
        }
        return header;
    }
}
