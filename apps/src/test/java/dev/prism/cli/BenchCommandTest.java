package dev.prism.cli;

import dev.prism.kernels.VectorWidth;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {
    static CliTest.Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new CliTest.Result(code, out.toString(), err.toString());
    }

    @Test
    void benchTimesEveryCaseOnEveryBackendAndWritesJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("results.json");
        CliTest.Result r = run("bench", "-k", "haar", "--size", "small", "--backends", "jvm-seq,jvm,jvm-plain", "--runs", "5",
                "--warmup", "0", "--warmup-time", "0", "--budget", "0.2", "--no-ceilings", "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        for (String row : new String[] {"haar.dwt2", "haar.idwt2"}) {
            for (String backend : new String[] {"jvm-seq", "jvm", "jvm-plain"}) {
                assertEquals(1, r.out().lines().filter(l -> l.startsWith(row + " ") && l.contains(" " + backend + " ")).count(),
                        "one row labelled " + backend + " for " + row + ":\n" + r.out());
            }
        }
        String j = Files.readString(json);
        assertTrue(j.contains("\"git\""), j);
        assertTrue(j.contains("\"cpu\""), j);
        assertTrue(j.contains("\"backend\" : \"jvm-seq\""), j);
        assertTrue(j.contains("\"median_ms\""), j);
        assertTrue(j.contains("\"backend\" : \"jvm-plain\""), j);
        int bits = VectorWidth.bits();
        assertTrue(j.contains("\"vector_bits\" : " + bits), j);
        assertTrue(r.out().contains("vector width: " + bits + " bits"), r.out());
        // Linux (where the tests run) has /proc: the run says how much of a processor other processes took.
        assertEquals(1, r.out().lines().filter(l -> l.matches("(warning: )?machine load: other processes used \\d+% of one processor during this run.*")).count(), r.out());
        assertTrue(j.contains("\"other_processes_share_of_one_processor\""), j);
        assertEquals(1, r.out().lines().filter(l -> l.startsWith("backend jvm: JVM, ") && l.contains(", " + bits + "-bit vectors")).count(), r.out());
        assertEquals(6, j.split("\"kernel\" :").length - 1, j);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file may be left beside the JSON");
        }
    }

    @Test
    void badValuesAreRejectedByName(@TempDir Path dir) {
        CliTest.Result r = run("bench", "-k", "haar", "--runs", "2");
        assertEquals(2, r.code());
        assertEquals("prism: --runs expected 5 to 100000 (a median of fewer than 5 is noise), found 2", r.err().strip());

        r = run("bench", "-k", "haar", "--size", "small", "--backends", "gpu:0", "--runs", "5");
        assertEquals(2, r.code());
        assertEquals("prism: --backends expected jvm-seq, jvm, jvm-plain or tornado:<index>, found 'gpu:0'", r.err().strip());

        r = run("bench", "-k", "haar", "--size", "small", "--backends", "jvm", "--runs", "5", "--json", dir.resolve("no/such/dir/x.json").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --json "), r.err());
        assertFalse(Files.exists(dir.resolve("no")));

        r = run("bench", "-k", "haar", "--size", "small", "--vector-bits", "384");
        assertEquals(2, r.code());
        assertEquals("prism: --vector-bits expected 128, 256 or 512 (vector bits), found '384'", r.err().strip());

        // The variants of this JVM run at its width already: another one is refused, by name, before any work.
        int other = VectorWidth.bits() == 256 ? 128 : 256;
        r = run("bench", "-k", "haar", "--size", "small", "--vector-bits", String.valueOf(other));
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --vector-bits " + other + ": the vector variants already run at " + VectorWidth.bits() + " bits ("),
                r.err());
        r = run("kernels", "--check", "-k", "haar", "--size", "small", "--vector-bits", String.valueOf(other));
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --vector-bits " + other + ": the vector variants already run at "), r.err());

        r = run("bench", "-k", "haar", "--peer", "--python", dir.resolve("python-that-is-not-there").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not an executable"), r.err());
    }
}
