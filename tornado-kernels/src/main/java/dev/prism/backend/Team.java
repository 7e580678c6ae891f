package dev.prism.backend;

import dev.prism.kernels.Lanes;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for the JVM backend: the caller and {@code size − 1} workers split each launch
 * into {@code size} contiguous slices of lanes, one each. Between launches of a plan the workers spin
 * briefly for the next one and then park, so a plan of many short launches does not pay a fork-join
 * hand-over for every launch. The slices are static, so the result does not depend on timing. One
 * launch runs at a time; concurrent callers wait for each other.
 */
final class Team implements AutoCloseable {
    /** Spins of a waiting worker before it parks: tens of microseconds, the gap between two launches of a plan. */
    private static final int SPINS = 1 << 15;

    private final int size;
    private final Thread[] workers;
    private final boolean[] parked;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Lanes body;
    private volatile int lanes;
    private volatile int epoch;
    private volatile boolean closed;

    Team(int size, String name) {
        this.size = size;
        this.workers = new Thread[size - 1];
        this.parked = new boolean[size - 1];
        for (int i = 0; i < workers.length; i++) {
            int slice = i + 1;
            workers[i] = new Thread(() -> work(slice), name + "-" + slice);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /** Runs lanes {@code [0, lanes)} of {@code body} across the team and returns when every slice is done. */
    synchronized void run(Lanes body, int lanes) {
        if (closed) {
            throw new IllegalStateException("the JVM backend was closed");
        }
        this.body = body;
        this.lanes = lanes;
        pending.set(workers.length);
        epoch++;                         // the volatile write publishes body and lanes to the workers
        for (int i = 0; i < workers.length; i++) {
            if (parked[i]) {
                LockSupport.unpark(workers[i]);
            }
        }
        Throwable mine = null;
        try {
            body.run(0, slice(lanes, 1));
        } catch (Throwable t) {
            mine = t;
        }
        while (pending.get() != 0) {
            Thread.onSpinWait();
        }
        Throwable theirs = failure.getAndSet(null);
        if (mine != null || theirs != null) {
            Throwable t = mine != null ? mine : theirs;
            if (t instanceof RuntimeException r) {
                throw r;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(t);
        }
    }

    /** The end of slice {@code k − 1}, the start of slice {@code k}. */
    private int slice(int lanes, int k) {
        return (int) ((long) lanes * k / size);
    }

    private void work(int slice) {
        int seen = 0;
        int index = slice - 1;
        while (true) {
            int spins = 0;
            while (epoch == seen && !closed) {
                if (++spins < SPINS) {
                    Thread.onSpinWait();
                } else {
                    parked[index] = true;
                    if (epoch == seen && !closed) {
                        LockSupport.park(this);
                    }
                    parked[index] = false;
                    spins = 0;
                }
            }
            if (closed) {
                return;
            }
            seen = epoch;
            try {
                body.run(slice(lanes, slice), slice(lanes, slice + 1));
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            pending.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
