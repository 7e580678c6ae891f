package dev.prism.bench;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BenchRunner} and the JIT: the warm-up goes on while compilations still finish, and a case during whose
 * timed runs the JIT still finished one is named in {@link BenchRunner#jitDuringTiming()}. The JIT's clock is a
 * counter the test drives, so the outcome does not depend on what HotSpot happens to compile.
 */
class BenchRunnerJitTest {
    private static final long QUIET = 100_000_000L;
    private static final long WAIT = 600_000_000L;

    @Test
    void aQuietJitEndsTheWarmUpAfterTheQuietTimeAndNothingIsReported() {
        AtomicLong clock = new AtomicLong(100);
        BenchRunner runner = new BenchRunner(0, 0, 5, 0.01, clock::get, QUIET, WAIT);
        long t0 = System.nanoTime();
        runner.time("case", "shape", "jvm", () -> { }, 1, 1);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= QUIET / 1e9 && seconds < 5, "took " + seconds + " s");
        assertTrue(runner.jitDuringTiming().isEmpty(), runner.jitDuringTiming().toString());
    }

    @Test
    void compilationsThatFinishDuringTheTimedRunsAreReportedWithTheirMilliseconds() {
        // The clock moves on every call of the work: the warm-up waits its longest, then every timed run adds 2 ms.
        AtomicLong clock = new AtomicLong();
        int[] calls = {0};
        BenchRunner runner = new BenchRunner(0, 0, 5, 0.01, clock::get, QUIET, WAIT);
        long t0 = System.nanoTime();
        runner.time("sample", "shape", "jvm", () -> {
            calls[0]++;
            clock.addAndGet(2);
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 1, 1);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(seconds >= WAIT / 1e9, "the warm-up ended after " + seconds + " s while the JIT kept compiling");
        assertEquals(1, runner.jitDuringTiming().size(), runner.jitDuringTiming().toString());
        long timedRuns = runner.jitDuringTiming().get("sample on jvm") / 2;
        assertTrue(timedRuns >= 3 && timedRuns <= 5, "recorded " + runner.jitDuringTiming());
    }

    @Test
    void aFewMillisecondsOfCompilationAgainstLongTimedRunsAreNotReported() {
        // 1 ms of compilation per 30 ms run: 3 % of the timed time, under the 5 % that names a case
        AtomicLong clock = new AtomicLong();
        BenchRunner runner = new BenchRunner(0, 0, 5, 0.01, clock::get, QUIET, WAIT);
        runner.time("sample", "shape", "jvm", () -> {
            clock.incrementAndGet();
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 1, 1);
        assertTrue(runner.jitDuringTiming().isEmpty(), runner.jitDuringTiming().toString());
    }

    @Test
    void aJvmThatDoesNotReportCompilationTimeIsNotWaitedFor() {
        BenchRunner runner = new BenchRunner(0, 0, 5, 0.01, () -> -1, QUIET, WAIT);
        long t0 = System.nanoTime();
        runner.time("case", "shape", "jvm", () -> { }, 1, 1);
        assertTrue((System.nanoTime() - t0) / 1e9 < QUIET / 1e9);
        assertTrue(runner.jitDuringTiming().isEmpty());
    }
}
