package dev.prism.nn.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Locale;

/**
 * What a file is, from its type and its first bytes: the checks every weight-file reader makes
 * before it parses anything, so that a FIFO is refused instead of read forever and a file in a format
 * Prism does not read is named as that format instead of failing as a broken safetensors file.
 */
final class Formats {
    /** Bytes read to tell formats apart: a tar header's "ustar" magic sits at byte 257. */
    static final int HEAD = 512;

    /** The LONG1 opcode and the 10 bytes of torch.serialization.MAGIC_NUMBER (0x1950a86a20f9469cfc6c). */
    private static final byte[] LEGACY_MAGIC = HexFormat.of().parseHex("8a0a6cfc9c46f9206aa85019");
    /** The same number as pickle protocols 0 and 1 write it. */
    private static final byte[] LEGACY_MAGIC_TEXT = "L119547037146038801333356L\n".getBytes(StandardCharsets.US_ASCII);

    private Formats() {
    }

    /**
     * Refuses {@code path} unless it is a regular file (symbolic links followed), before anything opens
     * it: opening a FIFO for reading waits for a writer, and a device can be endless.
     *
     * @throws WeightFileException naming what it is instead (a directory, a FIFO, a device, a socket)
     * @throws IOException         if its attributes cannot be read (e.g. it does not exist)
     */
    static void requireRegularFile(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        if (a.isRegularFile()) {
            return;
        }
        String kind = a.isDirectory() ? "a directory" : special(path);
        throw new WeightFileException(path.toString(), "is " + kind + ", not a regular file; weight files are read only from regular files");
    }

    /** What kind of special file {@code path} is, from its mode bits where the platform has them. */
    private static String special(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return switch (mode & 0170000) {
                case 0010000 -> "a FIFO (named pipe)";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "a special file";
        }
    }

