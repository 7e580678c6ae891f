package dev.prism.diffusion.data;

import java.util.Objects;

/**
 * The training order of a {@link DataSet}: which images, flipped or not, make the batch of each step,
 * as a pure function of {@code (seed, step, batch)} and the set's size N. Nothing else is state, so a
 * checkpoint that stores the seed and the step resumes on exactly the same batches, and any step can be
 * computed without the steps before it.
 *
 * <p>The order, exactly. Epoch e is a permutation {@code π_e} of {@code 0 .. N−1}; the epochs follow one
 * another without a break, and step s takes the sample positions {@code j = s·B .. s·B + B − 1} of that
 * endless sequence: position j is image {@code π_e[j mod N]} of epoch {@code e = ⌊j / N⌋}. Every image
 * is used once per epoch, and a batch that crosses the end of an epoch takes the rest of it and the
 * start of the next (B may exceed N).
 * <ul>
 *   <li>{@code mix(z)}: the SplitMix64 finaliser
 *       {@code z ^= z>>>30; z *= 0xBF58476D1CE4E5B9; z ^= z>>>27; z *= 0x94D049BB133111EB; z ^= z>>>31}.</li>
 *   <li>The key of stream t and counter n: {@code key(t, n) = mix(mix(seed ^ t) + n·γ)}, γ = 0x9E3779B97F4A7C15;
 *       its k-th word ({@code k = 0, 1, ...}) is {@code mix(key + (k+1)·γ)}. Streams: order
 *       t = 0x4F52444552 ("ORDER"), flip t = 0x464C4950 ("FLIP").</li>
 *   <li>{@code π_e}: start from the identity and, for {@code i = N−1} down to 1, swap entries i and
 *       {@code r ∈ [0, i]}, r drawn from the next words of {@code key(ORDER, e)} by Lemire's method:
 *       {@code m = (word>>>32)·(i+1)}, rejected while {@code (m mod 2³²) < (2³² − (i+1)) mod (i+1)},
 *       {@code r = m>>>32} (Fisher–Yates, unbiased).</li>
 *   <li>Position j is flipped left–right when flipping is on and word 0 of {@code key(FLIP, j)} is
 *       negative (its top bit set).</li>
 * </ul>
 * All of it is integer arithmetic, the same on every JVM; it does not use {@link java.util.Random} or
 * {@link java.util.SplittableRandom}, whose bounded draws the JDK does not specify.
 *
 * <p>An instance caches the permutations of the last two epochs it used (2·N ints) and is for one thread
 * at a time; {@link BatchLoader} makes its own.
 */
public final class Batches {
    private static final long GAMMA = 0x9E3779B97F4A7C15L;
    private static final long ORDER = 0x4F52444552L;
    private static final long FLIP = 0x464C4950L;

    private final DataSet data;
    private final int batch;
    private final long seed;
    private final boolean flip;
    private final int n;
    private final long lastStep;
    private final long[] cachedEpoch = {-1, -1};
    private final int[][] cachedPermutation = new int[2][];
    private int older;

    /**
     * @param data  the images
     * @param batch B, images per step, at least 1
     * @param seed  any value; it and the step determine the batch
     * @param flip  whether to flip images left–right at random (training: yes; evaluation: no)
     * @throws IllegalArgumentException for {@code batch < 1}
     */
    public Batches(DataSet data, int batch, long seed, boolean flip) {
        this.data = Objects.requireNonNull(data, "data");
        if (batch < 1) {
            throw new IllegalArgumentException("batches: argument 'batch' expected >= 1, found " + batch);
        }
        this.batch = batch;
        this.seed = seed;
        this.flip = flip;
        this.n = data.size();
        this.lastStep = Long.MAX_VALUE / batch - 1;
    }

    /** An instance with the same order and its own cache, for another thread. */
    Batches copy() {
        return new Batches(data, batch, seed, flip);
    }

    /** The images the batches are drawn from. */
    public DataSet data() {
        return data;
    }

    /** B, images per step. */
    public int batch() {
        return batch;
    }

    /** The seed of the order and the flips. */
    public long seed() {
        return seed;
    }

    /** Whether images are flipped at random. */
    public boolean flip() {
        return flip;
    }

