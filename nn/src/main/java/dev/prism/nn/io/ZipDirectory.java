package dev.prism.nn.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The size of a zip archive's central directory, read from its end records before
 * {@link java.util.zip.ZipFile} reads the directory into one array: the directory's declared size is
 * the file's to choose, up to the whole file, so it is checked against a limit first.
 *
 * <p>The end record is looked for the way {@code ZipFile} does (backwards over the last 64 KiB and a
 * little more; a record whose comment length does not reach the end of the file counts only if a
 * central and a local header signature sit where it says; a ZIP64 end record replaces its values when
 * a locator points at it). Every candidate is taken into account and the largest size returned, so
 * the result bounds what {@code ZipFile} reads whichever candidate it settles on.
 */
final class ZipDirectory {
    private static final int END_SIG = 0x06054b50;
    private static final int CEN_SIG = 0x02014b50;
    private static final int LOC_SIG = 0x04034b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_END_SIG = 0x06064b50;
    private static final int END_LEN = 22;
    /** The end record, its longest comment, and the block ZipFile scans beyond that. */
    private static final int SCAN = 0xffff + END_LEN + 128;

    private ZipDirectory() {
    }

    /**
     * The largest central directory size any end record of {@code path} declares, at most the file's size;
     * -1 if there is no end record (ZipFile then refuses the file).
     */
    static long size(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long length = ch.size();
            int n = (int) Math.min(length, SCAN);
            ByteBuffer tail = read(ch, length - n, n);
            if (tail == null) {
                return -1;
            }
            long best = -1;
            for (int i = n - END_LEN; i >= 0; i--) {
                if (tail.getInt(i) != END_SIG) {
                    continue;
                }
                long endPos = length - n + i;
                long cenLen = Integer.toUnsignedLong(tail.getInt(i + 12));
                long cenOff = Integer.toUnsignedLong(tail.getInt(i + 16));
                int comment = Short.toUnsignedInt(tail.getShort(i + 20));
                if (endPos + END_LEN + comment != length && !signaturesAt(ch, endPos - cenLen, endPos - cenLen - cenOff)) {
                    continue;
                }
                best = Math.max(best, Math.min(length, zip64(ch, endPos, cenLen)));
            }
            return best;
        }
    }

    /** True if a central header starts at {@code cen} and a local header at {@code loc}. */
    private static boolean signaturesAt(FileChannel ch, long cen, long loc) throws IOException {
        if (cen < 0 || loc < 0) {
            return false;
        }
        ByteBuffer c = read(ch, cen, 4);
        ByteBuffer l = read(ch, loc, 4);
        return c != null && l != null && c.getInt(0) == CEN_SIG && l.getInt(0) == LOC_SIG;
    }

    /** The directory size of the ZIP64 end record a locator before {@code endPos} points at, else {@code cenLen}. */
    private static long zip64(FileChannel ch, long endPos, long cenLen) throws IOException {
        if (endPos < 20) {
            return cenLen;
        }
        ByteBuffer loc = read(ch, endPos - 20, 20);
        if (loc == null || loc.getInt(0) != ZIP64_LOCATOR_SIG) {
            return cenLen;
        }
        long end64 = loc.getLong(8);
        if (end64 < 0) {
            return cenLen;
        }
        ByteBuffer e = read(ch, end64, 56);
        if (e == null || e.getInt(0) != ZIP64_END_SIG) {
            return cenLen;
        }
        long len64 = e.getLong(40);
        return len64 < 0 ? Long.MAX_VALUE : Math.max(cenLen, len64);
    }

    /** {@code n} bytes at {@code pos}, little-endian; null if the file does not hold them all. */
    private static ByteBuffer read(FileChannel ch, long pos, int n) throws IOException {
        if (pos < 0 || pos > ch.size() - n) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                return null;
            }
        }
        return b;
    }
}