    /** Up to {@link #HEAD} bytes from the start of a regular file. */
    static byte[] head(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(HEAD);
        }
    }

    /** True if {@code head} starts like a zip archive (a local file header). */
    static boolean zip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /**
     * Fails naming the format if {@code head}, the first bytes of a file of {@code size} bytes, is one that
     * Prism recognises but does not read: an empty file, PyTorch's legacy formats, a bare pickle,
     * compressed or archived files, other tensor formats, a Git LFS pointer or a web page saved in place
     * of a download. Returns for anything else.
     */
    static void rejectKnown(String source, byte[] head, long size) {
        if (size == 0) {
            throw new WeightFileException(source, "the file is empty (0 bytes)");
        }
        String what = known(head);
        if (what != null) {
            throw new WeightFileException(source, what);
        }
    }

    private static String known(byte[] h) {
        if (legacyTorch(h)) {
            return "this is a legacy torch.save file (the format PyTorch wrote before 1.6, and later only with"
                    + " _use_new_zipfile_serialization=False); Prism reads the zip format torch.save has written by default"
                    + " since PyTorch 1.6: re-save it with torch.save(torch.load(path), new_path, _use_new_zipfile_serialization=True)";
        }
        if (h.length >= 2 && (h[0] & 0xff) == 0x80 && h[1] >= 2 && h[1] <= 5) {
            return "this is a bare pickle stream (protocol " + h[1] + ", e.g. from pickle.dump), not a torch.save archive;"
                    + " Prism reads torch.save zip archives and safetensors: save the state_dict with torch.save(state_dict, path)";
        }
        if (h.length >= 262 && ascii(h, 257, 5).equals("ustar")) {
            return "this is a tar archive (PyTorch's oldest torch.save format was one, or it is a tarball of files);"
                    + " extract the weight file, or re-save a state_dict with a current PyTorch's torch.save(state_dict, path)";
        }
        if (starts(h, 0x1f, 0x8b)) {
            return "this is a gzip-compressed file; decompress it first (gunzip)";
        }
        if (starts(h, 'B', 'Z', 'h')) {
            return "this is a bzip2-compressed file; decompress it first (bunzip2)";
        }
        if (starts(h, 0xfd, '7', 'z', 'X', 'Z', 0)) {
            return "this is an xz-compressed file; decompress it first (unxz)";
        }
        if (starts(h, 0x28, 0xb5, 0x2f, 0xfd)) {
            return "this is a zstd-compressed file; decompress it first (unzstd)";
        }
        if (starts(h, 'G', 'G', 'U', 'F')) {
            return "this is a GGUF file (llama.cpp); Prism reads safetensors and torch.save archives";
        }
        if (starts(h, 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n')) {
            return "this is an HDF5 file (e.g. Keras .h5 weights); Prism reads safetensors and torch.save archives";
        }
        if (starts(h, 0x93, 'N', 'U', 'M', 'P', 'Y')) {
            return "this is a NumPy .npy array; Prism reads safetensors and torch.save archives";
        }
        String text = ascii(h, 0, Math.min(h.length, 64)).stripLeading().toLowerCase(Locale.ROOT);
        if (text.startsWith("version https://git-lfs.github.com/spec/")) {
            return "this is a Git LFS pointer, not the file it points to: fetch the file (git lfs pull)";
        }
        if (text.startsWith("<!doctype html") || text.startsWith("<html") || text.startsWith("<?xml")) {
            return "this is an HTML or XML page, not a weight file (a download that returned an error page?)";
        }
        return null;
    }

    private static boolean legacyTorch(byte[] h) {
        if (h.length >= 2 && (h[0] & 0xff) == 0x80) {
            return at(h, 2, LEGACY_MAGIC) || (h.length > 2 && (h[2] & 0xff) == 0x95 && at(h, 11, LEGACY_MAGIC));
        }
        return at(h, 0, LEGACY_MAGIC_TEXT);
    }

    /** Fails for a file that is none of the formats Prism reads or recognises, showing its first bytes. */
    static WeightFileException unknown(String source, byte[] head) {
        int n = Math.min(head.length, 16);
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = head[i] & 0xff;
            shown.append(c >= 0x20 && c < 0x7f ? (char) c : '.');
        }
        return new WeightFileException(source, "not a weight file Prism reads: neither safetensors (an 8-byte header length,"
                + " then a JSON object) nor a torch.save zip archive (\"PK\\3\\4\"); it starts with "
                + HexFormat.ofDelimiter(" ").formatHex(head, 0, n) + " (\"" + shown + "\")");
    }

    /** True if {@code head} is a safetensors file's start: a header length within the file, then a JSON object. */
    static boolean safetensors(byte[] head, long size) {
        if (head.length < 9) {
            return false;
        }
        long n = java.nio.ByteBuffer.wrap(head, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        return n > 0 && n <= size - 8 && maybeSafetensors(head, size);
    }

    /** True if a file starting with {@code head} of {@code size} bytes may be safetensors: its JSON header starts after 8 bytes. */
    static boolean maybeSafetensors(byte[] head, long size) {
        for (int i = 8; i < head.length; i++) {
            byte b = head[i];
            if (b == '{') {
                return true;
            }
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        // Only whitespace in the bytes read: a header padded beyond them may still start later.
        return head.length < size;
    }

    private static boolean starts(byte[] h, int... bytes) {
        if (h.length < bytes.length) {
            return false;
        }
        for (int i = 0; i < bytes.length; i++) {
            if ((h[i] & 0xff) != (bytes[i] & 0xff)) {
                return false;
            }
        }
        return true;
    }

    private static boolean at(byte[] h, int off, byte[] want) {
        if (h.length < off + want.length) {
            return false;
        }
        for (int i = 0; i < want.length; i++) {
            if (h[off + i] != want[i]) {
                return false;
            }
        }
        return true;
    }

    private static String ascii(byte[] h, int off, int n) {
        return new String(h, off, Math.max(0, Math.min(n, h.length - off)), StandardCharsets.ISO_8859_1);
    }
}
