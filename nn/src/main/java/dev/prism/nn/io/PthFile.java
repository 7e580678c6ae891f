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
 * <p>The pickle is read by {@link TorchPickle} under an allow-list: loading never executes code or
 * instantiates a class the file names; anything outside the list fails with a
 * {@link WeightFileException} naming the global. Opening validates the archive (exactly one
 * {@code data.pkl}, an optional {@code byteorder} that must say {@code little}), the pickle, every
 * tensor's view against its storage's declared size, and every storage entry's byte length against
 * that size. Non-contiguous tensors (a transposed view saved as it was) and storage offsets (a slice)
 * are gathered into row-major order by {@link Entry#toTensor()}. Nested dicts are flattened with dots
 * and non-tensor values are listed by {@link #ignored()} (see {@link TorchPickle}).
 *
 * <p>PyTorch's legacy format (a bare pickle stream, from {@code _use_new_zipfile_serialization=False}
 * or PyTorch before 1.6) is rejected with a message saying how to re-save the file.
 *
 * <p><b>Lifetime and threads.</b> The archive stays open until {@link #close()}; storages are read from
 * it when a tensor is converted (only the bytes the view needs), so entries are usable until then.
 * Conversions may run from any number of threads; closing must wait until they are done.
 */
public final class PthFile implements WeightFile {
    /** The largest {@code data.pkl} accepted; a state_dict's pickle is a few hundred bytes per tensor. */
    public static final long MAX_PICKLE_BYTES = 256L << 20;

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
            String source = file.source;
            DType dtype = dtype();
            if (!dtype.loadsAsFloat()) {
                throw new WeightFileException(source, "tensor '" + name + "': dtype " + dtype
                        + " cannot be loaded as float (expected " + DType.floatNames() + ")");
            }
            long numel = ref.numel();
            if (numel > Integer.MAX_VALUE - 8) {
                throw new WeightFileException(source, "tensor '" + name + "': " + numel + " elements are more than a Java array holds");
            }
            float[] out = new float[(int) numel];
            if (numel == 0) {
                return Tensor.of(out, ref.shape());
            }
            long span = ref.lastElement() - ref.offset() + 1;
            if (span > Integer.MAX_VALUE - 8) {
                throw new WeightFileException(source, "tensor '" + name + "': its view spans " + span
                        + " storage elements, more than a Java array holds");
            }
            MemorySegment bytes = file.read(storage, ref.offset() * dtype.size(), span * dtype.size(), name);
            if (ref.contiguous()) {
                Floats.toFloats(bytes, dtype, out, 0, out.length);
            } else {
                float[] window = new float[(int) span];
                Floats.toFloats(bytes, dtype, window, 0, window.length);
                gather(window, ref.shape(), ref.stride(), out);
            }
            return Tensor.of(out, ref.shape());
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
    }

    private ZipEntry storageEntry(String prefix, TorchPickle.Storage s) {
        String name = prefix + "data/" + s.key();
        ZipEntry ze = zip.getEntry(name);
        if (ze == null) {
            throw new WeightFileException(source, "storage '" + s.key() + "' has no archive entry '" + name + "'");
        }
        long need;
        try {
            need = Math.multiplyExact(s.numel(), s.dtype().size());
        } catch (ArithmeticException e) {
            throw new WeightFileException(source, "storage '" + s.key() + "': " + s.numel() + " elements overflow 64 bits of bytes");
        }
        if (ze.getSize() != need) {
            throw new WeightFileException(source, "storage '" + s.key() + "' (" + s.dtype() + " × " + s.numel() + ") needs "
                    + need + " bytes, archive entry '" + name + "' has " + ze.getSize());
        }
        return ze;
    }

    /**
     * Opens a {@code torch.save} zip archive and validates it (see the class documentation).
     *
     * @throws WeightFileException if the file is not such an archive or breaks its format
     * @throws IOException         if it cannot be read
     */
    public static PthFile open(Path path) throws IOException {
        String source = path.toString();
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(4);
        }
        if (!looksLikeZip(head)) {
            rejectLegacy(source, head);
            throw new WeightFileException(source, "not a zip archive: expected the bytes 50 4b 03 04 ('PK\\3\\4') that start"
                    + " a torch.save file, found " + HexFormat.ofDelimiter(" ").formatHex(head));
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new WeightFileException(source, "not a valid zip archive: " + e.getMessage(), e);
        }
        try {
            String pkl = findPickle(source, zip);
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            checkByteOrder(source, zip, prefix);
            byte[] pickle = readAll(source, zip, zip.getEntry(pkl), MAX_PICKLE_BYTES);
            return new PthFile(source, zip, TorchPickle.parse(source, pickle), prefix);
        } catch (RuntimeException | IOException | Error e) {
            try {
                zip.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof ZipException z) {
                throw new WeightFileException(source, "corrupt zip archive: " + z.getMessage(), z);
            }
            throw e;
        }
    }

    /** The one entry {@code <dir>/data.pkl}; torch.save names {@code <dir>} after the file or "archive". */
    private static String findPickle(String source, ZipFile zip) {
        List<String> found = new ArrayList<>();
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
            String n = en.nextElement().getName();
            int slash = n.indexOf('/');
            if (slash > 0 && n.indexOf('/', slash + 1) < 0 && n.endsWith("/data.pkl")) {
                found.add(n);
            }
        }
        if (found.size() != 1) {
            throw new WeightFileException(source, "expected one '<dir>/data.pkl' entry in the zip archive, found "
                    + (found.isEmpty() ? "none: not a torch.save file" : found.size() + ": " + found));
        }
        return found.getFirst();
    }

    private static void checkByteOrder(String source, ZipFile zip, String prefix) throws IOException {
        ZipEntry bo = zip.getEntry(prefix + "byteorder");
        if (bo != null) {
            String order = new String(readAll(source, zip, bo, 16), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) {
                throw new WeightFileException(source, "byteorder: expected 'little', found '" + order + "'");
            }
        }
    }

    private static byte[] readAll(String source, ZipFile zip, ZipEntry e, long limit) throws IOException {
        if (e.getSize() > limit) {
            throw new WeightFileException(source, "'" + e.getName() + "' is " + e.getSize() + " bytes, above the limit of " + limit);
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) limit + 1);
            if (b.length > limit) {
                throw new WeightFileException(source, "'" + e.getName() + "' is above the limit of " + limit + " bytes");
            }
            return b;
        }
    }

    /** {@code len} bytes of a storage from byte {@code from}; only the part a view needs. */
    private MemorySegment read(ZipEntry storage, long from, long len, String tensor) {
        try (InputStream in = zip.getInputStream(storage)) {
            in.skipNBytes(from);
            byte[] b = in.readNBytes((int) len);
            if (b.length != len) {
                throw new WeightFileException(source, "tensor '" + tensor + "': archive entry '" + storage.getName()
                        + "' ended after " + (from + b.length) + " bytes, expected " + (from + len));
            }
            return MemorySegment.ofArray(b);
        } catch (ZipException e) {
            throw new WeightFileException(source, "tensor '" + tensor + "': corrupt archive entry '" + storage.getName()
                    + "': " + e.getMessage(), e);
        } catch (java.io.EOFException e) {
            throw new WeightFileException(source, "tensor '" + tensor + "': archive entry '" + storage.getName()
                    + "' ended before byte " + from, e);
        } catch (IOException e) {
            throw new UncheckedIOException(source + ": reading archive entry '" + storage.getName() + "'", e);
        }
    }

    /** True if {@code head} starts like a zip archive (a local file header). */
    static boolean looksLikeZip(byte[] head) {
        return head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
    }

    /** Fails with a re-save hint if {@code head} starts like PyTorch's legacy format: a bare protocol-2 pickle. */
    static void rejectLegacy(String source, byte[] head) {
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] == 2) {
            throw new WeightFileException(source, "PyTorch's legacy format (a bare pickle, written with"
                    + " _use_new_zipfile_serialization=False or by PyTorch < 1.6) is not supported;"
                    + " load it in PyTorch and save it again with torch.save(obj, path)");
        }
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
