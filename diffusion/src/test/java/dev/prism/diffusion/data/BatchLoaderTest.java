package dev.prism.diffusion.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchLoaderTest {
    static final Duration PATIENCE = Duration.ofSeconds(20);

    /** A pattern set that runs {@code hook} with the running count of images written, before writing each. */
    static final class Watched extends PatternSet {
        final AtomicInteger calls = new AtomicInteger();
        final IntConsumer hook;

        Watched(int n, IntConsumer hook) {
            super(n, 1, 2, 3, true);
            this.hook = hook;
        }

        @Override
        public void image(int index, float[] dst, int offset) {
            hook.accept(calls.incrementAndGet());
            super.image(index, dst, offset);
        }
    }

    static void await(AtomicInteger value, int target) throws InterruptedException {
        long end = System.nanoTime() + PATIENCE.toNanos();
        while (value.get() < target && System.nanoTime() < end) {
            Thread.sleep(2);
        }
        assertEquals(target, value.get(), "images written by the background thread");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 37})
    void backgroundInlineAndFillGiveTheSameBytesInOrder(long first) {
        PatternSet data = new PatternSet(23, 3, 4, 5, true);
        Batches batches = new Batches(data, 8, 77, true);
        float[] a = new float[batches.batchLength()], b = new float[a.length], c = new float[a.length];
        int[] la = new int[8], lb = new int[8], lc = new int[8];
        try (BatchLoader background = BatchLoader.background(batches, first, 3);
             BatchLoader inline = BatchLoader.inline(batches, first)) {
            assertTrue(background.isBackground());
            assertFalse(inline.isBackground());
            for (long s = first; s < first + 60; s++) {
                assertEquals(s, background.nextStep());
                assertEquals(s, background.next(a, la));
                assertEquals(s, inline.next(b, lb));
                batches.fill(s, c, lc);
                assertArrayEquals(c, a, "background, step " + s);
                assertArrayEquals(c, b, "inline, step " + s);
                assertArrayEquals(lc, la, "background labels, step " + s);
                assertArrayEquals(lc, lb, "inline labels, step " + s);
            }
            background.next(a, null); // labels are optional
            assertEquals(first + 61, background.nextStep());
        }
    }

    @Test
    void theThreadPreparesDepthBatchesAheadAndNoMore() throws InterruptedException {
        Watched data = new Watched(10, k -> { });
        Batches batches = new Batches(data, 4, 1, true);
        try (BatchLoader loader = BatchLoader.background(batches, 0, 2)) {
            await(data.calls, 2 * 4); // before anyone asks
            Thread.sleep(50);
            assertEquals(2 * 4, data.calls.get(), "no more than depth batches ahead");
            loader.next(new float[batches.batchLength()], null);
            await(data.calls, 3 * 4);
        }
    }

    @Test
    void aDataSetExceptionReachesTheConsumerWithTheSameMessageAndTheOriginalAsCause() throws InterruptedException {
        DataSetException original = new DataSetException("some.idx", 16, "expected 9 bytes, found 2", null);
        Watched data = new Watched(10, k -> {
            if (k == 2 * 4 + 1) { // the first image of step 2
                throw original;
            }
        });
        Batches batches = new Batches(data, 4, 1, true);
        float[] x = new float[batches.batchLength()];
        BatchLoader loader = BatchLoader.background(batches, 0, 3);
        try (loader) {
            assertEquals(0, loader.next(x, null));
            assertEquals(1, loader.next(x, null));
            DataSetException e = assertThrows(DataSetException.class, () -> loader.next(x, null));
            assertEquals("some.idx: offset 16: expected 9 bytes, found 2", e.getMessage());
            assertEquals(16, e.offset());
            assertSame(original, e.getCause());
            DataSetException again = assertThrows(DataSetException.class, () -> loader.next(x, null));
            assertSame(original, again.getCause(), "a failed loader keeps failing");
            loader.thread().join(PATIENCE.toMillis());
            assertFalse(loader.thread().isAlive(), "the thread ends after a failure");
        }
    }

    @Test
    void anyOtherExceptionReachesTheConsumerAsItsCause() {
        IllegalStateException bug = new IllegalStateException("a bug in a data set");
        Watched data = new Watched(10, k -> {
            if (k == 1) {
                throw bug;
            }
        });
        Batches batches = new Batches(data, 4, 1, true);
        try (BatchLoader loader = BatchLoader.background(batches, 5, 1)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loader.next(new float[batches.batchLength()], null));
            assertEquals("batch loader: the batch of step 5 failed: java.lang.IllegalStateException: a bug in a data set", e.getMessage());
            assertSame(bug, e.getCause());
        }
    }

    @Test
    void closeStopsABlockedThreadAndLaterCallsFail() {
        PatternSet data = new PatternSet(10, 1, 2, 3, false);
        Batches batches = new Batches(data, 4, 1, true);
        BatchLoader loader = BatchLoader.background(batches, 0, 1);
        Thread t = loader.thread();
        assertTrue(t.isDaemon());
        assertEquals("prism-batch-loader", t.getName());
        assertTimeoutPreemptively(PATIENCE, () -> {
            while (t.getState() != Thread.State.WAITING) { // blocked: its one buffer is full
                Thread.sleep(2);
            }
            loader.close();
        });
        assertFalse(t.isAlive());
        assertEquals("batch loader: closed",
                assertThrows(IllegalStateException.class, () -> loader.next(new float[batches.batchLength()], null)).getMessage());
        loader.close(); // idempotent
        BatchLoader inline = BatchLoader.inline(batches, 0);
        inline.close();
        assertThrows(IllegalStateException.class, () -> inline.next(new float[batches.batchLength()], null));
    }

    @Test
    void closeWaitsForABatchBeingFilled() throws InterruptedException {
        CountDownLatch inside = new CountDownLatch(1);
        Watched data = new Watched(10, k -> {
            inside.countDown();
            try {
                Thread.sleep(20); // slow data; an interrupt ends the sleep early
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        BatchLoader loader = BatchLoader.background(new Batches(data, 4, 1, true), 0, 2);
        assertTrue(inside.await(PATIENCE.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
        assertTimeoutPreemptively(PATIENCE, loader::close);
        assertFalse(loader.thread().isAlive());
    }

    @Test
    void anInterruptedConsumerGetsAnExceptionAndKeepsItsInterruptFlag() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        Watched data = new Watched(10, k -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Batches batches = new Batches(data, 4, 1, true);
        try (BatchLoader loader = BatchLoader.background(batches, 0, 1)) {
            Thread.currentThread().interrupt();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loader.next(new float[batches.batchLength()], null));
            assertEquals("batch loader: interrupted while waiting for the batch of step 0", e.getMessage());
            assertTrue(Thread.interrupted(), "the flag is restored (and cleared here)");
            release.countDown();
        }
    }

    @Test
    void badArguments() {
        Batches batches = new Batches(new PatternSet(10, 1, 2, 3, false), 4, 1, true);
        assertEquals("batch loader: argument 'depth' expected >= 1, found 0",
                assertThrows(IllegalArgumentException.class, () -> BatchLoader.background(batches, 0, 0)).getMessage());
        assertEquals("batch loader: argument 'firstStep' expected >= 0, found -1",
                assertThrows(IllegalArgumentException.class, () -> BatchLoader.background(batches, -1, 1)).getMessage());
        assertEquals("batch loader: argument 'firstStep' expected >= 0, found -1",
                assertThrows(IllegalArgumentException.class, () -> BatchLoader.inline(batches, -1)).getMessage());
        try (BatchLoader loader = BatchLoader.background(batches, 0, 1)) {
            assertEquals("batches: argument 'images' expected length 24 (4×1×2×3), found 23",
                    assertThrows(IllegalArgumentException.class, () -> loader.next(new float[23], null)).getMessage());
            assertEquals("batches: argument 'labels' expected null (the data set has no labels), found length 4",
                    assertThrows(IllegalArgumentException.class, () -> loader.next(new float[24], new int[4])).getMessage());
            assertEquals(0, loader.next(new float[24], null), "a refused call consumes no batch");
        }
    }
}
