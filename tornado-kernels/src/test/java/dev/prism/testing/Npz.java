package dev.prism.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads the reference vectors that {@code tools/refgen} writes with {@code numpy.savez_compressed}:
 * a zip of {@code .npy} files, little-endian {@code float32}, {@code float64}, {@code int32} or
 * {@code int64}, C order. Floats come back as {@code float[]} (float64 rounded once), integers as
 * {@code long[]}.
 */
public final class Npz {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** One array of the archive. */
    public record Array(String name, int[] shape, float[] floats, long[] ints) {
        public int size() {
            return floats != null ? floats.length : ints.length;
        }

        public float[] f() {
            if (floats == null) {
                throw new IllegalStateException("array '" + name + "' holds integers, not floats");
            }
            return floats;
        }

        public int i() {
            if (ints == null || ints.length != 1) {
                throw new IllegalStateException("array '" + name + "' is not one integer: shape " + Arrays.toString(shape));
            }
            return Math.toIntExact(ints[0]);
        }

        public float scalar() {
            if (floats == null || floats.length != 1) {
                throw new IllegalStateException("array '" + name + "' is not one float: shape " + Arrays.toString(shape));
            }
            return floats[0];
        }
    }

    private final String source;
    private final Map<String, Array> arrays;

    private Npz(String source, Map<String, Array> arrays) {
        this.source = source;
        this.arrays = arrays;
    }

    /** Loads {@code /ref/<path>.npz} from the test class path. */
    public static Npz resource(String path) {
        String name = "/ref/" + path + ".npz";
        try (InputStream in = Npz.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalArgumentException("reference vectors '" + name + "' are not on the test class path;"
                        + " regenerate them with /usr/bin/python3 tools/refgen/generate.py");
            }
            return read(name, in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
    }

    public static Npz read(String source, InputStream in) throws IOException {
        Map<String, Array> out = new LinkedHashMap<>();
        try (ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry e;
            while ((e = zip.getNextEntry()) != null) {
                String name = e.getName();
                if (!name.endsWith(".npy")) {
                    continue;
                }
                name = name.substring(0, name.length() - 4);
                out.put(name, parseNpy(source + ":" + name, name, zip.readAllBytes()));
            }
        }
        return new Npz(source, out);
    }

    private static Array parseNpy(String where, String name, byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || (bytes[0] & 0xff) != 0x93 || bytes[1] != 'N') {
            throw new IllegalArgumentException(where + ": not an .npy array");
        }
        int major = bytes[6];
        int headerLen;
        int start;
        if (major == 1) {
            headerLen = buf.getShort(8) & 0xffff;
            start = 10;
        } else {
            headerLen = buf.getInt(8);
            start = 12;
        }
        String header = new String(bytes, start, headerLen, StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, where);
        if (group(FORTRAN, header, where).equals("True")) {
            throw new IllegalArgumentException(where + ": Fortran order is not supported");
        }
        String shapeText = group(SHAPE, header, where).trim();
        int[] shape = shapeText.isEmpty() ? new int[0]
                : Arrays.stream(shapeText.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                        .mapToInt(Integer::parseInt).toArray();
        int count = 1;
        for (int d : shape) {
            count *= d;
        }
        buf.position(start + headerLen);
        switch (descr) {
            case "<f4" -> {
                float[] f = new float[count];
                buf.asFloatBuffer().get(f);
                return new Array(name, shape, f, null);
            }
            case "<f8" -> {
                float[] f = new float[count];
                for (int i = 0; i < count; i++) {
                    f[i] = (float) buf.getDouble();
                }
                return new Array(name, shape, f, null);
            }
            case "<i8" -> {
                long[] l = new long[count];
                buf.asLongBuffer().get(l);
                return new Array(name, shape, null, l);
            }
            case "<i4" -> {
                long[] l = new long[count];
                for (int i = 0; i < count; i++) {
                    l[i] = buf.getInt();
                }
                return new Array(name, shape, null, l);
            }
            default -> throw new IllegalArgumentException(where + ": dtype " + descr + " is not supported");
        }
    }

    private static String group(Pattern p, String header, String where) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IllegalArgumentException(where + ": header lacks " + p.pattern() + ": " + header);
        }
        return m.group(1);
    }

    public Array get(String name) {
        Array a = arrays.get(name);
        if (a == null) {
            throw new IllegalArgumentException(source + ": no array '" + name + "', have " + arrays.keySet());
        }
        return a;
    }

    public boolean has(String name) {
        return arrays.containsKey(name);
    }

    /** The arrays' names, in the archive's order. */
    public java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(arrays.keySet());
    }

    public float[] f(String name) {
        return get(name).f();
    }

    public int i(String name) {
        return get(name).i();
    }

    public float scalar(String name) {
        return get(name).scalar();
    }

    public int[] shape(String name) {
        return get(name).shape();
    }

    public String source() {
        return source;
    }

    /** A stream for tests that build an archive in memory. */
    static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }
}
