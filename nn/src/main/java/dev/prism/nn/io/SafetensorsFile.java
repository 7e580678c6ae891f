package dev.prism.nn.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.prism.nn.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file (the Hugging Face format), memory-mapped and validated; tensors are slices of
 * the mapping and become {@code float[]} only when asked.
 *
 * <h2>Format</h2>
 * <pre>
 * [8 bytes]  N, unsigned little-endian: the header's length in bytes
 * [N bytes]  UTF-8 JSON object: { "name": {"dtype": "F32", "shape": [4, 3], "data_offsets": [begin, end]}, ...,
 *                                 "__metadata__": {"key": "value", ...} }   (metadata optional)
 * [rest]     the data section; a tensor's bytes are [begin, end) counted from its first byte,
 *            elements little-endian in row-major order
 * </pre>
 *
 * <h2>What is validated when the file is opened</h2>
 * Every check fails with a {@link WeightFileException} that names the file and says what was
 * expected and what was found:
 * <ul>
 *   <li>the file holds at least the 8-byte length; {@code N} is at most the rest of the file and at
 *       most {@link #MAX_HEADER_BYTES};</li>
 *   <li>the header is one JSON object (Jackson's parser, never string matching; whitespace may pad
 *       it, as Hugging Face's writer pads it to 8 bytes); every member other than
 *       {@code __metadata__} is an object with exactly {@code dtype}, {@code shape} and
 *       {@code data_offsets}, no other keys; names are unique;</li>
 *   <li>{@code dtype} is one of {@link DType}'s names; every dimension is an integer in
 *       {@code [0, 2^31)}; offsets are two non-negative integers with {@code begin <= end <=} the data
 *       section's length, and {@code end - begin} equals numel × the dtype's size;</li>
 *   <li>{@code __metadata__} maps strings to strings;</li>
 *   <li>tensors neither overlap nor leave gaps: sorted by offset, they cover the data section exactly,
 *       with no byte before, between or after them that belongs to no tensor. This is the rule of
 *       Hugging Face's reference reader; a byte that belongs to nothing can only be corruption or a
 *       writer Prism does not know, and either should be looked at rather than read past.</li>
 * </ul>
 * Element values are not inspected (NaN and infinities load as they are).
 *
 * <h2>Lifetime and threads</h2>
 * {@link #open(Path)} maps the file into its own shared {@link Arena}; {@link #close()} closes that
 * arena, which unmaps the file: entries' {@link Entry#bytes()} then fail with
 * {@link IllegalStateException}, while tensors already converted stay valid. A file made with
 * {@link #of(String, MemorySegment)} reads a segment the caller owns and closes nothing. Reading is
 * safe from any number of threads; closing must wait until they are done.
 */
public final class SafetensorsFile implements WeightFile {
    /** The largest header accepted (the reference implementation's limit too): 100 MiB. */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    static final String METADATA_KEY = "__metadata__";

    // Shared and thread-safe; the depth limit stops a hostile header from nesting deeper than the format does.
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).build())
            .build();

    /** One tensor of the file: a slice of the mapping. */
    public static final class Entry implements WeightEntry {
        private final String source;
        private final String name;
        private final DType dtype;
        private final int[] shape;
        private final long numel;
        private final long begin;
        private final long end;
        private final MemorySegment bytes;
        private final Backing backing;

        private Entry(String source, Info info, MemorySegment data, Backing backing) {
            this.backing = backing;
            this.source = source;
            this.name = info.name;
            this.dtype = info.dtype;
            this.shape = info.shape;
            this.numel = info.numel;
            this.begin = info.begin;
            this.end = info.end;
            this.bytes = data.asSlice(begin, end - begin);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public DType dtype() {
            return dtype;
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public long numel() {
            return numel;
        }

        /** The first byte of the tensor, counted from the start of the data section. */
        public long begin() {
            return begin;
        }

        /** One past the last byte of the tensor, counted from the start of the data section. */
        public long end() {
            return end;
        }

        /**
         * The tensor's raw bytes, a read-only slice of the mapping (no copy): little-endian elements of
         * {@link #dtype()} in row-major order, possibly not aligned to the element size. Valid until the
         * file is closed.
         */
        public MemorySegment bytes() {
            return bytes;
        }

        @Override
        public Tensor toTensor() {
            Floats.checkConvertible(source, name, dtype, numel);
            checkOpen();
            float[] data = new float[(int) numel];
            convert(0, data, data.length);
            return Tensor.of(data, shape);
        }

        /** Converts straight from the mapping, {@code buffer.length} elements at a time. */
        @Override
        public void readFloats(float[] buffer, FloatSink sink) throws IOException {
            WeightEntry.checkBuffer(buffer);
            Floats.checkFloat(source, name, dtype);
            checkOpen();
            for (long i = 0; i < numel; i += buffer.length) {
                int n = (int) Math.min(buffer.length, numel - i);
                convert(i, buffer, n);
                sink.accept(buffer, n);
            }
        }

        private void checkOpen() {
            if (!bytes.scope().isAlive()) {
                throw new IllegalStateException(source + ": closed; tensor '" + Printable.name(name) + "' can no longer be read");
            }
            backing.check(source, name);
        }

        /** Elements {@code [first, first + n)} into {@code dst[0 .. n)}. */
        private void convert(long first, float[] dst, int n) {
            long from = first * dtype.size();
            try {
                Floats.toFloats(bytes.asSlice(from, (long) n * dtype.size()), dtype, dst, 0, n);
            } catch (InternalError e) {
                // The JVM's answer to SIGBUS: the mapped file was cut shorter after it was opened.
                throw new WeightFileException(source, "tensor '" + Printable.name(name) + "': bytes [" + (begin + from) + ","
                        + (begin + from + (long) n * dtype.size()) + ") of the data section could not be read"
                        + " (the file shrank after it was opened?): " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return name + " " + dtype + Floats.shape(shape);
        }
    }

    private final String source;
    private final Arena arena;
    private final Backing backing;
    private final long headerLength;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final Map<String, String> metadata;

    private SafetensorsFile(String source, Arena arena, Backing backing, long headerLength, List<Entry> entries,
                            Map<String, String> metadata) {
        this.source = source;
        this.arena = arena;
        this.backing = backing;
        this.headerLength = headerLength;
        this.entries = Collections.unmodifiableList(entries);
        Map<String, Entry> m = new LinkedHashMap<>();
        entries.forEach(e -> m.put(e.name, e));
        this.byName = Collections.unmodifiableMap(m);
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Maps {@code path} read-only and validates its header (see the class documentation).
     *
     * @throws WeightFileException if the file breaks the format; the message starts with {@code path}
     * @throws IOException         if the file cannot be opened or mapped
     */
    public static SafetensorsFile open(Path path) throws IOException {
        String source = path.toString();
        Formats.requireRegularFile(path);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        Arena arena = null;
        try {
            long size = ch.size();
            if (size < 8) {
                throw new WeightFileException(source, "file is " + size
                        + " bytes; a safetensors file starts with an 8-byte header length");
            }
            arena = Arena.ofShared();
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            // The channel stays open with the mapping: converting a tensor first asks it whether the file has shrunk.
            return parse(source, file, arena, new Backing(ch, size));
        } catch (IOException | RuntimeException | Error e) {
            if (arena != null) {
                arena.close();
            }
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * The open file behind a mapping. Pages of a mapping beyond the end of a file that was cut shorter after
     * it was mapped read as zeros (within the last page) or fault (SIGBUS, which the JVM turns into an
     * InternalError), so each conversion first compares the file's size with what was mapped.
     */
    private record Backing(FileChannel channel, long size) {
        void check(String source, String tensor) {
            if (channel == null) {
                return;
            }
            long now;
            try {
                now = channel.size();
            } catch (IOException e) {
                throw new WeightFileException(source, "tensor '" + Printable.name(tensor) + "': the file cannot be read: " + e.getMessage(), e);
            }
            if (now < size) {
                throw new WeightFileException(source, "tensor '" + Printable.name(tensor) + "': the file is now " + now
                        + " bytes, it was " + size + " when it was opened (cut short while in use?)");
            }
        }
    }

    private static final Backing IN_MEMORY = new Backing(null, 0);

    /**
     * Reads a safetensors file held in {@code file} (e.g. a resource read into memory). The caller keeps
     * ownership of the segment: {@link #close()} does not close it, and entries are valid while it is.
     *
     * @param source a label for messages, e.g. the file's name
     * @throws WeightFileException if the bytes break the format; the message starts with {@code source}
     */
    public static SafetensorsFile of(String source, MemorySegment file) {
        return parse(source, file.asReadOnly(), null, IN_MEMORY);
    }

    private static SafetensorsFile parse(String source, MemorySegment file, Arena arena, Backing backing) {
        long size = file.byteSize();
        if (size < 8) {
            throw new WeightFileException(source, "file is " + size + " bytes; a safetensors file starts with an 8-byte header length");
        }
        long n = file.get(Floats.I64_LE, 0);
        if (n < 0 || n > size - 8) {
            throw new WeightFileException(source, "header length " + Long.toUnsignedString(n)
                    + " goes beyond the end of the file (" + (size - 8) + " bytes after the length)");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new WeightFileException(source, "header length " + n + " is above the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        byte[] header = file.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        Header h = parseHeader(source, header);
        MemorySegment data = file.asSlice(8 + n);
        checkLayout(source, h.entries, data.byteSize());
        List<Entry> entries = new ArrayList<>(h.entries.size());
        for (Info i : h.entries) {
            entries.add(new Entry(source, i, data, backing));
        }
        return new SafetensorsFile(source, arena, backing, n, entries, h.metadata);
    }

    /** A header entry, validated on its own; its place in the data section is checked by {@link #checkLayout}. */
    private record Info(String name, DType dtype, int[] shape, long numel, long begin, long end) {
    }

    private record Header(List<Info> entries, Map<String, String> metadata) {
    }

    private static Header parseHeader(String source, byte[] header) {
        List<Info> entries = new ArrayList<>();
        Map<String, Info> seen = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        boolean hadMetadata = false;
        try (JsonParser p = JSON.createParser(header)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new WeightFileException(source, "header: expected a JSON object, found " + describe(p.currentToken()));
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals(METADATA_KEY)) {
                    if (hadMetadata) {
                        throw new WeightFileException(source, "header: duplicate " + METADATA_KEY);
                    }
                    hadMetadata = true;
                    parseMetadata(source, p, metadata);
                    continue;
                }
                if (seen.containsKey(key)) {
                    throw new WeightFileException(source, "header: duplicate tensor name '" + Printable.name(key) + "'");
                }
                Info e = parseEntry(source, key, p);
                seen.put(key, e);
                entries.add(e);
            }
            if (t != JsonToken.END_OBJECT) {
                throw new WeightFileException(source, "header: expected a tensor name, found " + describe(t));
            }
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new WeightFileException(source, "header: expected only whitespace after the JSON object, found " + describe(after));
            }
        } catch (JsonProcessingException e) {
            throw new WeightFileException(source, "header is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (header byte " + e.getLocation().getByteOffset() + ")" : ""), e);
        } catch (IOException e) {
            // Parsing a byte array performs no I/O; anything else Jackson reports is about the bytes.
            throw new WeightFileException(source, "header is not valid JSON: " + e.getMessage(), e);
        }
        return new Header(entries, metadata);
    }

    private static void parseMetadata(String source, JsonParser p, Map<String, String> into) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new WeightFileException(source, "header: " + METADATA_KEY + " must be an object of strings, found " + describe(p.currentToken()));
        }
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw new WeightFileException(source, "header: " + METADATA_KEY + " '" + Printable.name(key) + "' must be a string, found " + describe(v));
            }
            if (into.put(key, p.getText()) != null) {
                throw new WeightFileException(source, "header: duplicate " + METADATA_KEY + " key '" + Printable.name(key) + "'");
            }
        }
        if (t != JsonToken.END_OBJECT) {
            throw new WeightFileException(source, "header: malformed " + METADATA_KEY + ", found " + describe(t));
        }
    }

    private static Info parseEntry(String source, String name, JsonParser p) throws IOException {
        String where = "tensor '" + Printable.name(name) + "'";
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new WeightFileException(source, where + ": expected an object with dtype, shape and data_offsets, found " + describe(p.currentToken()));
        }
        String dtypeName = null;
        long[] shape = null;
        long[] offsets = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "dtype" -> {
                    if (dtypeName != null) {
                        throw new WeightFileException(source, where + ": duplicate key 'dtype'");
                    }
                    if (v != JsonToken.VALUE_STRING) {
                        throw new WeightFileException(source, where + ": dtype must be a string, found " + describe(v));
                    }
                    dtypeName = p.getText();
                }
                case "shape" -> {
                    if (shape != null) {
                        throw new WeightFileException(source, where + ": duplicate key 'shape'");
                    }
                    shape = longs(source, where + ": shape", p);
                }
                case "data_offsets" -> {
                    if (offsets != null) {
                        throw new WeightFileException(source, where + ": duplicate key 'data_offsets'");
                    }
                    offsets = longs(source, where + ": data_offsets", p);
                }
                default -> throw new WeightFileException(source, where + ": unexpected key '" + Printable.name(key)
                        + "' (expected dtype, shape, data_offsets)");
            }
        }
        if (t != JsonToken.END_OBJECT) {
            throw new WeightFileException(source, where + ": malformed, found " + describe(t));
        }
        if (dtypeName == null || shape == null || offsets == null) {
            throw new WeightFileException(source, where + ": missing " + (dtypeName == null ? "dtype" : shape == null ? "shape" : "data_offsets"));
        }
        String dn = dtypeName;
        DType dtype = DType.byName(dn).orElseThrow(() -> new WeightFileException(source,
                where + ": unknown dtype '" + Printable.name(dn) + "' (known: " + DType.allNames() + ")"));
        int[] dims = new int[shape.length];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new WeightFileException(source, where + ": shape " + Floats.shape(shape) + ": dimension " + i + " is negative");
            }
            if (shape[i] > Integer.MAX_VALUE) {
                throw new WeightFileException(source, where + ": shape " + Floats.shape(shape) + ": dimension " + i + " is above 2^31-1");
            }
            dims[i] = (int) shape[i];
            numel = multiply(source, where, numel, shape[i]);
        }
        if (offsets.length != 2) {
            throw new WeightFileException(source, where + ": data_offsets must be [begin, end], found " + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < 0) {
            throw new WeightFileException(source, where + ": data_offsets " + Floats.shape(offsets) + " are negative");
        }
        if (begin > end) {
            throw new WeightFileException(source, where + ": data_offsets " + Floats.shape(offsets) + " are reversed (begin > end)");
        }
        long need = multiply(source, where, numel, dtype.size());
        if (end - begin != need) {
            throw new WeightFileException(source, where + ": dtype " + dtype + " and shape " + Floats.shape(dims) + " need "
                    + need + " bytes, data_offsets " + Floats.shape(offsets) + " span " + (end - begin));
        }
        return new Info(name, dtype, dims, numel, begin, end);
    }

    private static long multiply(String source, String where, long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            throw new WeightFileException(source, where + ": size overflows 64 bits");
        }
    }

    /** An array of 64-bit integers; range checks are the caller's. */
    private static long[] longs(String source, String where, JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new WeightFileException(source, where + " must be an array of integers, found " + describe(p.currentToken()));
        }
        long[] out = new long[4];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new WeightFileException(source, where + " must be an array of integers, found " + describe(t));
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw new WeightFileException(source, where + ": " + p.getText() + " does not fit in 64 bits");
            }
            if (n == out.length) {
                out = java.util.Arrays.copyOf(out, 2 * n);
            }
            out[n++] = p.getLongValue();
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "the end of the header";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> String.valueOf(t.asString() != null ? "'" + Printable.name(t.asString()) + "'" : t);
        };
    }

    /** Sorted by offset, the tensors must tile the data section: no overlap, no gap, nothing after. */
    private static void checkLayout(String source, List<Info> entries, long dataBytes) {
        for (Info e : entries) {
            if (e.end > dataBytes) {
                throw new WeightFileException(source, "tensor '" + Printable.name(e.name) + "': data_offsets [" + e.begin + "," + e.end
                        + "] go beyond the data section (" + dataBytes + " bytes)");
            }
        }
        List<Info> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Info::begin).thenComparingLong(Info::end));
        long covered = 0;
        Info last = null; // the tensor that ends at 'covered', once one has bytes
        for (Info e : sorted) {
            if (e.begin < covered) {
                throw new WeightFileException(source, "tensors '" + Printable.name(last.name) + "' [" + last.begin + "," + last.end + ") and '"
                        + Printable.name(e.name) + "' [" + e.begin + "," + e.end + ") overlap");
            }
            if (e.begin > covered) {
                throw new WeightFileException(source, "bytes [" + covered + "," + e.begin
                        + ") of the data section belong to no tensor (gaps are not allowed)");
            }
            if (e.end > e.begin) {
                last = e;
            }
            covered = e.end;
        }
        if (covered != dataBytes) {
            throw new WeightFileException(source, "bytes [" + covered + "," + dataBytes
                    + ") at the end of the data section belong to no tensor (expected the file to end at byte "
                    + covered + " of the data section)");
        }
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public String format() {
        return "safetensors";
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

    /** The tensor named {@code name}, if any. */
    public Optional<Entry> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    @Override
    public boolean has(String name) {
        return byName.containsKey(name);
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The header's length {@code N} in bytes; the data section starts at byte {@code 8 + N}. */
    public long headerLength() {
        return headerLength;
    }

    /** Unmaps the file if this object mapped it; a segment given to {@link #of} is left alone. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
        if (backing.channel() != null) {
            try {
                backing.channel().close();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(source + ": closing the file", e);
            }
        }
    }

    @Override
    public String toString() {
        return source + " (safetensors, " + entries.size() + " tensors)";
    }
}
