package dev.prism.nn.io;

import dev.prism.nn.Tensor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch {@code state_dict} file ({@code .pth}, {@code .pt}) as {@code torch.save} writes it since
 * PyTorch 1.6: a zip archive holding {@code <name>/data.pkl}, a pickle of the dict whose tensors
 * refer to storages by key, and {@code <name>/data/<key>}, each storage's raw little-endian elements.
 *
 * <p>The pickle is read by {@link TorchPickle} under an allow-list and {@link PickleLimits}: loading
 * never executes code or instantiates a class the file names, and a pickle built to exhaust memory
 * fails at a limit; anything outside the list fails with a {@link WeightFileException} naming the
 * global. Opening validates the archive (a central directory within the bytes limit, exactly one
 * {@code data.pkl}, an optional {@code byteorder} that must say {@code little}), the pickle, every
 * tensor's view against its storage's declared size, and every storage's declared size against its
 * zip record: a stored record must really hold that many bytes in the file (its last byte is read),
 * a deflated one must inflate to exactly that many. So the counts a file declares are counts it
 * holds. Non-contiguous tensors (a transposed view saved as it was) and storage offsets (a slice)
 * are gathered into row-major order by {@link Entry#toTensor()}. Nested dicts are flattened with
 * dots and non-tensor values are listed by {@link #ignored()} (see {@link TorchPickle}).
 *
 * <p>Files in other formats are named rather than misread: PyTorch's legacy format (a bare pickle
 * stream, from {@code _use_new_zipfile_serialization=False} or PyTorch before 1.6) with how to re-save
 * it, TorchScript archives ({@code torch.jit.save}), NumPy {@code .npz} archives and a pickled
 * {@code nn.Module} ({@code torch.save(model)}).
 *
 * <p><b>Errors.</b> Once the file is open, anything wrong with its contents or with reading them (a
 * corrupt or truncated record, a read error) is a {@link WeightFileException} naming the file, the
 * archive entry and the byte within it; only opening the file itself throws {@link IOException}.
 *
 * <p><b>Lifetime and threads.</b> The archive stays open until {@link #close()}; storages are read from
 * it when a tensor is converted (only the bytes the view needs), so entries are usable until then.
 * Conversions may run from any number of threads; closing must wait until they are done.
 */
public final class PthFile implements WeightFile {
    /** Bytes read at a time when a storage is streamed, checked or gathered. */
    private static final int BLOCK = 1 << 16;

    /** One tensor: a view of a storage in the archive. */
    public static final class Entry implements WeightEntry {
        private final PthFile file;
        private final String name;
        private final TorchPickle.TensorRef ref;
        private final ZipEntry storage;

        private Entry(PthFile file, String name, TorchPickle.TensorRef ref, ZipEntry storage) {
            this.file = file;
            this.name = name;
            this.ref = ref;
            this.storage = storage;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public DType dtype() {
            return ref.storage().dtype();
        }

        @Override
        public int[] shape() {
            return ref.shape().clone();
        }

        @Override
        public long numel() {
            return ref.numel();
        }

        /** The storage key: the archive entry {@code data/<key>} holds this tensor's elements. */
        public String storageKey() {
            return ref.storage().key();
        }

        /** The first element of the view, in storage elements. */
        public long storageOffset() {
            return ref.offset();
        }

        /** Storage elements between neighbours along each dimension (a copy). */
        public long[] stride() {
            return ref.stride().clone();
        }

        /** True if the elements are consecutive in the storage, in row-major order. */
        public boolean contiguous() {
            return ref.contiguous();
        }

        @Override
        public Tensor toTensor() {
            Floats.checkConvertible(file.source, name, dtype(), ref.numel());
            float[] out = new float[(int) ref.numel()];
            if (out.length == 0) {
                return Tensor.of(out, ref.shape());
            }
            try {
                if (ref.contiguous()) {
                    file.stream(this, ref.offset(), out.length, out, null);
                } else {
                    long span = ref.lastElement() - ref.offset() + 1;
                    Floats.checkArray(file.source, "tensor '" + Printable.name(name) + "': the " + span
                            + " storage elements its view spans", span);
                    float[] window = new float[(int) span];
                    file.stream(this, ref.offset(), window.length, window, null);
                    gather(window, ref.shape(), ref.stride(), out);
                }
            } catch (IOException e) {
                // stream() throws IOException only from a sink, and there is none here.
                throw new UncheckedIOException(e);
            }
            return Tensor.of(out, ref.shape());
        }

        /**
         * A contiguous view streams from its storage {@code buffer.length} elements at a time; a
         * non-contiguous one is gathered whole first ({@link #toTensor()}), then handed over in pieces.
         */
        @Override
        public void readFloats(float[] buffer, FloatSink sink) throws IOException {
            WeightEntry.checkBuffer(buffer);
            if (!ref.contiguous()) {
                WeightEntry.super.readFloats(buffer, sink);
                return;
            }
            Floats.checkFloat(file.source, name, dtype());
            if (ref.numel() > 0) {
                file.stream(this, ref.offset(), ref.numel(), buffer, sink);
            }
        }

        /** out (row-major over shape) [i] = window[Σ i_d·stride_d]: an odometer over the multi-index. */
        private static void gather(float[] window, int[] shape, long[] stride, float[] out) {
            int rank = shape.length;
            int[] idx = new int[rank];
            long at = 0;
            for (int i = 0; i < out.length; i++) {
                out[i] = window[(int) at];
                for (int d = rank - 1; d >= 0; d--) {
                    idx[d]++;
                    at += stride[d];
                    if (idx[d] < shape[d]) {
                        break;
                    }
                    at -= stride[d] * shape[d];
                    idx[d] = 0;
                }
            }
        }

        @Override
        public String toString() {
            return name + " " + dtype() + Floats.shape(ref.shape());
        }
    }

    private final String source;
    private final ZipFile zip;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final List<String> ignored;
    private final TorchPickle.Usage usage;

    private PthFile(String source, ZipFile zip, TorchPickle.Parsed parsed, String prefix) {
        this.source = source;
        this.zip = zip;
        List<Entry> list = new ArrayList<>();
        Map<String, Entry> map = new LinkedHashMap<>();
        Map<String, ZipEntry> storages = new LinkedHashMap<>();
        for (Map.Entry<String, TorchPickle.TensorRef> t : parsed.tensors().entrySet()) {
            TorchPickle.Storage s = t.getValue().storage();
            ZipEntry ze = storages.computeIfAbsent(s.key(), k -> storageEntry(prefix, s));
            Entry e = new Entry(this, t.getKey(), t.getValue(), ze);
            list.add(e);
            map.put(e.name, e);
        }
        this.entries = Collections.unmodifiableList(list);
        this.byName = Collections.unmodifiableMap(map);
        this.ignored = parsed.ignored();
        this.usage = parsed.usage();
    }

    /** The archive entry of storage {@code s}, checked to hold exactly the bytes the storage declares. */
    private ZipEntry storageEntry(String prefix, TorchPickle.Storage s) {
        String name = prefix + "data/" + s.key();
        String key = Printable.name(s.key());
        ZipEntry ze = zip.getEntry(name);
        if (ze == null) {
            throw new WeightFileException(source, "storage '" + key + "' has no archive entry '" + Printable.name(name) + "'");
        }
        long need;
        try {
            need = Math.multiplyExact(s.numel(), s.dtype().size());
        } catch (ArithmeticException e) {
            throw new WeightFileException(source, "storage '" + key + "': " + s.numel() + " elements overflow 64 bits of bytes");
        }
        String what = "storage '" + key + "' (" + s.dtype() + " × " + s.numel() + ") needs " + need + " bytes, archive entry '"
                + Printable.name(name) + "'";
        if (ze.getSize() != need) {
            throw new WeightFileException(source, what + " declares " + ze.getSize());
        }
        long real = recordBytes(ze, need);
        if (real != need) {
            throw new WeightFileException(source, what + (ze.getMethod() == ZipEntry.STORED
                    ? " is a stored record that the file ends inside of (its last byte, " + (need - 1) + ", cannot be read)"
                    : " inflates to " + (real > need ? "more than " + need : String.valueOf(real)) + " bytes"));
        }
        return ze;
    }

    /**
     * The bytes record {@code ze} really yields, counted up to {@code need + 1}: for a stored record, {@code need}
     * if its last byte can be read and -1 if not (without reading the rest); for a deflated one, by inflating.
     */
    private long recordBytes(ZipEntry ze, long need) {
        if (need == 0) {
            return 0;
        }
        long n = 0;
        try (InputStream in = zip.getInputStream(ze)) {
            if (ze.getMethod() == ZipEntry.STORED) {
                if (ze.getCompressedSize() != need) {
                    return -1;
                }
                // A stored record's stream skips without reading: only the last byte is fetched from the file.
                n = in.skip(need - 1);
                return n == need - 1 && in.read() >= 0 ? need : -1;
            }
            byte[] b = new byte[BLOCK];
            int r;
            while (n <= need && (r = in.read(b, 0, (int) Math.min(b.length, need + 1 - n))) > 0) {
                n += r;
            }
            return n;
        } catch (IOException e) {
            throw readError(ze, n, null, e);
        }
    }

    /** {@link #open(Path, PickleLimits)} under {@link PickleLimits#DEFAULT}. */
    public static PthFile open(Path path) throws IOException {
        return open(path, PickleLimits.DEFAULT);
    }

    /**
     * Opens a {@code torch.save} zip archive and validates it (see the class documentation).
     *
     * @param limits bounds on the pickle and the archive's directory
     * @throws WeightFileException if the path is not a regular file, the file is not such an archive, breaks its
     *                             format, exceeds a limit, or cannot be read once open
     * @throws IOException         if it cannot be opened
     */
    public static PthFile open(Path path, PickleLimits limits) throws IOException {
        String source = path.toString();
        Formats.requireRegularFile(path);
        byte[] head = Formats.head(path);
        long size = Files.size(path);
        if (!Formats.zip(head)) {
            Formats.rejectKnown(source, head, size);
            throw new WeightFileException(source, "not a zip archive: expected the bytes 50 4b 03 04 ('PK\\3\\4') that start"
                    + " a torch.save file, found " + HexFormat.ofDelimiter(" ").formatHex(head, 0, Math.min(4, head.length)));
        }
        long directory = ZipDirectory.size(path);
        if (directory > limits.bytes()) {
            throw new WeightFileException(source, "the zip archive's central directory is " + directory
                    + " bytes, above the pickle limit bytes=" + limits.bytes() + TorchPickle.LIMIT_HINT);
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (IOException e) {
            // The file was just read: what ZipFile fails on is its directory (an end record whose comment runs past
            // the end of the file fails as a bare EOFException).
            String why = e instanceof java.io.EOFException ? "the zip directory or its comment runs past the end of the file"
                    : String.valueOf(e.getMessage());
            throw new WeightFileException(source, "not a valid zip archive (" + size + " bytes; cut short?): " + why, e);
        }
        try {
            String pkl = findPickle(source, zip);
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            checkByteOrder(source, zip, prefix);
            ZipEntry pe = zip.getEntry(pkl);
            // The directory is materialised already: data.pkl gets what is left of the bytes limit.
            byte[] pickle = readAll(source, zip, pe, limits.bytes() - Math.max(0, directory), limits.bytes());
            return new PthFile(source, zip, TorchPickle.parse(source, pickle, limits, Math.max(0, directory)), prefix);
        } catch (RuntimeException | Error e) {
            closeQuietly(zip, e);
            throw e;
        }
    }

    private static void closeQuietly(ZipFile zip, Throwable e) {
        try {
            zip.close();
        } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
        }
    }

    /**
     * The one entry {@code <dir>/data.pkl}; torch.save names {@code <dir>} after the file or "archive". Archives
     * of other kinds are named: TorchScript ({@code constants.pkl} beside {@code data.pkl}, as torch.load
     * recognises them) and NumPy's {@code .npz} ({@code .npy} entries).
     */
    private static String findPickle(String source, ZipFile zip) {
        List<String> found = new ArrayList<>();
        List<String> first = new ArrayList<>();
        boolean npy = false;
        boolean torchScript = false;
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
            String n = en.nextElement().getName();
            if (first.size() < 3) {
                first.add("'" + Printable.name(n) + "'");
            }
            int slash = n.indexOf('/');
            boolean top = slash > 0 && n.indexOf('/', slash + 1) < 0;
            if (top && n.endsWith("/data.pkl")) {
                found.add(n);
            }
            torchScript |= top && n.endsWith("/constants.pkl");
            npy |= n.endsWith(".npy");
        }
        if (torchScript) {
            throw new WeightFileException(source, "this is a TorchScript archive (torch.jit.save), not a state_dict;"
                    + " save the model's weights with torch.save(model.state_dict(), path)");
        }
        if (found.isEmpty() && npy) {
            throw new WeightFileException(source, "this is a NumPy .npz archive; Prism reads safetensors and torch.save archives");
        }
        if (found.size() != 1) {
            throw new WeightFileException(source, "expected one '<dir>/data.pkl' entry in the zip archive, found "
                    + (found.isEmpty() ? "none: not a torch.save file" + (first.isEmpty() ? " (the archive is empty)"
                    : " (its entries start with " + String.join(", ", first) + ")")
                    : found.size() + ": " + found.stream().map(Printable::name).toList()));
        }
        return found.getFirst();
    }

    private static void checkByteOrder(String source, ZipFile zip, String prefix) {
        ZipEntry bo = zip.getEntry(prefix + "byteorder");
        if (bo != null) {
            String order = new String(readAll(source, zip, bo, 16, 16), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw new WeightFileException(source, "byteorder: expected 'little', found '" + Printable.name(order) + "'");
            }
        }
    }

    /**
     * The whole of a small entry, refused beyond {@code room} bytes whatever its header declares ({@code limit}:
     * the pickle limit bytes, which {@code room} is what is left of, for the message).
     */
    private static byte[] readAll(String source, ZipFile zip, ZipEntry e, long room, long limit) {
        String name = Printable.name(e.getName());
        String why = room == limit ? "" : " (" + (limit - room) + " of them taken by the zip directory)";
        if (e.getSize() > room) {
            throw new WeightFileException(source, "'" + name + "' is " + e.getSize() + " bytes, above the pickle limit bytes="
                    + limit + why + TorchPickle.LIMIT_HINT);
        }
        int cap = (int) Math.min(room, Integer.MAX_VALUE - 16);
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes(cap + 1);
            if (b.length > cap) {
                throw new WeightFileException(source, "'" + name + "' inflates to more than " + cap + " bytes, above the pickle limit bytes="
                        + limit + why + TorchPickle.LIMIT_HINT);
            }
            return b;
        } catch (IOException x) {
            throw new WeightFileException(source, "reading archive entry '" + name + "': " + x.getMessage(), x);
        }
    }

    /**
     * Converts {@code count} storage elements of {@code e} from element {@code first} to fp32: into {@code dst}
     * from index 0 when {@code sink} is null ({@code dst} holds them all), else through {@code dst} as a buffer,
     * {@code dst.length} elements at a time.
     */
    private void stream(Entry e, long first, long count, float[] dst, WeightEntry.FloatSink sink) throws IOException {
        DType dtype = e.dtype();
        int size = dtype.size();
        long from = first * size;
        int step = Math.min(dst.length, BLOCK);
        byte[] bytes = new byte[step * size];
        float[] chunk = sink == null ? new float[step] : dst;
        try (InputStream in = open(e, from)) {
            long done = 0;
            while (done < count) {
                int n = (int) Math.min(step, count - done);
                int got = readNBytes(in, bytes, n * size, e, from + done * size);
                if (got != n * size) {
                    throw new WeightFileException(source, "tensor '" + Printable.name(e.name) + "': archive entry '"
                            + Printable.name(e.storage.getName()) + "' ended after " + (from + done * size + got)
                            + " bytes, expected " + (from + count * size));
                }
                Floats.toFloats(MemorySegment.ofArray(bytes), dtype, chunk, 0, n);
                if (sink == null) {
                    System.arraycopy(chunk, 0, dst, (int) done, n);
                } else {
                    sink.accept(chunk, n);
                }
                done += n;
            }
        }
    }

    /** The storage's stream, positioned at byte {@code from}. */
    private InputStream open(Entry e, long from) {
        InputStream in = null;
        try {
            in = zip.getInputStream(e.storage);
            in.skipNBytes(from);
            return in;
        } catch (IOException x) {
            if (in != null) {
                try {
                    in.close();
                } catch (IOException suppressed) {
                    x.addSuppressed(suppressed);
                }
            }
            throw readError(e.storage, from, e.name, x);
        } catch (IllegalStateException x) {
            throw new IllegalStateException(source + ": closed; tensor '" + Printable.name(e.name) + "' can no longer be read", x);
        }
    }

    private int readNBytes(InputStream in, byte[] b, int n, Entry e, long at) {
        try {
            return in.readNBytes(b, 0, n);
        } catch (IOException x) {
            throw readError(e.storage, at, e.name, x);
        }
    }

    /** A failure to read record {@code ze} at byte {@code at} (-1: unknown) for {@code tensor} (null: none), as the typed error. */
    private WeightFileException readError(ZipEntry ze, long at, String tensor, IOException x) {
        String what = (tensor != null ? "tensor '" + Printable.name(tensor) + "': " : "")
                + "archive entry '" + Printable.name(ze.getName()) + "'" + (at >= 0 ? " at byte " + at : "");
        String why = x instanceof ZipException ? "corrupt record" : x instanceof java.io.EOFException ? "ended early" : "read failed";
        return new WeightFileException(source, what + ": " + why + ": " + x.getMessage(), x);
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public String format() {
        return "pytorch zip";
    }

    @Override
    public List<Entry> entries() {
        return entries;
    }

    @Override
    public Entry entry(String name) {
        Entry e = byName.get(name);
        if (e == null) {
            throw WeightFileException.noSuchTensor(source, name, entries.size());
        }
        return e;
    }

    @Override
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** Always empty: torch.save has no metadata besides the pickle. */
    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    /** Names of values in the pickle that are not tensors (a checkpoint's {@code epoch}, a list), flattened like tensor names. */
    public List<String> ignored() {
        return ignored;
    }

    /** How much of each {@link PickleLimits} reading the pickle took. */
    public TorchPickle.Usage pickleUsage() {
        return usage;
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": closing the archive", e);
        }
    }

    @Override
    public String toString() {
        return source + " (pytorch zip, " + entries.size() + " tensors)";
    }
}
