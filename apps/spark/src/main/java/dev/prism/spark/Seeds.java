package dev.prism.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The seeds of a {@code prism sample-many} run: {@code first .. last}, both included, one image each, and how
 * they are split into partitions.
 *
 * @param first the first seed
 * @param count how many consecutive seeds, at least 1
 */
public record Seeds(long first, long count) implements Serializable {
    public Seeds {
        if (count < 1) {
            throw new IllegalArgumentException("seeds: count expected >= 1, found " + count);
        }
        if (first > Long.MAX_VALUE - (count - 1)) {
            throw new IllegalArgumentException("seeds: expected first + count - 1 <= " + Long.MAX_VALUE + ", found first " + first
                    + " and count " + count);
        }
    }

    /** The last seed. */
    public long last() {
        return first + count - 1;
    }

    /**
     * The seeds of {@code --seeds FROM..TO} (both included) or {@code FROM..} with {@code --count N}; a count given
     * with a closed range must agree with it.
     *
     * @param option the option's name, for messages
     * @param text   {@code FROM..TO}, {@code FROM..} or a single seed {@code FROM}
     * @param count  {@code --count}, or null
     * @throws IllegalArgumentException naming the option, with the expected and the found value
     */
    public static Seeds parse(String option, String text, Long count, String countOption) {
        String t = text.strip();
        int dots = t.indexOf("..");
        String from = dots < 0 ? t : t.substring(0, dots);
        String to = dots < 0 ? null : t.substring(dots + 2);
        long a, b = 0;
        try {
            a = Long.parseLong(from.strip());
            if (to != null && !to.isBlank()) {
                b = Long.parseLong(to.strip());
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expected FROM..TO, FROM.. or FROM with integer seeds, found '" + text + "'");
        }
        boolean closed = to != null && !to.isBlank();
        if (count != null && count < 1) {
            throw new IllegalArgumentException(countOption + " expected >= 1, found " + count);
        }
        if (closed) {
            if (b < a) {
                throw new IllegalArgumentException(option + " expected FROM..TO with FROM <= TO, found '" + text + "' (" + a + " > " + b + ")");
            }
            long n = b - a + 1;
            if (n <= 0) {
                throw new IllegalArgumentException(option + " expected at most " + Long.MAX_VALUE + " seeds, found '" + text + "'");
            }
            if (count != null && count != n) {
                throw new IllegalArgumentException(countOption + " expected " + n + " (the seeds " + a + ".." + b + " of " + option
                        + "), found " + count);
            }
            return new Seeds(a, n);
        }
        if (count == null) {
            throw new IllegalArgumentException(countOption + " is needed with " + option + " '" + text + "' (or give FROM..TO)");
        }
        if (a > Long.MAX_VALUE - (count - 1)) {
            throw new IllegalArgumentException(countOption + " expected at most " + (Long.MAX_VALUE - a + 1) + " seeds from " + a
                    + ", found " + count);
        }
        return new Seeds(a, count);
    }

    /**
     * {@code parts} consecutive ranges covering these seeds in order, their sizes differing by at most one
     * (the first ones larger); fewer when there are fewer seeds than parts.
     */
    public List<Seeds> split(int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("seeds: parts expected >= 1, found " + parts);
        }
        int p = (int) Math.min(parts, count);
        List<Seeds> out = new ArrayList<>(p);
        long base = count / p, extra = count % p, next = first;
        for (int i = 0; i < p; i++) {
            long n = base + (i < extra ? 1 : 0);
            out.add(new Seeds(next, n));
            next += n;
        }
        return out;
    }

    @Override
    public String toString() {
        return count == 1 ? String.valueOf(first) : first + ".." + last();
    }
}
