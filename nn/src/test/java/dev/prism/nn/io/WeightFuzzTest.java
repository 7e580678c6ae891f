package dev.prism.nn.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link WeightFuzz} in the nn module's {@code heap-256m} surefire execution: by default 400 inputs per target
 * from a fixed seed (the same inputs every run), each within 10 seconds, none a crash. With
 * {@code -Dprism.fuzz.seconds=N} it runs for N seconds instead, from {@code -Dprism.fuzz.seed} (see
 * {@link WeightFuzz} for the command); {@code -Dprism.fuzz.replay=TARGET:SEED} feeds one input again.
 */
class WeightFuzzTest {
    @TempDir
    Path dir;

    static final long DEFAULT_SEED = 20261204;
    static final int PER_TARGET = 400;

    static List<byte[]> seeds() throws IOException {
        Path weights = TestFiles.weights("fp32.pth").getParent();
        List<byte[]> out = new ArrayList<>();
        for (Path d : List.of(weights, weights.resolveSibling("models"))) {
            try (Stream<Path> s = Files.list(d)) {
                for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                    out.add(Files.readAllBytes(f));
                }
            }
        }
        return out;
    }

    @Test
    void everyGeneratedInputIsReadOrRefusedWithTheTypedErrorIn256MiB() throws IOException {
        assumeTrue(Runtime.getRuntime().maxMemory() <= 256L << 20, "runs in the heap-256m execution");
        long seconds = Long.getLong("prism.fuzz.seconds", 0);
        long seed = Long.getLong("prism.fuzz.seed", DEFAULT_SEED);
        WeightFuzz fuzz = new WeightFuzz(dir, Duration.ofSeconds(10), Boolean.getBoolean("prism.fuzz.hugeSizes"), seeds());
        WeightFuzz.Summary s = seconds > 0 ? fuzz.run(seed, Long.MAX_VALUE, Duration.ofSeconds(seconds))
                : fuzz.run(seed, PER_TARGET, Duration.ofMinutes(10));
        System.out.println("WeightFuzzTest: seed " + seed + ": " + s);
        s.outcomes().forEach((k, v) -> System.out.println("  " + v + "  " + k));
        assertEquals(List.of(), s.crashes(), s.toString());
        if (seconds == 0) {
            assertEquals(4L * PER_TARGET, s.total(), "the default run tries every input");
        }
        // The generators reach past the first checks: every target has inputs that read, and many kinds of refusal.
        for (WeightFuzz.Target t : WeightFuzz.Target.values()) {
            long kinds = s.outcomes().keySet().stream().filter(k -> k.startsWith(t + " refused")).count();
            assertTrue(s.outcomes().getOrDefault(t + " read", 0L) > 0 && kinds >= 10, t + ": " + s.outcomes());
        }
    }

    @Test
    void anInputOverTheTimeLimitIsACrash() throws IOException {
        // An input that certainly outlasts the limit: with a real input and a zero limit, a fast worker could
        // finish before the result is asked for, and the test would depend on timing.
        WeightFuzz fuzz = new WeightFuzz(dir, Duration.ofMillis(50), false, List.of());
        String outcome = fuzz.outcome(() -> {
            Thread.sleep(60_000);
            return "read";
        });
        assertEquals("CRASH took longer than 0 s", outcome);
        String next = fuzz.check(WeightFuzz.Target.ZIP, 1);
        assertTrue(next.startsWith("refused: not a valid zip archive"), "the worker replaced after the timeout feeds the next input: " + next);
    }

    @Test
    void replay() throws IOException {
        String replay = System.getProperty("prism.fuzz.replay");
        assumeTrue(replay != null, "-Dprism.fuzz.replay=TARGET:SEED feeds one input again");
        String[] p = replay.split(":");
        WeightFuzz fuzz = new WeightFuzz(dir, Duration.ofSeconds(60), Boolean.getBoolean("prism.fuzz.hugeSizes"), seeds());
        String outcome = fuzz.check(WeightFuzz.Target.valueOf(p[0]), Long.parseLong(p[1]));
        System.out.println("WeightFuzzTest: " + replay + ": " + outcome);
        assertTrue(!outcome.startsWith("CRASH"), outcome);
    }
}
