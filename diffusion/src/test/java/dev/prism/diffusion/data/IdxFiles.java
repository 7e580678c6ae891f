package dev.prism.diffusion.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes IDX files for tests: a header as the format defines it, then the given bytes. */
public final class IdxFiles {
    private IdxFiles() {
    }

    /** {@code 00 00 type count}, the sizes big-endian, then {@code data}. */
    public static byte[] idx(int type, int[] dims, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(0);
        out.write(type);
        out.write(dims.length);
        for (int d : dims) {
            out.write(d >>> 24);
            out.write(d >>> 16);
            out.write(d >>> 8);
            out.write(d);
        }
        out.writeBytes(data);
        return out.toByteArray();
    }

    public static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes {@code content} to {@code dir/name}, gzip-compressed when the name ends in {@code .gz}; returns the path. */
    public static Path write(Path dir, String name, byte[] content) {
        Path file = dir.resolve(name);
        try {
            Files.write(file, name.endsWith(".gz") ? gzip(content) : content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
