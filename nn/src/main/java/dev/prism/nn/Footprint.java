package dev.prism.nn;

import dev.prism.backend.Launch;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The arrays a model's plan will hold for a batch and an image size, known before any of them is
 * allocated: what {@link Heap} checks.
 *
 * <p>A footprint is a list of arrays, each either independent of the batch (weights, tables) or holding a
 * fixed number of elements per image; {@link #arrays(int)} gives their lengths at any batch.
 *
 * <p>A plan built by a {@link Graph} allocates all its arrays up front, and each array's length is a product
 * of the model's constants (widths, heads, kernel sizes), of the batch N or not (weights, tables), and of the
 * image's height and width at some resolution of the model. With {@code H = d·a} and {@code W = d·b}, d the
 * model's size divisor, each length is therefore {@code c} or {@code N·q(a, b)}, q a polynomial of degree at
 * most 2 in a and in b (attention's probabilities hold (H·W)² per image and head). {@link #extrapolate}
 * builds the real plan at small shapes, takes each array's length there and evaluates that polynomial at
 * the asked shape: batch 1 and 2 at a = b = 1 tell which arrays are per image, and batch 1 at a, b ∈ {1, 2, 3}
 * fixes q (Newton's form, exact integers). Nothing is guessed, and a model that broke the assumption shows it
 * in the tests that compare the extrapolation with the plan really built (FootprintTest). The largest probe
 * holds one image of 3d × 3d: at most 9 times (81 times for attention's probabilities) the smallest plan
 * the model can run.
 *
 * <p>One kind of array is not such a polynomial: per-block partial sums, {@code ceil(len / 256)} long
 * (a training loss's). At the probes they hold one block, and they are found so: short by at most
 * {@code len / 256} elements, 0.4 % of the array they sum (TrainerFootprintTest bounds it). A sampling plan
 * has none (FootprintTest: exact, array by array).
 *
 * <p>When the plans at the probe shapes do not have the same arrays in the same order (a factory that chose
 * another kernel layout for a size), or an array is neither per image nor independent of the batch, the
 * total alone is extrapolated from plans at batch 1 and 2 and a, b ∈ {1, 2, 3}: the same argument applied to
 * the sum, a polynomial of degree 1 in N.
 */
public final class Footprint {
    /** No arrays. */
    public static final Footprint NONE = new Footprint(new long[0], new long[0]);

    /** The multiples of the divisor at which the plan is built: degree + 1 points. */
    private static final int[] MULTIPLES = {1, 2, 3};

    /** Per array: its length when independent of the batch, else 0. */
    private final long[] fixed;
    /** Per array: its elements per image, else 0. */
    private final long[] perImage;

    private Footprint(long[] fixed, long[] perImage) {
        this.fixed = fixed;
        this.perImage = perImage;
    }

    /**
     * Arrays of these lengths: {@code fixed[i] + batch·perImage[i]} elements each.
     *
     * @throws IllegalArgumentException if the lists differ in length or hold a negative value
     */
    public static Footprint of(long[] fixed, long[] perImage) {
        if (fixed.length != perImage.length) {
            throw new IllegalArgumentException("footprint: expected as many fixed as per-image lengths, found " + fixed.length
                    + " and " + perImage.length);
        }
        for (int i = 0; i < fixed.length; i++) {
            if (fixed[i] < 0 || perImage[i] < 0) {
                throw new IllegalArgumentException("footprint: expected lengths >= 0, found " + fixed[i] + " + N·" + perImage[i]);
            }
        }
        return new Footprint(fixed.clone(), perImage.clone());
    }

    /** Builds a plan at {@code batch} images of {@code (d·a) × (d·b)} and returns its arrays' lengths ({@link #arrays(List, float[]...)}). */
    @FunctionalInterface
    public interface Probe {
        long[] lengths(int batch, int a, int b);
    }

    /** These arrays and {@code other}'s. */
    public Footprint plus(Footprint other) {
        return new Footprint(concat(fixed, other.fixed), concat(perImage, other.perImage));
    }

    /** The lengths of the arrays at {@code batch} images, each saturating at {@link Long#MAX_VALUE}. */
    public long[] arrays(int batch) {
        long[] out = new long[fixed.length];
        for (int i = 0; i < out.length; i++) {
            long p = perImage[i] == 0 ? 0 : batch > Long.MAX_VALUE / perImage[i] ? Long.MAX_VALUE : batch * perImage[i];
            out[i] = Heap.saturatedAdd(fixed[i], p);
        }
        return out;
    }

    /** The heap bytes of the arrays at {@code batch} images ({@link Heap#floatArraysBytes}). */
    public long bytes(int batch) {
        return Heap.floatArraysBytes(arrays(batch));
    }

    /** The length of the largest array at {@code batch} images, 0 for none. */
    public long largest(int batch) {
        long m = 0;
        for (long l : arrays(batch)) {
            m = Math.max(m, l);
        }
        return m;
    }

    /**
     * Fails unless these arrays at {@code batch} images, and {@code extraBytesPerImage} more per image, fit in
     * the heap ({@link Heap}) and each in a Java array. The parameter blamed is {@code batch}, or {@code size}
     * when a single image is already too large.
     *
     * @param what what needs the memory, as a phrase that takes a count and "image(s)": "sampling %s of 1x8x8"
     * @param size the image size, as {@code size} is reported ("8x8")
     * @throws dev.prism.kernels.ArgumentException naming batch or size when an array would exceed a Java array
     * @throws Heap.HeapException                  naming batch or size when the arrays exceed the heap
     */
    public void requireHeap(int batch, long extraBytesPerImage, String what, String size) {
        requireHeap("batch", batch, extraBytesPerImage, what, size);
    }

    /** {@link #requireHeap(int, long, String, String)} with the batch's parameter called {@code batchName}. */
    public void requireHeap(String batchName, int batch, long extraBytesPerImage, String what, String size) {
        boolean oneTooLarge = largest(1) > Heap.MAX_ARRAY;
        int count = oneTooLarge ? 1 : batch;
        Heap.requireArray(oneTooLarge ? "size" : batchName, oneTooLarge ? size : batch,
                "the largest array for " + what.formatted(count + (count == 1 ? " image" : " images")), largest(count));
        oneTooLarge = Heap.saturatedAdd(bytes(1), extraBytesPerImage) > Heap.usable();
        int images = oneTooLarge ? 1 : batch;
        long extra = extraBytesPerImage > 0 && images > Long.MAX_VALUE / extraBytesPerImage ? Long.MAX_VALUE : images * extraBytesPerImage;
        Heap.require(oneTooLarge ? "size" : batchName, oneTooLarge ? size : batch,
                what.formatted(images + (images == 1 ? " image" : " images")), Heap.saturatedAdd(bytes(images), extra));
    }

    /** The number of arrays. */
    public int count() {
        return fixed.length;
    }

    /**
     * The lengths of the distinct arrays the launches use (their float[] arguments and the arrays their
     * factories own), in the order of first use, leaving out {@code excluded} (arrays someone else owns, such
     * as a loop's image).
     */
    public static long[] arrays(List<Launch> launches, float[]... excluded) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Collections.addAll(seen, (Object[]) excluded);
        List<Long> out = new ArrayList<>();
        for (Launch l : launches) {
            for (Object a : l.args()) {
                if (a instanceof float[] f && seen.add(f)) {
                    out.add((long) f.length);
                }
            }
            for (float[] f : l.owned()) {
                if (seen.add(f)) {
                    out.add((long) f.length);
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * The arrays {@code probe} would give at {@code (d·a) × (d·b)}, at any batch, from its results at small
     * shapes (see the class comment). Either one entry per array, or, in the fallback, one entry: their total.
     *
     * @throws IllegalArgumentException if a or b is below 1
     */
    public static Footprint extrapolate(Probe probe, int a, int b) {
        if (a < 1 || b < 1) {
            throw new IllegalArgumentException("footprint: expected a and b >= 1, found " + a + ", " + b);
        }
        int m = MULTIPLES.length;
        long[][][] one = new long[m][m][];
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < m; k++) {
                one[j][k] = probe.lengths(1, MULTIPLES[j], MULTIPLES[k]);
            }
        }
        long[] two = probe.lengths(2, 1, 1);
        int count = two.length;
        boolean aligned = true;
        for (long[][] row : one) {
            for (long[] l : row) {
                aligned &= l.length == count;
            }
        }
        long[] fixed = new long[count], perImage = new long[count];
        for (int e = 0; aligned && e < count; e++) {
            long single = one[0][0][e];
            if (two[e] == single) {
                // independent of the batch (weights, tables): and of the size, or the fallback
                for (long[][] row : one) {
                    for (long[] l : row) {
                        aligned &= l[e] == single;
                    }
                }
                fixed[e] = single;
            } else if (two[e] == 2 * single) {
                BigInteger[][] q = new BigInteger[m][m];
                for (int j = 0; j < m; j++) {
                    for (int k = 0; k < m; k++) {
                        q[j][k] = BigInteger.valueOf(one[j][k][e]);
                    }
                }
                perImage[e] = saturate(biquadratic(q, a, b));
            } else {
                aligned = false;
            }
        }
        if (aligned) {
            return new Footprint(fixed, perImage);
        }
        // The fallback: the total at batch 1 and 2 over the whole grid, t(N) = (2·t1 − t2) + N·(t2 − t1).
        BigInteger[][][] total = new BigInteger[2][m][m];
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < m; k++) {
                total[0][j][k] = BigInteger.valueOf(sum(one[j][k]));
                total[1][j][k] = BigInteger.valueOf(sum(probe.lengths(2, MULTIPLES[j], MULTIPLES[k])));
            }
        }
        BigInteger at1 = biquadratic(total[0], a, b), at2 = biquadratic(total[1], a, b);
        return new Footprint(new long[] {saturate(at1.shiftLeft(1).subtract(at2))}, new long[] {saturate(at2.subtract(at1))});
    }

    private static long sum(long[] lengths) {
        long s = 0;
        for (long l : lengths) {
            s = Heap.saturatedAdd(s, l);
        }
        return s;
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** q(a, b) from its values at a, b ∈ {1, 2, 3}, degree ≤ 2 in each: Newton's form along b, then a. */
    private static BigInteger biquadratic(BigInteger[][] q, long a, long b) {
        BigInteger[] overB = new BigInteger[q.length];
        for (int j = 0; j < q.length; j++) {
            overB[j] = quadratic(q[j], b);
        }
        return quadratic(overB, a);
    }

    /** f(x) from f(1), f(2), f(3) for f of degree ≤ 2: f1 + (x−1)Δ + (x−1)(x−2)/2·Δ². */
    private static BigInteger quadratic(BigInteger[] f, long x) {
        BigInteger d1 = f[1].subtract(f[0]);
        BigInteger d2 = f[2].subtract(f[1].shiftLeft(1)).add(f[0]);
        BigInteger u = BigInteger.valueOf(x - 1);
        BigInteger pair = u.multiply(BigInteger.valueOf(x - 2)).shiftRight(1); // (x−1)(x−2) is even and >= 0
        return f[0].add(u.multiply(d1)).add(pair.multiply(d2));
    }

    private static long saturate(BigInteger v) {
        return v.signum() < 0 ? 0 : v.bitLength() < 63 ? v.longValueExact() : Long.MAX_VALUE;
    }
}