    /** The floats of one batch of images, B·C·H·W. */
    public int batchLength() {
        return batch * data.imageLength();
    }

    /** The epoch of the first image of step {@code step}: {@code ⌊step·B / N⌋}. */
    public long epoch(long step) {
        checkStep(step);
        return step * batch / n;
    }

    /** The data set index of image {@code i} of the batch of step {@code step}. */
    public int index(long step, int i) {
        long j = position(step, i);
        return permutation(j / n)[(int) (j % n)];
    }

    /** Whether image {@code i} of the batch of step {@code step} is flipped left–right. */
    public boolean flipped(long step, int i) {
        return flip && word(key(FLIP, position(step, i)), 0) < 0;
    }

    /**
     * Writes the batch of step {@code step}.
     *
     * @param images written: {@code [B,C,H,W]}, image i of the batch at {@code i·C·H·W}; length B·C·H·W
     * @param labels written when not null: the label of each image of the batch; length B, and the data
     *               set must have labels
     * @throws IllegalArgumentException for a negative step, a step whose first position {@code step·B}
     *                                  overflows a long, or arrays of the wrong length
     */
    public void fill(long step, float[] images, int[] labels) {
        checkStep(step);
        checkArrays(images, labels);
        int len = data.imageLength();
        int rows = data.channels() * data.height();
        int w = data.width();
        for (int i = 0; i < batch; i++) {
            int index = index(step, i);
            data.image(index, images, i * len);
            if (flipped(step, i)) {
                for (int r = 0; r < rows; r++) {
                    int a = i * len + r * w;
                    for (int b = a + w - 1; a < b; a++, b--) {
                        float t = images[a];
                        images[a] = images[b];
                        images[b] = t;
                    }
                }
            }
            if (labels != null) {
                labels[i] = data.label(index);
            }
        }
    }

    /** Checks the arrays of {@link #fill}. */
    void checkArrays(float[] images, int[] labels) {
        if (images == null || images.length != batchLength()) {
            throw new IllegalArgumentException("batches: argument 'images' expected length " + batchLength() + " (" + batch + "×"
                    + data.channels() + "×" + data.height() + "×" + data.width() + "), found " + (images == null ? "null" : images.length));
        }
        if (labels != null && (labels.length != batch || !data.hasLabels())) {
            throw new IllegalArgumentException("batches: argument 'labels' expected " + (data.hasLabels() ? "length " + batch
                    : "null (the data set has no labels)") + ", found length " + labels.length);
        }
    }

    private void checkStep(long step) {
        if (step < 0 || step > lastStep) {
            throw new IllegalArgumentException("batches: argument 'step' expected 0.." + lastStep + ", found " + step);
        }
    }

    private long position(long step, int i) {
        checkStep(step);
        if (i < 0 || i >= batch) {
            throw new IllegalArgumentException("batches: argument 'i' expected 0.." + (batch - 1) + ", found " + i);
        }
        return step * batch + i;
    }

    private int[] permutation(long epoch) {
        for (int k = 0; k < 2; k++) {
            if (cachedEpoch[k] == epoch) {
                older = 1 - k;
                return cachedPermutation[k];
            }
        }
        int slot = older;
        int[] p = cachedPermutation[slot];
        if (p == null) {
            p = new int[n];
            cachedPermutation[slot] = p;
        }
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        long key = key(ORDER, epoch);
        long k = 0;
        for (int i = n - 1; i > 0; i--) {
            long bound = i + 1;
            long m = (word(key, k++) >>> 32) * bound;
            if ((m & 0xFFFFFFFFL) < bound) {
                long threshold = (0x100000000L - bound) % bound;
                while ((m & 0xFFFFFFFFL) < threshold) {
                    m = (word(key, k++) >>> 32) * bound;
                }
            }
            int r = (int) (m >>> 32);
            int t = p[i];
            p[i] = p[r];
            p[r] = t;
        }
        cachedEpoch[slot] = epoch;
        older = 1 - slot;
        return p;
    }

    private long key(long stream, long counter) {
        return mix(mix(seed ^ stream) + counter * GAMMA);
    }

    private static long word(long key, long k) {
        return mix(key + (k + 1) * GAMMA);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
