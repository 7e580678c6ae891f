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
    void forksTimeTheCasesInFreshJvmsAndReportTheMedianOfTheirMediansWithEach(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("forks.json");
        long forkDirs = forkDirectories();
        CliTest.Result r = run("bench", "-k", "haar.dwt2", "--size", "small", "--backends", "jvm-seq,jvm", "--runs", "5",
                "--warmup", "0", "--warmup-time", "0", "--budget", "0.1", "--no-ceilings", "--forks", "2", "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("fork 1 of 2: 2 cases in "), r.out());
        assertTrue(r.out().contains("fork 2 of 2: 2 cases in "), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.contains("each JVM ms")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("backend jvm: JVM, ") && l.contains("-bit vectors")),
                "the forks' own description of each backend:\n" + r.out());
        for (String backend : new String[] {"jvm-seq", "jvm"}) {
            // The row shows the two JVMs' medians: "a · b".
            assertEquals(1, r.out().lines().filter(l -> l.startsWith("haar.dwt2 ") && l.contains(" " + backend + " ")
                    && l.matches(".*\\d\\.\\d+ · \\d\\.\\d+.*")).count(), r.out());
        }
        String j = Files.readString(json);
        assertTrue(j.contains("\"forks\" : 2"), j);
        // Each result lists both JVMs' medians, and its median lies between them (the mean of the two).
        var m = java.util.regex.Pattern.compile("\"median_ms\" : ([0-9.eE-]+),[^}]*?\"jvm_medians_ms\" : \\[ ([0-9.eE-]+), ([0-9.eE-]+) \\]",
                java.util.regex.Pattern.DOTALL).matcher(j);
        int found = 0;
        while (m.find()) {
            double med = Double.parseDouble(m.group(1)), a = Double.parseDouble(m.group(2)), b = Double.parseDouble(m.group(3));
            assertEquals((a + b) / 2, med, 1e-12 * med, j);
            found++;
        }
        assertEquals(2, found, j);
        assertEquals(forkDirs, forkDirectories(), "the forks' directory is removed after the run");
    }

    private static long forkDirectories() throws java.io.IOException {
        try (var files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return files.filter(f -> f.getFileName().toString().startsWith("prism-bench-forks")).count();
        }
    }

    @Test
    void aForkWritesItsResultsForItsParent(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("fork.tsv");
        CliTest.Result r = run("bench", "-k", "haar", "--size", "small", "--backends", "jvm-seq", "--runs", "5",
                "--warmup", "0", "--warmup-time", "0", "--budget", "0.1", "--no-ceilings", "--fork-out", file.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        var fork = dev.prism.bench.Forks.read(file);
        assertEquals(java.util.List.of("haar.dwt2", "haar.idwt2"), fork.results().stream().map(x -> x.kernel()).toList());
        for (var x : fork.results()) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(x.kernel() + " ") && l.contains(" jvm-seq ")), r.out());
            assertTrue(x.medianMillis() > 0 && x.runs() >= 5, x.toString());
        }
    }

    @Test
    void badValuesAreRejectedByName(@TempDir Path dir) {
        CliTest.Result r = run("bench", "-k", "haar", "--runs", "2");
        assertEquals(2, r.code());
        assertEquals("prism: --runs expected 5 to 100000 (a median of fewer than 5 is noise), found 2", r.err().strip());

        r = run("bench", "-k", "haar", "--size", "small", "--forks", "0");
        assertEquals(2, r.code());
        assertEquals("prism: --forks expected 1 or more, found 0", r.err().strip());
        r = run("bench", "-k", "haar", "--size", "small", "--forks", "2", "--breakdown");
        assertEquals(2, r.code());
        assertEquals("prism: --forks applies to the timed kernel cases; expected no --breakdown with it, found both", r.err().strip());

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

    /** WaveDiff's CIFAR-10 structure at the committed tiny case's sizes: seconds, not minutes. */
    private static final String TINY = "cifar10,nf=4,nz=8,zdim=16,mlp=2";

    @Test
    void aWaveDiffModelRunGivesOneRowPerBackendWithItsMemoryAndSaysWhyThePeerDidNotRun(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("wavediff.json");
        Path notACheckout = Files.createDirectory(dir.resolve("not-wavediff"));
        CliTest.Result r = run("bench", "--model", "wavediff", "--config", TINY, "--batch", "3", "--steps", "4", "--backends", "jvm,jvm-seq",
                "--threads", "2", "--runs", "5", "--budget", "0.1", "--wavediff-src", notACheckout.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        for (String backend : new String[] {"jvm", "jvm-seq"}) {
            assertEquals(1, r.out().lines().filter(l -> l.startsWith("model.wavediff.sample ") && l.contains("3x3x32x32 cifar10* T4")
                    && l.contains(" " + backend + " ")).count(), r.out());
            assertEquals(1, r.out().lines().filter(l -> l.startsWith("memory on " + backend + ", measured: ")).count(), r.out());
        }
        assertEquals(1, r.out().lines().filter(l -> l.equals("peer: not run: --wavediff-src " + notACheckout
                + " expected a checkout of the official WaveDiff code (a folder with score_sde/), found none")).count(), r.out());
        assertEquals(1, r.out().lines().filter(l -> l.startsWith("memory for a batch of 3, computed from the plan: ")).count(), r.out());
        String j = Files.readString(json);
        assertTrue(j.contains("\"kernel\" : \"model.wavediff.sample\""), j);
        assertEquals(2, j.split("\"kernel\" :").length - 1, j);
    }

    @Test
    void theOfficialPeerIsTimedOnlyForAnUnchangedPresetAndTheLineSaysSo(@TempDir Path dir) throws Exception {
        // A folder that looks like the official checkout: the preset check comes next, and the tiny options are not a preset.
        Path src = dir.resolve("WaveDiff");
        Files.createDirectories(src.resolve("score_sde"));
        CliTest.Result r = run("bench", "--model", "wavediff", "--config", TINY, "--batch", "1", "--runs", "5",
                "--budget", "0.1", "--wavediff-src", src.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("peer: not run: the official code is timed at its presets only (cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun), found options "
                + "{mlp=2, nf=4, nz=8, preset=cifar10, zdim=16}\n"), r.out());
        // Without --backends: jvm and every TornadoVM device (none in the default build; under -Ptornado with an SDK,
        // each device its row), not the one-thread oracle.
        long devices = r.out().lines().filter(l -> l.startsWith("backend tornado:")).count();
        assertEquals(1 + devices, r.out().lines().filter(l -> l.startsWith("model.wavediff.sample ")).count(), r.out());
        assertEquals(1, r.out().lines().filter(l -> l.startsWith("model.wavediff.sample ") && l.contains(" jvm ")).count(), r.out());
        assertEquals(0, r.out().lines().filter(l -> l.startsWith("model.wavediff.sample ") && l.contains(" jvm-seq ")).count(), r.out());

        r = run("bench", "--model", "wavediff", "--config", TINY, "--batch", "1", "--backends", "jvm", "--runs", "5", "--budget", "0.1",
                "--wavediff-src", "");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("peer: not run: no checkout of the official WaveDiff code named (--wavediff-src or WAVEDIFF_SRC)\n"), r.out());
    }

    @Test
    void badModelOptionsEndWithOneLineNamingTheOption() {
        String[][] cases = {
                {"--model", "unet"}, {"--batch", "2"}, {"--model", "wavediff", "--config", "celeba_2048"},
                {"--model", "wavediff", "--config", "preset=celeba_2048"}, {"--model", "wavediff", "--config", "cifar10,nf=many"},
                {"--model", "wavediff", "--batch", "0"}, {"--model", "wavediff", "--steps", "3"},
                {"--model", "wavediff", "--config", "celeba_256", "--steps", "4"}, {"--model", "wavediff", "-k", "haar"}};
        String[] expected = {
                "--model expected wavediff (the model bench times whole; the kernel catalog's model cases: -k model), found 'unet'",
                "--batch applies only with --model; expected --model wavediff too, found none",
                "--config expected key=value, found 'celeba_2048'",
                "--config option preset expected one of cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun, fmnist (the official"
                        + " configurations, and Prism's Fashion-MNIST model), found 'celeba_2048'",
                "--config option nf expected an integer, found 'many'",
                "--batch expected >= 1, found 0",
                "--steps expected 4 (the timesteps option of preset cifar10: its generator is trained for those steps), found 3",
                "--steps expected 2 (the timesteps option of preset celeba_256: its generator is trained for those steps), found 4",
                "--kernel does not apply with --model, which times the model's sampling run; expected one of them, found both"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "bench";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            CliTest.Result r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.out() + r.err());
            assertEquals("prism: " + expected[i], r.err().strip(), String.join(" ", args));
        }
        CliTest.Result r = run("bench", "--model", "wavediff", "--batch", "2147483647");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("prism: --batch expected a value for which every array holds at most"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
