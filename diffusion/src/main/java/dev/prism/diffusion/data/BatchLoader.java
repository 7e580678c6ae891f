package dev.prism.diffusion.data;

import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Hands out the batches of {@link Batches} for consecutive steps, {@code firstStep, firstStep+1, ...}:
 * either prepared ahead by one background thread ({@link #background}), so that a training step never
 * waits for data, or filled on the caller's thread ({@link #inline}). The bytes of a step's batch are the
 * same in both modes and do not depend on timing: each is {@link Batches#fill} of that step.
 *
 * <p>Background mode: one daemon thread ({@code prism-batch-loader}) fills up to {@code depth} batch
 * buffers ahead; {@link #next} copies the oldest into the caller's arrays and hands its buffer back to
 * the thread. The buffers are allocated once, so steady state allocates nothing. An exception thrown
 * while filling a batch reaches the consumer: {@link #next} of that step throws it (inline: the exception
 * itself; background: a
 * {@link DataSetException} as a DataSetException with the same message, anything else as an
 * {@link IllegalStateException}, in both cases with the original as the cause), and so does every
 * later call. {@link #close} stops and joins the thread; use try-with-resources.
 *
 * <p>One consumer thread at a time calls {@link #next}.
 */
public final class BatchLoader implements AutoCloseable {
    private final Batches batches;
    private final Thread thread;
    private final BlockingQueue<Slot> free;
    private final BlockingQueue<Slot> ready;
    private long nextStep;
    private volatile boolean closed;
    private Slot failed;

    /** A batch buffer, or the failure of the step it was filling. */
    private static final class Slot {
        final float[] images;
        final int[] labels;
        long step;
        Throwable failure;

        Slot(int imageLength, int batch, boolean labelled) {
            images = new float[imageLength];
            labels = labelled ? new int[batch] : null;
        }
    }

    private BatchLoader(Batches batches, long firstStep, int depth) {
        this.batches = batches;
        this.nextStep = firstStep;
        if (depth == 0) {
            thread = null;
            free = null;
            ready = null;
            return;
        }
        free = new ArrayBlockingQueue<>(depth);
        ready = new ArrayBlockingQueue<>(depth);
        for (int k = 0; k < depth; k++) {
            free.add(new Slot(batches.batchLength(), batches.batch(), batches.data().hasLabels()));
        }
        thread = Thread.ofPlatform().daemon().name("prism-batch-loader").unstarted(() -> produce(firstStep));
    }

    /**
     * A loader with a background thread that keeps up to {@code depth} batches ready.
     *
     * @param batches   the order; the loader works on its own copy, so the caller may keep using it
     * @param firstStep the step of the first batch, at least 0 (a resumed run's next step)
     * @param depth     batches prepared ahead, at least 1 (2 hides the time of one slow batch)
     * @throws IllegalArgumentException for a negative first step or a depth below 1
     */
    public static BatchLoader background(Batches batches, long firstStep, int depth) {
        check(batches, firstStep);
        if (depth < 1) {
            throw new IllegalArgumentException("batch loader: argument 'depth' expected >= 1, found " + depth);
        }
        BatchLoader loader = new BatchLoader(batches.copy(), firstStep, depth);
        loader.thread.start();
        return loader;
    }

    /**
     * A loader that fills each batch on the caller's thread when {@link #next} is called (evaluation,
     * tests, or a data set that must stay on one thread).
     *
     * @param firstStep the step of the first batch, at least 0
     */
    public static BatchLoader inline(Batches batches, long firstStep) {
        check(batches, firstStep);
        return new BatchLoader(batches.copy(), firstStep, 0);
    }

    private static void check(Batches batches, long firstStep) {
        Objects.requireNonNull(batches, "batches");
        if (firstStep < 0) {
            throw new IllegalArgumentException("batch loader: argument 'firstStep' expected >= 0, found " + firstStep);
        }
    }

    private void produce(long step) {
        try {
            while (!closed) {
                Slot s = free.take();
                s.step = step;
                try {
                    batches.fill(step, s.images, s.labels);
                } catch (Throwable t) {
                    s.failure = t;
                    ready.put(s);
                    return;
                }
                ready.put(s);
                step++;
            }
        } catch (InterruptedException e) {
            // close(): end quietly.
        }
    }

    /** The step whose batch the next call of {@link #next} returns. */
    public long nextStep() {
        return nextStep;
    }

    /** Whether batches are prepared by a background thread. */
    public boolean isBackground() {
        return thread != null;
    }

    /**
     * Writes the batch of {@link #nextStep()} and advances to the next step; waits for it if the
     * background thread has not finished it yet.
     *
     * @param images written: {@code [B,C,H,W]}, as {@link Batches#fill}
     * @param labels written when not null: the batch's labels, as {@link Batches#fill}
     * @return the step of the batch written
     * @throws DataSetException         if reading the data failed (the original is the cause)
     * @throws IllegalStateException    if filling the batch failed otherwise (the original is the cause),
     *                                  if the loader is closed, or if the thread is interrupted while waiting
     * @throws IllegalArgumentException for arrays of the wrong length
     */
    public long next(float[] images, int[] labels) {
        if (closed) {
            throw new IllegalStateException("batch loader: closed");
        }
        if (thread == null) {
            batches.fill(nextStep, images, labels);
            return nextStep++;
        }
        if (failed != null) {
            throw rethrow(failed);
        }
        batches.checkArrays(images, labels);
        Slot s;
        try {
            s = ready.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("batch loader: interrupted while waiting for the batch of step " + nextStep, e);
        }
        if (s.failure != null) {
            failed = s;
            throw rethrow(s);
        }
        System.arraycopy(s.images, 0, images, 0, images.length);
        if (labels != null) {
            System.arraycopy(s.labels, 0, labels, 0, labels.length);
        }
        long step = s.step;
        free.add(s);
        nextStep = step + 1;
        return step;
    }

    private static RuntimeException rethrow(Slot s) {
        if (s.failure instanceof DataSetException d) {
            return new DataSetException(d.file(), d.offset(), d.problem(), d);
        }
        return new IllegalStateException("batch loader: the batch of step " + s.step + " failed: " + s.failure, s.failure);
    }

    /** Stops the background thread and waits for it to end; later calls of {@link #next} fail. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (thread == null) {
            return;
        }
        thread.interrupt();
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        free.clear();
        ready.clear();
    }

    /** The background thread, for tests; null inline. */
    Thread thread() {
        return thread;
    }
}
