package dev.prism.nn.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * A zip archive written field by field (APPNOTE.TXT: local headers, data, central directory, end
 * record), so that a test can make every field say what a hostile file would: sizes that disagree with
 * the data, offsets that point elsewhere, unknown compression methods, a directory larger than the file.
 * {@link #torch} lays out what {@code torch.save} writes: {@code <dir>/data.pkl}, {@code <dir>/data/<key>},
 * {@code <dir>/version}, all stored.
 */
public final class ZipBytes {
    /** One record; the {@code cen*} and {@code loc*} fields are what the headers declare and may be changed. */
    public static final class Entry {
        public String name;
        /** The record's bytes as they sit in the file (deflated if {@link #method} is 8). */
        public byte[] payload;
        public int method;
        public int flags;
        public long crc;
        public long cenCompressed;
        public long cenSize;
        public long locCompressed;
        public long locSize;
        /** Added to the real local header offset in the central directory. */
        public long offsetShift;
        public byte[] cenExtra = new byte[0];
        public byte[] locExtra = new byte[0];
        /** Also write the local header and data (false: the central directory names a record that is not there). */
        public boolean present = true;

        Entry(String name, byte[] data, boolean deflate) {
            this.name = name;
            CRC32 c = new CRC32();
            c.update(data);
            this.crc = c.getValue();
            this.method = deflate ? 8 : 0;
            this.payload = deflate ? deflate(data) : data.clone();
            this.cenCompressed = this.locCompressed = payload.length;
            this.cenSize = this.locSize = data.length;
        }
    }

    public final List<Entry> entries = new ArrayList<>();
    public byte[] comment = new byte[0];
    /** Added to the entry count, the directory size and the directory offset in the end record. */
    public int countShift;
    public long cenSizeShift;
    public long cenOffsetShift;
    /** Bytes written between the last record and the central directory. */
    public byte[] gap = new byte[0];

    public Entry add(String name, byte[] data, boolean deflate) {
        Entry e = new Entry(name, data, deflate);
        entries.add(e);
        return e;
    }

    /** torch.save's layout: {@code dir/data.pkl}, {@code dir/data/<key>} for each storage, {@code dir/version}. */
    public static ZipBytes torch(String dir, byte[] pickle, List<byte[]> storages) {
        ZipBytes z = new ZipBytes();
        z.add(dir + "/data.pkl", pickle, false);
        for (int i = 0; i < storages.size(); i++) {
            z.add(dir + "/data/" + i, storages.get(i), false);
        }
        z.add(dir + "/version", "3\n".getBytes(StandardCharsets.US_ASCII), false);
        return z;
    }

    static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        d.setInput(data);
        d.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1 << 14];
        while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
        }
        d.end();
        return out.toByteArray();
    }

    public byte[] bytes() {
        Out o = new Out();
        long[] offsets = new long[entries.size()];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            offsets[i] = o.size();
            if (!e.present) {
                continue;
            }
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            o.u32(0x04034b50).u16(20).u16(e.flags).u16(e.method).u16(0).u16(0x21)
                    .u32(e.crc).u32(e.locCompressed).u32(e.locSize).u16(name.length).u16(e.locExtra.length)
                    .raw(name).raw(e.locExtra).raw(e.payload);
        }
        o.raw(gap);
        long cenStart = o.size();
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            byte[] name = e.name.getBytes(StandardCharsets.UTF_8);
            o.u32(0x02014b50).u16(20).u16(20).u16(e.flags).u16(e.method).u16(0).u16(0x21)
                    .u32(e.crc).u32(e.cenCompressed).u32(e.cenSize).u16(name.length).u16(e.cenExtra.length).u16(0)
                    .u16(0).u16(0).u32(0).u32(offsets[i] + e.offsetShift).raw(name).raw(e.cenExtra);
        }
        long cenSize = o.size() - cenStart;
        o.u32(0x06054b50).u16(0).u16(0).u16(entries.size() + countShift).u16(entries.size() + countShift)
                .u32(cenSize + cenSizeShift).u32(cenStart + cenOffsetShift).u16(comment.length).raw(comment);
        return o.toByteArray();
    }

    /** Little-endian fields. */
    private static final class Out extends ByteArrayOutputStream {
        Out u16(long v) {
            write((int) v);
            write((int) (v >>> 8));
            return this;
        }

        Out u32(long v) {
            return u16(v & 0xffff).u16((v >>> 16) & 0xffff);
        }

        Out raw(byte[] b) {
            writeBytes(b);
            return this;
        }
    }
}
