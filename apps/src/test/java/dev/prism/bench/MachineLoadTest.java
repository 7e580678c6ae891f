package dev.prism.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class MachineLoadTest {
    @Test
    void machineBusyIsUserNiceSystemIrqSoftirqStealAndTotalAddsIdleAndIowait() {
        long[] m = MachineLoad.machine(List.of("cpu  100 2 30 500 7 1 4 6 0 0", "cpu0 50 1 15 250 3 0 2 3 0 0"));
        assertEquals(100 + 2 + 30 + 1 + 4 + 6, m[0]);
        assertEquals(m[0] + 500 + 7, m[1]);
        assertThrows(IllegalArgumentException.class, () -> MachineLoad.machine(List.of("intr 1 2 3")));
    }

    @Test
    void ownTimeCountsUserSystemAndWaitedChildrenAfterACommandNameWithSpacesAndParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        String stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194304 10 0 0 0 300 40 5 6 20 0 25 0 100 0";
        assertEquals(300 + 40 + 5 + 6, MachineLoad.own(stat));
    }

    @Test
    void shareIsOtherTicksOverOneProcessorsTicks() {
        // 2 processors, 1000 ticks in all over the run: one processor had 500; others took 700 - 450 = 250 of them.
        MachineLoad.Result r = MachineLoad.result(700, 1000, 450, 2);
        assertEquals(250, r.otherTicks());
        assertEquals(0.5, r.share(), 1e-12);
        assertTrue(r.disturbing());
        assertTrue(r.describe().startsWith("warning: machine load: other processes used 50% of one processor"), r.describe());
        MachineLoad.Result idle = MachineLoad.result(400, 1000, 410, 2);
        assertEquals(0, idle.share());
        assertFalse(idle.disturbing());
        assertEquals("machine load: other processes used 0% of one processor during this run", idle.describe());
    }

    @Test
    void aBusyProcessThatIsNotOursIsSeen() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/stat")), "no /proc/stat: MachineLoad measures only on Linux");
        // A loop in a grandchild: its shell parent exits at once, so the loop is never a child this JVM waits for
        // and its time cannot reach /proc/self/stat's children's counters.
        Process sh = new ProcessBuilder("/bin/sh", "-c", "(while :; do :; done) >/dev/null 2>&1 & echo $!").start();
        String pid = new String(sh.getInputStream().readAllBytes()).trim();
        assertTrue(sh.waitFor(10, TimeUnit.SECONDS));
        try {
            MachineLoad load = MachineLoad.start();
            Thread.sleep(1500);
            MachineLoad.Result r = load.stop();
            // The loop alone keeps a processor busy (share about 1); a machine crowded by other work still gives it a part.
            assertTrue(r.share() > 0.3, "share " + r.share());
            assertTrue(r.disturbing());
        } finally {
            new ProcessBuilder("kill", pid).start().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
