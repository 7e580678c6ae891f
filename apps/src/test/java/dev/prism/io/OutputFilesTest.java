package dev.prism.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Outputs written together or not at all, and never into anything but a regular file or a new path. */
class OutputFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void nothingIsVisibleUntilCommitAndEverythingAfterIt() throws Exception {
        Files.write(dir.resolve("grid.png"), new byte[] {9});
        try (OutputFiles files = new OutputFiles()) {
            files.add(dir.resolve("grid.png"), new byte[] {1, 2});
            files.add(dir.resolve("each.png"), new byte[] {3});
            assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("grid.png")), "the old grid until commit");
            assertTrue(Files.notExists(dir.resolve("each.png")));
            assertEquals(List.of(dir.resolve("grid.png"), dir.resolve("each.png")), files.commit());
        }
        assertArrayEquals(new byte[] {1, 2}, Files.readAllBytes(dir.resolve("grid.png")));
        assertEquals(List.of("each.png", "grid.png"), names(), "no temporary file left");
    }

    @Test
    void aFailureBeforeCommitLeavesEveryTargetAsItWasAndNoTemporaryFile() throws Exception {
        Files.write(dir.resolve("grid.png"), new byte[] {9});
        Files.createDirectory(dir.resolve("sample-001.png"));   // the second per-image file cannot be written
        try (OutputFiles files = new OutputFiles()) {
            files.add(dir.resolve("grid.png"), new byte[] {1});
            files.add(dir.resolve("sample-000.png"), new byte[] {2});
            var e = assertThrows(IllegalArgumentException.class, () -> files.add(dir.resolve("sample-001.png"), new byte[] {3}));
            assertEquals(dir.resolve("sample-001.png") + ": expected a regular file or a new path, found a directory", e.getMessage());
        }
        assertArrayEquals(new byte[] {9}, Files.readAllBytes(dir.resolve("grid.png")));
        assertEquals(List.of("grid.png", "sample-001.png"), names(), "no grid written, no image, no temporary file");
    }

    @Test
    void specialFilesAreRefusedByKind() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> OutputFiles.checkTarget("--out", Path.of("/dev/null")));
        assertEquals("--out /dev/null: expected a regular file or a new path, found a character device", e.getMessage());
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        e = assertThrows(IllegalArgumentException.class, () -> OutputFiles.checkTarget("--out", fifo));
        assertEquals("--out " + fifo + ": expected a regular file or a new path, found a FIFO", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new OutputFiles().add(Path.of("/dev/null"), new byte[1]));
        assertEquals("/dev/null: expected a regular file or a new path, found a character device", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> OutputFiles.checkDirectory("--per-image-dir", Path.of("/proc")));
        assertTrue(e.getMessage().startsWith("--per-image-dir /proc is not writable ("), e.getMessage());
        assertEquals(List.of("fifo"), names());
    }

    @Test
    void anInterruptedProcessLeavesNoTemporaryFile() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), OutputFilesChild.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();   // stderr: e.g. "Picked up JAVA_TOOL_OPTIONS"
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("staged", r.readLine());
            assertEquals(3, names().size(), "three temporary files before the interrupt: " + names());
            assertTrue(names().stream().allMatch(n -> n.startsWith(".") && n.endsWith(".tmp")), names().toString());
            p.destroy();   // SIGTERM, as Ctrl-C's SIGINT: the JVM runs its shutdown hooks
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the child exits");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(List.of(), names(), "the shutdown hook deleted the temporary files; no target was written");
    }
}
