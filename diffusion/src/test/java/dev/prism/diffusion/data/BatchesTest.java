package dev.prism.diffusion.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigInteger;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchesTest {

    /** The images of positions j = 0 .. count−1 of the endless sequence, through {@link Batches#index}. */
    static int[] positions(Batches b, int count) {
        int[] out = new int[count];
        for (int j = 0; j < count; j++) {
            out[j] = b.index(j / b.batch(), j % b.batch());
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"7, 3", "7, 7", "7, 1", "3, 8", "10, 4", "1, 5"})
    void everyEpochUsesEveryImageOnce(int n, int batch) {
        Batches b = new Batches(new PatternSet(n, 1, 2, 2, false), batch, 99, true);
        int epochs = 6;
        int[] order = positions(b, n * epochs);
        for (int e = 0; e < epochs; e++) {
            int[] epoch = Arrays.copyOfRange(order, e * n, (e + 1) * n);
            Arrays.sort(epoch);
            for (int i = 0; i < n; i++) {
                assertEquals(i, epoch[i], "epoch " + e + " of N " + n + ", B " + batch);
            }
        }
        assertEquals(0, b.epoch(0));
        assertEquals((long) 5 * batch / n, b.epoch(5));
    }

    @Test
    void theOrderIsTheDocumentedOne() {
        for (long seed : new long[] {0, 1, -7, 0x123456789ABCDEFL}) {
            for (int n : new int[] {1, 2, 10, 1000}) {
                Batches b = new Batches(new PatternSet(n, 1, 1, 1, false), 3, seed, true);
                for (long e = 0; e < 3; e++) {
                    int[] expected = documentedPermutation(seed, n, e);
                    for (int r = 0; r < n; r++) {
                        long j = e * n + r;
                        assertEquals(expected[r], b.index(j / 3, (int) (j % 3)), "seed " + seed + " N " + n + " epoch " + e + " entry " + r);
                        assertEquals(documentedFlip(seed, j), b.flipped(j / 3, (int) (j % 3)), "flip of position " + j);
                    }
                }
            }
        }
    }

    // The class comment of Batches, written out again with unsigned BigInteger arithmetic.
    static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);
    static final BigInteger TWO32 = BigInteger.ONE.shiftLeft(32);
    static final BigInteger GAMMA = new BigInteger("9E3779B97F4A7C15", 16);

    static BigInteger u(long v) {
        return BigInteger.valueOf(v).mod(TWO64);
    }

    static BigInteger mix(BigInteger z) {
        z = z.xor(z.shiftRight(30)).multiply(new BigInteger("BF58476D1CE4E5B9", 16)).mod(TWO64);
        z = z.xor(z.shiftRight(27)).multiply(new BigInteger("94D049BB133111EB", 16)).mod(TWO64);
        return z.xor(z.shiftRight(31));
    }

    static BigInteger key(long seed, long stream, long counter) {
        return mix(mix(u(seed).xor(u(stream))).add(u(counter).multiply(GAMMA)).mod(TWO64));
    }

    static BigInteger word(BigInteger key, long k) {
        return mix(key.add(BigInteger.valueOf(k + 1).multiply(GAMMA)).mod(TWO64));
    }

    static int[] documentedPermutation(long seed, int n, long epoch) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        BigInteger key = key(seed, 0x4F52444552L, epoch);
        long k = 0;
        for (int i = n - 1; i > 0; i--) {
            BigInteger bound = BigInteger.valueOf(i + 1);
            BigInteger threshold = TWO32.subtract(bound).mod(bound);
            BigInteger m;
            do {
                m = word(key, k++).shiftRight(32).multiply(bound);
            } while (m.mod(TWO32).compareTo(threshold) < 0);
            int r = m.shiftRight(32).intValueExact();
            int t = p[i];
            p[i] = p[r];
            p[r] = t;
        }
        return p;
    }

    static boolean documentedFlip(long seed, long position) {
        return word(key(seed, 0x464C4950L, position), 0).testBit(63);
    }

    @Test
    void permutationsAreUniform() {
        // Each of the 4 images lands in each of the 4 places with probability 1/4: 1000 of 4000 epochs,
        // σ = √(4000·¼·¾) ≈ 27. A biased shuffle (Sattolo's, or i+1 drawn as i) misses by hundreds.
        int n = 4, epochs = 4000;
        Batches b = new Batches(new PatternSet(n, 1, 1, 1, false), n, 2024, false);
        int[][] count = new int[n][n];
        for (int e = 0; e < epochs; e++) {
            for (int r = 0; r < n; r++) {
                count[r][b.index(e, r)]++;
            }
        }
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < n; i++) {
                assertTrue(Math.abs(count[r][i] - 1000) < 135, "image " + i + " at place " + r + ": " + count[r][i] + " of 4000");
            }
        }
    }

    @Test
    void aboutHalfTheImagesAreFlippedAndFlippingCanBeTurnedOff() {
        PatternSet data = new PatternSet(100, 1, 1, 1, false);
        Batches on = new Batches(data, 10, 5, true);
        Batches off = new Batches(data, 10, 5, false);
        int flipped = 0;
        for (long s = 0; s < 1000; s++) {
            for (int i = 0; i < 10; i++) {
                flipped += on.flipped(s, i) ? 1 : 0;
                assertFalse(off.flipped(s, i));
                assertEquals(on.index(s, i), off.index(s, i), "flipping does not change the order");
            }
        }
        assertTrue(Math.abs(flipped - 5000) < 250, flipped + " of 10000 flipped; σ = 50");
    }

    @Test
    void aFlippedImageIsTheMirrorOfTheImageAndLabelsFollowTheImages() {
        PatternSet data = new PatternSet(9, 3, 4, 5, true);
        Batches b = new Batches(data, 4, 11, true);
        float[] images = new float[4 * 60];
        int[] labels = new int[4];
        float[] one = new float[60];
        int seenFlipped = 0, seenPlain = 0;
        for (long s = 0; s < 20; s++) {
            Arrays.fill(images, Float.NaN);
            b.fill(s, images, labels);
            for (int i = 0; i < 4; i++) {
                int index = b.index(s, i);
                data.image(index, one, 0);
                boolean flip = b.flipped(s, i);
                seenFlipped += flip ? 1 : 0;
                seenPlain += flip ? 0 : 1;
                for (int row = 0; row < 12; row++) {
                    for (int x = 0; x < 5; x++) {
                        float expected = one[row * 5 + (flip ? 4 - x : x)];
                        assertEquals(expected, images[i * 60 + row * 5 + x], "step " + s + " image " + i + " row " + row + " x " + x);
                    }
                }
                assertEquals(data.label(index), labels[i]);
            }
        }
        assertTrue(seenFlipped > 0 && seenPlain > 0, seenFlipped + " flipped, " + seenPlain + " not");
    }

    @Test
    void anyStepIsReproducedFromSeedStepAndBatchAlone() {
        PatternSet data = new PatternSet(13, 1, 3, 3, true);
        Batches run = new Batches(data, 5, 42, true);
        int steps = 40; // about 15 epochs
        float[][] images = new float[steps][45];
        int[][] labels = new int[steps][5];
        for (int s = 0; s < steps; s++) {
            run.fill(s, images[s], labels[s]);
        }
        // a resumed run: a fresh instance from the middle
        Batches resumed = new Batches(data, 5, 42, true);
        float[] x = new float[45];
        int[] y = new int[5];
        for (int s = 17; s < steps; s++) {
            resumed.fill(s, x, y);
            assertArrayEquals(images[s], x, "step " + s);
            assertArrayEquals(labels[s], y, "step " + s);
        }
        // and any order of access: backwards, jumping across epochs
        Batches random = new Batches(data, 5, 42, true);
        for (int s = steps - 1; s >= 0; s -= 3) {
            random.fill(s, x, y);
            assertArrayEquals(images[s], x, "step " + s);
            random.fill((s * 7) % steps, x, y);
            assertArrayEquals(images[(s * 7) % steps], x, "step " + (s * 7) % steps);
        }
        // a far step does not need the ones before it
        long far = 1L << 40;
        Batches a = new Batches(data, 5, 42, true);
        Batches b = new Batches(data, 5, 42, true);
        b.fill(3, x, y);
        float[] z = new float[45];
        a.fill(far, z, null);
        b.fill(far, x, null);
        assertArrayEquals(z, x);
    }

    @Test
    void seedsAndEpochsGiveDifferentOrders() {
        PatternSet data = new PatternSet(50, 1, 1, 1, false);
        int[] a = positions(new Batches(data, 10, 1, true), 100);
        int[] b = positions(new Batches(data, 10, 2, true), 100);
        assertNotEquals(Arrays.toString(Arrays.copyOf(a, 50)), Arrays.toString(Arrays.copyOf(b, 50)));
        assertNotEquals(Arrays.toString(Arrays.copyOf(a, 50)), Arrays.toString(Arrays.copyOfRange(a, 50, 100)));
    }

    @Test
    void badArguments() {
        PatternSet unlabelled = new PatternSet(5, 1, 2, 2, false);
        assertEquals("batches: argument 'batch' expected >= 1, found 0",
                assertThrows(IllegalArgumentException.class, () -> new Batches(unlabelled, 0, 1, true)).getMessage());
        Batches b = new Batches(unlabelled, 3, 1, true);
        assertEquals(12, b.batchLength());
        assertEquals("batches: argument 'step' expected 0..3074457345618258601, found -1",
                assertThrows(IllegalArgumentException.class, () -> b.fill(-1, new float[12], null)).getMessage());
        assertEquals("batches: argument 'step' expected 0..3074457345618258601, found 3074457345618258602",
                assertThrows(IllegalArgumentException.class, () -> b.index(3074457345618258602L, 0)).getMessage());
        b.index(3074457345618258601L, 2); // the last position, Long.MAX_VALUE − 1: no overflow
        assertEquals("batches: argument 'i' expected 0..2, found 3",
                assertThrows(IllegalArgumentException.class, () -> b.index(0, 3)).getMessage());
        assertEquals("batches: argument 'images' expected length 12 (3×1×2×2), found 11",
                assertThrows(IllegalArgumentException.class, () -> b.fill(0, new float[11], null)).getMessage());
        assertEquals("batches: argument 'labels' expected null (the data set has no labels), found length 3",
                assertThrows(IllegalArgumentException.class, () -> b.fill(0, new float[12], new int[3])).getMessage());
        Batches l = new Batches(new PatternSet(5, 1, 2, 2, true), 3, 1, true);
        assertEquals("batches: argument 'labels' expected length 3, found length 2",
                assertThrows(IllegalArgumentException.class, () -> l.fill(0, new float[12], new int[2])).getMessage());
    }
}
