package dev.prism.diffusion.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * An IDX file of unsigned bytes (the format of MNIST and Fashion-MNIST), plain or gzip-compressed,
 * read whole and validated.
 *
 * <p>Layout: a 4-byte magic number {@code 00 00 TT DD} (two zero bytes, the data type {@code TT}, the
 * dimension count {@code DD}), then {@code DD} big-endian 32-bit sizes, then the data, row-major, with
 * nothing after it. Only data type {@code 0x08} (unsigned byte) is accepted. A file is gzip-compressed
 * when it starts with the gzip magic {@code 1F 8B}, whatever its name; offsets in messages then count
 * decompressed bytes. Every check failure is a {@link DataSetException} naming the file, the offset,
 * what was expected and what was found.
 */
final class IdxFile {
    static final int UNSIGNED_BYTE = 0x08;
    private static final int MAX_DATA = Integer.MAX_VALUE - 8;

    private final int[] dims;
    private final byte[] data;

    private IdxFile(int[] dims, byte[] data) {
        this.dims = dims;
        this.data = data;
    }

    /** The dimension sizes (a copy). */
    int[] dims() {
        return dims.clone();
    }

    /** Size of dimension {@code k}. */
    int dim(int k) {
        return dims[k];
    }

    /** The data, row-major, unsigned bytes (not a copy: the caller owns the file's array). */
    byte[] data() {
        return data;
    }

    /** The byte offset of the data: 4 + 4·(dimension count). */
    long dataOffset() {
        return 4L + 4L * dims.length;
    }

