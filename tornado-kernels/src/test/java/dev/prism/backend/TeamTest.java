package dev.prism.backend;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The JVM backend's thread team: every lane of every launch runs exactly once, in slices whose bounds do
 * not depend on timing, however the launches and the workers' spinning and parking interleave; every
 * worker is woken when a launch needs it; failures reach the caller; close() ends the workers.
 *
 * <p>A lost wake-up hangs a launch forever, so every test runs under a watchdog that turns a hang into a
 * failure instead of a stalled build.
 */
class TeamTest {
    /** Launches per thread count in the stress test: each one a few ints, so hand-offs dominate. */
    private static final int LAUNCHES = 200_000;
    private static final Duration WATCHDOG = Duration.ofSeconds(60);

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {1, 2, 3, 8})
    void hundredsOfThousandsOfTinyLaunchesRunEveryLaneExactlyOnce(int threads) {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            try (Team team = new Team(threads, "team-test-" + threads)) {
                int[] hits = new int[3 * threads + 5];
                Lanes count = (from, to) -> {
                    for (int l = from; l < to; l++) {
                        hits[l]++;
                    }
                };
                Set<String> ranOn = ConcurrentHashMap.newKeySet();
                for (int k = 0; k < LAUNCHES; k++) {
                    // Lane counts below, at and above the team size: some slices are empty.
                    int lanes = k % hits.length + 1;
                    if (k % 97 == 0) {
                        // Every thread must hold a slice at once: a worker left parked hangs this launch.
                        team.run(rendezvous(threads, (from, to) -> {
                            ranOn.add(Thread.currentThread().getName());
                            count.run(from, to);
                        }), threads);
                        lanes = threads;
                    } else {
                        team.run(count, lanes);
                    }
                    for (int l = 0; l < hits.length; l++) {
                        int expected = l < lanes ? 1 : 0;
                        if (hits[l] != expected) {
                            fail("launch " + k + " of " + lanes + " lanes on " + threads + " threads: lane " + l
                                    + " expected to run " + expected + " time(s), found " + hits[l]);
                        }
                        hits[l] = 0;
                    }
                    if (k % 4096 == 4095) {
                        Thread.sleep(1);     // longer than the spin: the workers park before the next launch
                    }
                }
                assertEquals(threads, ranOn.size(), "threads that ran a slice: " + ranOn);
            }
        });
    }

    @Test
    void sliceBoundsDependOnlyOnTheLaneCountAndTheTeamSize() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            try (Team team = new Team(3, "team-test-slices")) {
                for (int lanes : new int[] {0, 1, 2, 3, 10, 1000, 1001}) {
                    List<Slice> expected = new ArrayList<>();
                    for (int k = 0; k < 3; k++) {
                        expected.add(new Slice(lanes * k / 3, lanes * (k + 1) / 3));
                    }
                    for (int k = 0; k < 300; k++) {
                        List<Slice> seen = Collections.synchronizedList(new ArrayList<>());
                        Lanes record = (from, to) -> seen.add(new Slice(from, to));
                        team.run(k % 3 == 0 ? rendezvous(3, record) : record, lanes);
                        List<Slice> sorted = new ArrayList<>(seen);
                        sorted.sort(Comparator.comparingInt(Slice::from).thenComparingInt(Slice::to));
                        assertEquals(expected, sorted, lanes + " lanes, launch " + k);
                    }
                }
            }
        });
    }

    private record Slice(int from, int to) { }

    @Test
    void aFailureOnAWorkerReachesTheCallerAndTheTeamKeepsWorking() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            try (Team team = new Team(4, "team-test-fail")) {
                String caller = Thread.currentThread().getName();
                int[] hits = new int[8];
                for (int round = 0; round < 1000; round++) {
                    // The thread that fails: the caller, or worker 1, 2 or 3 (the rendezvous puts one slice on each).
                    String failing = round % 4 == 0 ? caller : "team-test-fail-" + round % 4;
                    IllegalArgumentException boom = new IllegalArgumentException("boom on " + failing);
                    var thrown = assertThrows(IllegalArgumentException.class, () -> team.run(rendezvous(4, (from, to) -> {
                        if (Thread.currentThread().getName().equals(failing)) {
                            throw boom;
                        }
                    }), 8));
                    assertSame(boom, thrown);
                    // Every slice fails: one failure is thrown with the other three suppressed, none is left over.
                    var all = assertThrows(IllegalStateException.class, () -> team.run(rendezvous(4, (from, to) -> {
                        throw new IllegalStateException("slice from " + from);
                    }), 8));
                    assertEquals(3, all.getSuppressed().length);
                    team.run((from, to) -> {
                        for (int l = from; l < to; l++) {
                            hits[l]++;
                        }
                    }, 8);
                }
                AssertionError error = new AssertionError("an Error on a worker");
                assertSame(error, assertThrows(AssertionError.class, () -> team.run(rendezvous(4, (from, to) -> {
                    if (Thread.currentThread().getName().equals("team-test-fail-3")) {
                        throw error;
                    }
                }), 8)));
                for (int l = 0; l < hits.length; l++) {
                    assertEquals(1000, hits[l], "lane " + l);
                }
            }
        });
    }

    @Test
    void closeEndsTheWorkersAndLaterLaunchesFail() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            Team team = new Team(5, "team-test-close");
            team.run(rendezvous(5, (from, to) -> { }), 10);
            assertEquals(4, liveThreadsNamed("team-test-close-"));
            team.close();
            assertEquals(0, liveThreadsNamed("team-test-close-"));
            team.close();
            var e = assertThrows(IllegalStateException.class, () -> team.run((from, to) -> { }, 10));
            assertEquals("the JVM backend was closed", e.getMessage());
        });
    }

    @Test
    void closeDuringALaunchLetsItFinish() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            for (int round = 0; round < 200; round++) {
                Team team = new Team(3, "team-test-close-busy");
                int[] hits = new int[6];
                CountDownLatch started = new CountDownLatch(1);
                AtomicReference<Throwable> closer = new AtomicReference<>();
                Thread t = new Thread(() -> {
                    try {
                        started.await();
                        team.close();
                    } catch (Throwable x) {
                        closer.set(x);
                    }
                });
                t.start();
                team.run(rendezvous(3, (from, to) -> {
                    started.countDown();
                    for (int l = from; l < to; l++) {
                        hits[l]++;
                    }
                }), hits.length);
                t.join();
                assertNull(closer.get());
                assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, hits, "round " + round);
                assertEquals(0, liveThreadsNamed("team-test-close-busy-"));
            }
        });
    }

    @Test
    void closeFromInsideALaunchEndsTheTeamAfterIt() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            for (String closer : new String[] {"caller", "team-test-close-inside-2"}) {
                Team team = new Team(3, "team-test-close-inside");
                String caller = Thread.currentThread().getName();
                int[] hits = new int[3];
                team.run(rendezvous(3, (from, to) -> {
                    String me = Thread.currentThread().getName();
                    if (me.equals(closer) || closer.equals("caller") && me.equals(caller)) {
                        team.close();
                    }
                    hits[from]++;
                }), 3);
                assertArrayEquals(new int[] {1, 1, 1}, hits, "closed on " + closer);
                assertThrows(IllegalStateException.class, () -> team.run((from, to) -> { }, 3));
                team.close();
                assertEquals(0, liveThreadsNamed("team-test-close-inside-"));
            }
        });
    }

    @Test
    void aLaunchFromInsideALaunchRunsOnTheThreadThatStartsIt() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            try (Team team = new Team(3, "team-test-nested")) {
                int[] outer = new int[3];
                int[][] inner = new int[3][4];
                for (int k = 0; k < 1000; k++) {
                    // The rendezvous puts one outer slice on each thread, the workers included.
                    team.run(rendezvous(3, (from, to) -> {
                        for (int l = from; l < to; l++) {
                            outer[l]++;
                            int[] mine = inner[l];
                            Thread me = Thread.currentThread();
                            team.run((a, b) -> {
                                if (Thread.currentThread() != me) {
                                    throw new AssertionError("nested slice ran on " + Thread.currentThread().getName());
                                }
                                for (int i = a; i < b; i++) {
                                    mine[i]++;
                                }
                            }, mine.length);
                        }
                    }), outer.length);
                }
                for (int l = 0; l < outer.length; l++) {
                    assertEquals(1000, outer[l], "outer lane " + l);
                    assertArrayEquals(new int[] {1000, 1000, 1000, 1000}, inner[l], "inner lanes of outer lane " + l);
                }
            }
        });
    }

    @Test
    void launchesFromTwoThreadsAtOnceRunOneAtATime() {
        assertTimeoutPreemptively(WATCHDOG, () -> {
            try (Team team = new Team(3, "team-test-two-callers")) {
                // The launch whose slices are running (its caller's index) in the high half, how many in the low half.
                AtomicLong active = new AtomicLong();
                AtomicInteger overlaps = new AtomicInteger();
                int[][] hits = new int[2][7];
                AtomicReference<Throwable> failure = new AtomicReference<>();
                Thread[] callers = new Thread[2];
                for (int c = 0; c < 2; c++) {
                    long me = c;
                    int[] mine = hits[c];
                    callers[c] = new Thread(() -> {
                        try {
                            for (int k = 0; k < 50_000; k++) {
                                team.run((from, to) -> {
                                    long s = active.getAndUpdate(a -> (int) a == 0 ? me << 32 | 1 : a + 1);
                                    if ((int) s != 0 && s >>> 32 != me) {
                                        overlaps.incrementAndGet();
                                    }
                                    for (int l = from; l < to; l++) {
                                        mine[l]++;
                                    }
                                    active.decrementAndGet();
                                }, mine.length);
                            }
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    });
                    callers[c].start();
                }
                for (Thread t : callers) {
                    t.join();
                }
                assertNull(failure.get());
                assertEquals(0, overlaps.get(), "slices that ran while a slice of the other caller's launch was running");
                for (int[] mine : hits) {
                    assertArrayEquals(new int[] {50_000, 50_000, 50_000, 50_000, 50_000, 50_000, 50_000}, mine);
                }
            }
        });
    }

    @Test
    void theJvmBackendsCloseEndsItsTeam() {
        Set<Thread> before = Thread.getAllStackTraces().keySet();
        JvmBackend jvm = JvmBackend.parallel(3);
        List<Thread> started = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !before.contains(t) && t.getName().startsWith("prism-jvm-")).toList();
        assertEquals(2, started.size(), "worker threads started by JvmBackend.parallel(3): " + started);
        jvm.close();
        for (Thread t : started) {
            assertFalse(t.isAlive(), t.getName() + " still alive after close()");
        }
    }

    /**
     * {@code body}, run only once {@code parties} slices have started: each thread of a team of that size
     * then holds exactly one slice, so every worker must have been woken and have claimed one.
     */
    private static Lanes rendezvous(int parties, Lanes body) {
        AtomicInteger arrived = new AtomicInteger();
        return (from, to) -> {
            arrived.incrementAndGet();
            while (arrived.get() < parties) {
                Thread.yield();
            }
            body.run(from, to);
        };
    }

    private static long liveThreadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(prefix) && t.isAlive()).count();
    }
}
