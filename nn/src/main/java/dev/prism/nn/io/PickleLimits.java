package dev.prism.nn.io;

import dev.prism.kernels.ArgumentException;

import java.util.List;
import java.util.Locale;

/**
 * Bounds on what reading a {@code .pth} file's pickle may build, so that a small hostile file (a
 * "decompression bomb" of nested or shared structures) fails with a {@link WeightFileException}
 * naming the limit instead of exhausting the heap or the CPU. Every bound is checked as the pickle is
 * read, before the structure it guards grows past it.
 *
 * <p>The defaults ({@link #DEFAULT}) are sized so that the costliest pickles that stay within all
 * four (a million tensors sharing one storage, sets and memo entries to every limit) still read in a
 * 256 MiB heap ({@code PickleBombTest}). A state_dict written by PyTorch 1.13 takes about 26
 * objects, 8 memo entries and 220 bytes per tensor ({@link TorchPickle.Usage}, measured on the
 * {@code .pth} files of the test suite, each of which uses at most 2 % of every default), so the
 * defaults admit a state_dict of about 20,000 tensors. A trusted file that needs more may raise them
 * ({@code prism info} and {@code prism convert --pickle-limit objects=N}).
 *
 * @param objects values the unpickler puts on its stack (new objects and references to earlier ones),
 *                plus values visited while the state_dict's dicts are walked
 * @param depth   dicts nested inside dicts (a state_dict is 1 level, a checkpoint that holds one 2)
 * @param memo    entries of the unpickler's memo (PUT, BINPUT, LONG_BINPUT, MEMOIZE)
 * @param bytes   bytes materialised: the {@code data.pkl} record itself, every string, bytes and
 *                long-integer payload decoded from it, the dotted names built for nested dicts, and
 *                the zip archive's central directory
 */
public record PickleLimits(long objects, int depth, long memo, long bytes) {

    /** objects=524288, depth=32, memo=262144, bytes=33554432 (32 MiB): sized for a 256 MiB heap, see the class comment. */
    public static final PickleLimits DEFAULT = new PickleLimits(1L << 19, 32, 1L << 18, 32L << 20);

    /** The names of the limits, as {@link #with} and {@link #parse} take them. */
    public static final List<String> KEYS = List.of("objects", "depth", "memo", "bytes");

    public PickleLimits {
        check("objects", objects);
        check("depth", depth);
        check("memo", memo);
        check("bytes", bytes);
    }

    private static void check(String key, long v) {
        if (v < 1) {
            throw ArgumentException.expected("pickle limit", key + " >= 1", v);
        }
    }

    /** These limits with {@code key} (one of {@link #KEYS}) set to {@code value}. */
    public PickleLimits with(String key, long value) {
        return switch (key) {
            case "objects" -> new PickleLimits(value, depth, memo, bytes);
            case "depth" -> {
                if (value > Integer.MAX_VALUE) {
                    throw ArgumentException.expected("pickle limit", "depth <= " + Integer.MAX_VALUE, value);
                }
                yield new PickleLimits(objects, (int) value, memo, bytes);
            }
            case "memo" -> new PickleLimits(objects, depth, value, bytes);
            case "bytes" -> new PickleLimits(objects, depth, memo, value);
            default -> throw ArgumentException.expected("pickle limit", "one of " + String.join(", ", KEYS), "'" + key + "'");
        };
    }

    /**
     * {@code base} with each {@code key=value} of {@code items} applied in order; a value is a
     * non-negative integer, optionally followed by {@code k}, {@code m} or {@code g} (binary: 1024,
     * 1024², 1024³), e.g. {@code objects=4000000}, {@code bytes=512m}. Null or empty gives {@code base}.
     *
     * @throws ArgumentException (argument {@code "pickle limit"}) naming the item that is not of that form
     */
    public static PickleLimits parse(PickleLimits base, List<String> items) {
        PickleLimits out = base;
        if (items == null) {
            return out;
        }
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw ArgumentException.expected("pickle limit", "key=value with key one of " + String.join(", ", KEYS),
                        "'" + Printable.name(item) + "'");
            }
            String key = item.substring(0, eq).trim();
            out = out.with(key, number(key, item.substring(eq + 1).trim()));
        }
        return out;
    }

    private static long number(String key, String text) {
        String t = text.toLowerCase(Locale.ROOT);
        int shift = t.endsWith("k") ? 10 : t.endsWith("m") ? 20 : t.endsWith("g") ? 30 : 0;
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits);
            if (v < 0 || v > Long.MAX_VALUE >> shift) {
                throw new NumberFormatException();
            }
            return v << shift;
        } catch (NumberFormatException e) {
            throw ArgumentException.expected("pickle limit", key + "=<integer>[k|m|g]", "'" + Printable.name(key + "=" + text) + "'");
        }
    }

    /** {@code objects=524288,depth=32,memo=262144,bytes=33554432}: the form {@link #parse} reads. */
    @Override
    public String toString() {
        return "objects=" + objects + ",depth=" + depth + ",memo=" + memo + ",bytes=" + bytes;
    }
}