    /**
     * Reads and checks an IDX file of unsigned bytes.
     *
     * @param file       the file, plain or gzip-compressed
     * @param dimensions the dimension count the file must have
     * @param what       what the data holds, for messages ("pixels", "labels")
     * @throws DataSetException naming the file for a missing file, a read error, a broken gzip stream, a
     *                          wrong magic number, data type or dimension count, a size below 1, data shorter
     *                          or longer than the sizes say
     */
    static IdxFile read(Path file, int dimensions, String what) {
        String name = file.toString();
        if (!Files.exists(file)) {
            throw new DataSetException(name, "file not found");
        }
        if (!Files.isRegularFile(file)) {
            throw new DataSetException(name, "expected a regular file, found " + (Files.isDirectory(file) ? "a directory" : "something else"));
        }
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            InputStream data = open(name, raw);
            Counted in = new Counted(name, data, data != raw);
            return read(in, dimensions, what);
        } catch (NoSuchFileException e) {
            throw new DataSetException(name, DataSetException.NO_OFFSET, "file not found", e);
        } catch (IOException e) {
            throw new DataSetException(name, DataSetException.NO_OFFSET, "cannot be read (" + e + ")", e);
        }
    }

    private static InputStream open(String name, InputStream raw) throws IOException {
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        if (b0 != 0x1F || b1 != 0x8B) {
            return raw;
        }
        try {
            return new GZIPInputStream(raw, 1 << 16);
        } catch (IOException e) {
            throw new DataSetException(name, 0, "expected a gzip header, found a broken one (" + e.getMessage() + ")", e);
        }
    }

    private static IdxFile read(Counted in, int dimensions, String what) {
        byte[] magic = new byte[4];
        int got = in.read(magic, 4, "bytes of IDX magic number");
        if (got < 4) {
            throw in.error(0, "expected 4 bytes of IDX magic number, found " + got);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw in.error(0, String.format("expected an IDX magic number starting with two zero bytes, found 0x%02X%02X%02X%02X",
                    magic[0], magic[1], magic[2], magic[3]));
        }
        int type = magic[2] & 0xFF;
        if (type != UNSIGNED_BYTE) {
            throw in.error(2, String.format("expected data type 0x%02X (unsigned byte), found 0x%02X (%s)", UNSIGNED_BYTE, type, typeName(type)));
        }
        int count = magic[3] & 0xFF;
        if (count != dimensions) {
            throw in.error(3, "expected " + dimensions + (dimensions == 1 ? " dimension" : " dimensions") + ", found " + count);
        }
        byte[] sizes = new byte[4 * count];
        got = in.read(sizes, sizes.length, "bytes of dimension sizes");
        if (got < sizes.length) {
            throw in.error(4, "expected " + sizes.length + " bytes of dimension sizes (" + count + " × 4-byte big-endian), found " + got);
        }
        int[] dims = new int[count];
        long total = 1;
        for (int k = 0; k < count; k++) {
            int o = 4 * k;
            dims[k] = (sizes[o] & 0xFF) << 24 | (sizes[o + 1] & 0xFF) << 16 | (sizes[o + 2] & 0xFF) << 8 | sizes[o + 3] & 0xFF;
            if (dims[k] < 1) {
                throw in.error(4 + o, "expected size of dimension " + k + " >= 1, found " + dims[k]);
            }
            total *= dims[k];
            if (total > MAX_DATA) {
                throw in.error(4, "expected at most " + MAX_DATA + " bytes of " + what + " (the most one Java array holds), found sizes "
                        + shape(dims, k + 1) + (k + 1 < count ? "×..." : "") + ", more than that");
            }
        }
        long start = in.position;
        String expected = "expected " + total + " bytes of " + what + " (" + shape(dims, count) + ")";
        byte[] data = in.readAll((int) total, expected + " from offset " + start);
        if (data.length < total) {
            throw in.error(start, expected + ", found " + data.length);
        }
        long end = in.position;
        String content = total + " bytes of " + what + " (" + shape(dims, count) + ")";
        long extra = in.skipRest(content);
        if (extra > 0) {
            throw in.error(end, "expected the end of the file after " + content + ", found " + extra + " more bytes");
        }
        return new IdxFile(dims, data);
    }

    static String shape(int[] dims, int count) {
        StringBuilder s = new StringBuilder();
        for (int k = 0; k < count; k++) {
            s.append(k == 0 ? "" : "×").append(dims[k]);
        }
        return s.toString();
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "short";
            case 0x0C -> "int";
            case 0x0D -> "float";
            case 0x0E -> "double";
            default -> "not an IDX data type";
        };
    }

    /** A stream that knows its position in the (decompressed) data and turns read errors into messages. */
    private static final class Counted {
        private final String name;
        private final InputStream in;
        private final boolean gzip;
        long position;

        Counted(String name, InputStream in, boolean gzip) {
            this.name = name;
            this.in = in;
            this.gzip = gzip;
        }

        DataSetException error(long offset, String problem) {
            return new DataSetException(name, offset, problem, null);
        }

        /** Reads up to {@code len} bytes into {@code b}; fewer only at the end of the data. */
        int read(byte[] b, int len, String expected) {
            int n = 0;
            while (n < len) {
                int r;
                try {
                    r = in.read(b, n, len - n);
                } catch (IOException e) {
                    throw broken(e, "expected " + len + " " + expected + " from offset " + (position - n) + ", found " + n);
                }
                if (r < 0) {
                    break;
                }
                n += r;
                position += r;
            }
            return n;
        }

        /**
         * Reads up to {@code len} bytes, growing the array only as data arrives, so that a header that
         * claims more than the file holds costs no more memory than the file.
         */
        byte[] readAll(int len, String expected) {
            byte[] b = new byte[Math.min(len, 1 << 20)];
            int n = 0;
            while (n < len) {
                if (n == b.length) {
                    b = Arrays.copyOf(b, (int) Math.min(len, 2L * b.length));
                }
                int r;
                try {
                    r = in.read(b, n, b.length - n);
                } catch (IOException e) {
                    throw broken(e, expected + ", found " + n);
                }
                if (r < 0) {
                    break;
                }
                n += r;
                position += r;
            }
            return n == b.length ? b : Arrays.copyOf(b, n);
        }

        /** Reads to the end and returns how many bytes there were; {@code after} says what came before. */
        long skipRest(String after) {
            byte[] b = new byte[1 << 16];
            long n = 0;
            while (true) {
                int r;
                try {
                    r = in.read(b);
                } catch (IOException e) {
                    throw broken(e, "after " + after + (n > 0 ? " and " + n + " more bytes" : ""));
                }
                if (r < 0) {
                    return n;
                }
                n += r;
                position += r;
            }
        }

        private DataSetException broken(IOException e, String context) {
            return new DataSetException(name, position, (gzip ? "the gzip data is broken here (" : "reading failed here (")
                    + e.getMessage() + "): " + context, e);
        }
    }
}
