package dev.prism.backend;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads for the JVM backend: the caller and {@code size − 1} workers split each launch
 * into {@code size} contiguous slices of lanes. The slice boundaries depend only on the lane count and the
 * team size, so the result does not depend on timing (each lane writes its own outputs). Slice 0 is the
 * caller's and slice {@code k} worker {@code k}'s, which claims it when it sees the launch. The caller,
 * after its own slice, waits a short spin ({@value #STEAL_AFTER} pauses: a microsecond or a few) for the
 * workers to claim theirs and then runs every slice still unclaimed itself, so a launch never waits for a
 * thread that is parked, still waking or descheduled, only for slices already running elsewhere. A team
 * with more threads than the machine has processors skips that spin: its workers are often not running.
 * (Without the spin the caller read every worker's claim as soon as its own slice was done, pulling the
 * cache lines the workers were claiming: 1.1–1.2 µs per tiny launch of two threads, against 0.8–0.9 with it.)
 *
 * <p>One launch runs at a time: concurrent callers wait for each other, and a launch started from inside a
 * launch's body (on the caller or on a worker) runs all its lanes on the thread that started it. Every
 * slice runs even when another fails; the caller then throws the first failure (others suppressed) and the
 * team stays usable.
 *
 * <p>Between launches the workers wait for the next one, and during a launch the caller waits for slices
 * running on workers, in three stages: a spin (the gap between two launches of a plan is usually shorter
 * than a park and an unpark), then {@link Thread#yield()}, then {@link LockSupport#park}. A team with more
 * threads than the machine has processors skips the spin, which would only keep a core from the thread it
 * waits for.
 *
 * <p><b>Progress.</b> The caller claims and runs every slice left unclaimed, so it waits only for slices
 * that a worker claimed, and a worker that claimed one is running, not parked. {@code pending} counts the
 * workers' slices of the running launch. A worker decrements it when its slice ends and then reads
 * {@code callerParked}; the caller writes {@code callerParked = true} and then reads {@code pending} before
 * it parks. All these fields are volatile
 * (or atomics), so their accesses fall in one total order consistent with each thread's program order in
 * which a read sees the last write before it (JLS 17.4.4). If the worker read {@code false}, its read
 * precedes the caller's write, so its decrement precedes the caller's read of {@code pending}, and the
 * caller sees zero and does not park; otherwise the worker unparks the caller, and an unpark that comes
 * before the {@code park} is kept as the thread's permit. Workers are woken the same way, for speed only:
 * a worker writes its {@code parked = true}, re-reads {@code epoch} and parks only if it is unchanged; the
 * caller writes {@code epoch} and then unparks each worker whose {@code parked} it reads true.
 *
 * <p><b>Visibility.</b> The body and lane count are written before {@code epoch} and read by a worker after
 * it has read that epoch and claimed a slice of it (a claim succeeds only while that launch is running, so
 * they cannot have been replaced); every slice's writes precede its decrement of {@code pending}, which the
 * caller reads before it returns and before it publishes the next launch.
 */
final class Team implements AutoCloseable {
    /** Pause-spins of a waiting thread before it starts yielding: a fraction of a millisecond. */
    private static final int SPINS = 1 << 15;
    /** Yields after the spins, before parking. */
    private static final int YIELDS = 1 << 6;
    /** Ints between two slices' claim slots, so that each slot has a cache line of its own. */
    private static final int STRIDE = 16;
    /** Pause-spins of the caller, after its own slice, before it runs the slices no worker has claimed. */
    private static final int STEAL_AFTER = 64;

    private final int size;
    private final Worker[] workers;
    /** {@code claims[k · STRIDE]}, k ≥ 1: the last launch (epoch) whose slice {@code k} has been claimed. */
    private final AtomicIntegerArray claims;
    /** Workers' slices (1 to size − 1) of the running launch not yet finished. */
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Spins before yielding: none when the team has more threads than the machine has processors. */
    private final int spins;
    /** The caller's spins before it runs unclaimed slices: {@link #STEAL_AFTER}, or none without spins. */
    private final int stealAfter;
    private Lanes body;
    private int lanes;
    private Thread caller;
    /** True while a launch runs; read and written only under this object's lock. */
    private boolean running;
    private volatile int epoch;
    private volatile boolean callerParked;
    private volatile boolean closed;

    Team(int size, String name) {
        this.size = size;
        this.spins = size <= Runtime.getRuntime().availableProcessors() ? SPINS : 0;
        this.stealAfter = spins == 0 ? 0 : STEAL_AFTER;
        this.claims = new AtomicIntegerArray(size * STRIDE);
        this.workers = new Worker[size - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(this, i + 1, name + "-" + (i + 1));
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    /** Runs lanes {@code [0, lanes)} of {@code body} across the team and returns when every slice is done. */
    void run(Lanes body, int lanes) {
        if (Thread.currentThread() instanceof Worker w && w.team == this) {
            body.run(0, lanes);          // nested in a slice on a worker: the launch around it holds the team
            return;
        }
        synchronized (this) {
            if (running) {
                body.run(0, lanes);      // nested in a slice on the caller
                return;
            }
            if (closed) {
                throw new IllegalStateException("the JVM backend was closed");
            }
            running = true;
            try {
                launch(body, lanes);
            } finally {
                running = false;
            }
        }
    }

    private void launch(Lanes body, int lanes) {
        this.body = body;
        this.lanes = lanes;
        this.caller = Thread.currentThread();
        pending.set(size - 1);
        int e = epoch + 1;
        epoch = e;                       // publishes body, lanes and caller, and opens the slices to claims
        for (Worker w : workers) {
            if (w.parked) {
                LockSupport.unpark(w);
            }
        }
        try {
            body.run(0, slice(lanes, 1));
        } catch (Throwable t) {
            fail(t);
        }
        for (int n = 0; pending.get() != 0; n++) {
            if (n == stealAfter) {
                for (int k = 1; k < size; k++) {
                    claimAndRun(k, e, body, lanes, null);
                }
            } else if (n < spins) {
                Thread.onSpinWait();
            } else if (n < spins + YIELDS) {
                Thread.yield();
            } else {
                callerParked = true;
                if (pending.get() != 0) {
                    LockSupport.park(this);
                }
                callerParked = false;
            }
        }
        Throwable t = failure.getAndSet(null);
        if (t == null) {
            return;
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(t);
    }

    private void fail(Throwable t) {
        if (!failure.compareAndSet(null, t)) {
            Throwable thrown = failure.get();
            if (thrown != null && thrown != t) {
                thrown.addSuppressed(t);
            }
        }
    }

    /** Runs slice {@code k} of launch {@code e} if nobody has claimed it yet. */
    private void claimAndRun(int k, int e, Lanes body, int lanes, Thread launcher) {
        int slot = k * STRIDE;
        if (claims.get(slot) != e - 1 || !claims.compareAndSet(slot, e - 1, e)) {
            return;
        }
        Lanes b = body != null ? body : this.body;
        int n = body != null ? lanes : this.lanes;
        try {
            b.run(slice(n, k), slice(n, k + 1));
        } catch (Throwable t) {
            fail(t);
        }
        if (pending.decrementAndGet() == 0 && launcher != null && callerParked) {
            LockSupport.unpark(launcher);
        }
    }

    /** The end of slice {@code k − 1}, the start of slice {@code k}. */
    private int slice(int lanes, int k) {
        return (int) ((long) lanes * k / size);
    }

    private void work(Worker me) {
        int seen = 0;
        while (true) {
            for (int n = 0; epoch == seen; n++) {
                if (closed && epoch == seen) {
                    return;
                }
                if (n < spins) {
                    Thread.onSpinWait();
                } else if (n < spins + YIELDS) {
                    Thread.yield();
                } else {
                    me.parked = true;
                    if (epoch == seen && !closed) {
                        LockSupport.park(this);
                    }
                    me.parked = false;
                }
            }
            seen = epoch;
            claimAndRun(me.slice, seen, null, 0, caller);
        }
    }

    /**
     * Ends the workers: waits for a launch in progress, refuses later ones, and returns when every worker
     * has ended. Called from inside a launch's body, it marks the team closed and returns at once; the
     * workers end after that launch.
     */
    @Override
    public void close() {
        boolean nested = Thread.currentThread() instanceof Worker w && w.team == this;
        if (nested) {
            closed = true;
        } else {
            synchronized (this) {
                closed = true;
                nested = running;
            }
        }
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        if (nested) {
            return;
        }
        boolean interrupted = false;
        for (Worker w : workers) {
            while (w.isAlive()) {
                try {
                    w.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A worker thread, its own slice, and the flag through which the caller knows to unpark it. */
    private static final class Worker extends Thread {
        final Team team;
        final int slice;
        volatile boolean parked;

        Worker(Team team, int slice, String name) {
            super(name);
            this.team = team;
            this.slice = slice;
        }

        @Override
        public void run() {
            team.work(this);
        }
    }
}
