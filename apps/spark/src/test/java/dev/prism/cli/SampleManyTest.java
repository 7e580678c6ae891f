package dev.prism.cli;

import dev.prism.spark.Manifest;
import dev.prism.spark.SparkCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code prism sample-many} on an embedded {@code local[2]} master with the bundled model at 3 DDIM steps: the files,
 * the manifest, re-runs, a task that Spark recomputes, a run killed half-way, and bad input.
 */
class SampleManyTest {
    /** The settings every run here shares but --out: 3 steps of the bundled model, 2 task slots. */
    static final List<String> BASE = List.of("sample-many", "--master", "local[2]", "--steps", "3", "--threads", "1");

    @TempDir
    static Path tmp;

    /** A reference run of seeds 10..15 in 3 partitions of batches of 2. */
    static Path reference;

    record Result(int code, String out, String err) {
    }

    static Result run(List<String> base, String... extra) {
        List<String> args = new ArrayList<>(base);
        args.addAll(List.of(extra));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = SparkCli.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void referenceRun() {
        reference = tmp.resolve("reference");
        int before = SampleManyCommand.Executor.loads();
        Result r = run(BASE, "--seeds", "10..15", "--partitions", "3", "--batch", "2", "--out", reference.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("6 seeds 10..15 in 3 partitions on local[2]"), r.out());
        assertTrue(r.out().contains("wrote 6 images to " + reference + ", kept 0"), r.out());
        // Both task slots are in this JVM (local mode): one executor, so one load for three partitions.
        assertEquals(1, SampleManyCommand.Executor.loads() - before);
    }

    /** The manifest's lines without the two columns that vary from run to run (seconds, time written). */
    static List<String> stable(Path dir) throws IOException {
        return Manifest.readFile(dir.resolve(Manifest.FILE)).stream()
                .map(r -> String.join("\t", String.valueOf(r.seed()), r.file(), r.sha256(), r.backend(), r.settings())).toList();
    }

    static int[] pixels(Path png) throws IOException {
        Raster r = ImageIO.read(png.toFile()).getRaster();
        return r.getPixels(0, 0, r.getWidth(), r.getHeight(), (int[]) null);
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void eachSeedGetsTheImageOfPrismSampleWithThatSeedAndTheManifestRecordsIt() throws IOException {
        assertEquals(List.of("manifest.tsv", "seed-10.png", "seed-11.png", "seed-12.png", "seed-13.png", "seed-14.png", "seed-15.png"),
                names(reference), "no temporary file nor executor record is left");
        List<Manifest.Record> records = Manifest.readFile(reference.resolve(Manifest.FILE));
        assertEquals(6, records.size());
        for (Manifest.Record rec : records) {
            assertEquals("seed-" + rec.seed() + ".png", rec.file());
            assertEquals(Manifest.sha256(reference.resolve(rec.file())), rec.sha256());
            assertTrue(rec.backend().startsWith("jvm ") && rec.backend().contains("-bit vectors"), rec.backend());
            assertEquals(String.valueOf(rec.seed()), dev.prism.io.PngImages.readText(reference.resolve(rec.file())).get("seed"));
        }
        // Seed 13 is image 1 of partition 1's first batch here; prism sample draws it alone.
        Path one = Files.createDirectories(tmp.resolve("one"));
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new String[] {"sample", "--steps", "3", "--threads", "1", "--seed", "13", "--batch", "1", "--out",
                one.resolve("grid.png").toString(), "--per-image-dir", one.toString()}, new PrintWriter(out), new PrintWriter(err));
        assertEquals(0, code, err.toString());
        assertArrayEquals(pixels(one.resolve("sample-000.png")), pixels(reference.resolve("seed-13.png")));
    }

    @Test
    void theFilesDoNotDependOnPartitionsNorBatches() throws IOException {
        Path dir = tmp.resolve("one-partition");
        Result r = run(BASE, "--seeds", "10..", "--count", "6", "--partitions", "1", "--batch", "4", "--out", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(stable(reference), stable(dir));
    }

    @Test
    void aReRunKeepsMatchingFilesAndRedoesMissingOrDamagedOnes() throws IOException {
        Path dir = tmp.resolve("rerun");
        assertEquals(0, run(BASE, "--seeds", "10..15", "--out", dir.toString()).code());
        Files.delete(dir.resolve("seed-11.png"));
        Files.write(dir.resolve("seed-14.png"), new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
        Result r = run(BASE, "--seeds", "10..15", "--out", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("wrote 2 images to " + dir + ", kept 4 whose files and checksums matched"), r.out());
        assertEquals(stable(reference), stable(dir));

        // Other settings (more steps) reuse nothing.
        r = run(BASE, "--seeds", "10..15", "--steps", "4", "--out", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("wrote 6 images to " + dir + ", kept 0"), r.out());
    }

    @Test
    void aTaskThatFailsHalfWayIsRecomputedBySparkIntoTheSameFiles() throws IOException {
        Path dir = tmp.resolve("retried");
        // local[2,2]: two task slots, a task may fail twice; the first attempt of every task fails after one image.
        int injected = SampleManyCommand.Executor.INJECTED.get();
        Result r = run(List.of("sample-many", "--master", "local[2,2]", "--steps", "3", "--threads", "1"), "--seeds", "10..15",
                "--partitions", "3", "--batch", "2", "--conf", SampleManyCommand.FAIL_FIRST_ATTEMPT_AFTER + "=1", "--out", dir.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(3, SampleManyCommand.Executor.INJECTED.get() - injected, "each of the 3 tasks failed once");
        assertEquals(stable(reference), stable(dir));
        assertEquals(names(reference), names(dir));
    }

    @Test
    void aRunKilledHalfWayIsFinishedByRunningItAgainWithTheManifestOfAnUninterruptedRun() throws Exception {
        Path whole = tmp.resolve("whole"), killed = tmp.resolve("killed");
        List<String> args = List.of("--seeds", "0..11", "--partitions", "2", "--batch", "1", "--steps", "12");
        List<String> base = new ArrayList<>(List.of("sample-many", "--master", "local[2]", "--threads", "1"));
        base.addAll(args);
        assertEquals(0, run(base, "--out", whole.toString()).code());

        // The same run in a JVM of its own, killed (SIGKILL: no shutdown hook runs) once a few images are written.
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> !a.startsWith("-agentlib")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SparkCli.class.getName()));
        cmd.addAll(base);
        cmd.addAll(List.of("--out", killed.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("killed.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (pngs(killed) < 4 && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(p.isAlive(), "the run ended before it could be killed: " + Files.readString(tmp.resolve("killed.log")));
        p.destroyForcibly().waitFor();
        int left = pngs(killed);
        assertTrue(left >= 4 && left < 12, left + " images were written before the kill");
        assertFalse(Files.exists(killed.resolve(Manifest.FILE)), "the manifest is written at the end");
        // Every image under its final name is complete: the same bytes as the uninterrupted run's.
        try (Stream<Path> s = Files.list(killed)) {
            for (Path f : s.filter(f -> f.getFileName().toString().startsWith("seed-")).toList()) {
                assertArrayEquals(Files.readAllBytes(whole.resolve(f.getFileName())), Files.readAllBytes(f), f.toString());
            }
        }

        Result r = run(base, "--out", killed.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(stable(whole), stable(killed));
        assertEquals(names(whole), names(killed), "the re-run removes the executors' records and the killed run's temporary files stay hidden");
    }

    private static int pngs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return (int) s.filter(f -> f.getFileName().toString().matches("seed-\\d+\\.png")).count();
        }
    }

    @Test
    void badInputEndsWithOneLineNamingItAndExitCode2() throws IOException {
        Result r = run(BASE, "--seeds", "10..3", "--out", tmp.resolve("reversed").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("prism: --seeds expected FROM..TO with FROM <= TO, found '10..3' (10 > 3)", r.err().strip());

        r = run(BASE, "--seeds", "5..", "--out", tmp.resolve("nocount").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --count is needed with --seeds '5..' (or give FROM..TO)", r.err().strip());

        r = run(BASE, "--seeds", "0..3", "--out", "/proc/prism-sample-many");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --out /proc/prism-sample-many cannot be created"), r.err());

        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        r = run(BASE, "--seeds", "0..3", "--out", file.toString());
        assertEquals(2, r.code());
        assertEquals("prism: --out " + file + " is not a directory", r.err().strip());

        r = run(BASE, "--seeds", "0..3", "--out", "hdfs://namenode/samples");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --out expected a directory path or a file: URI"), r.err());

        // An image an executor cannot write: the error names the partition, its seeds and the seed.
        Path blocked = Files.createDirectories(tmp.resolve("blocked"));
        Files.createDirectories(blocked.resolve("seed-6.png"));
        r = run(BASE, "--seeds", "0..7", "--partitions", "2", "--out", blocked.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("prism: Spark job failed: partition 1 (seeds 4..7) failed at seed 6 on executor driver"), r.err());
        assertTrue(r.err().contains("seed-6.png"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        // Weights that are not where the executors are told to read them.
        r = run(BASE, "--seeds", "0..3", "--partitions", "2", "--executor-weights", "/nonexistent/fmnist.safetensors", "--out",
                tmp.resolve("noweights").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("prism: Spark job failed: partition "), r.err());
        assertTrue(r.err().contains(" (seeds 0..1) failed at seed 0 on executor driver") || r.err().contains(" (seeds 2..3) failed at seed 2 on executor driver"),
                r.err());
        assertTrue(r.err().strip().endsWith("--executor-weights /nonexistent/fmnist.safetensors: no such file on this executor"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = run(BASE, "--seeds", "0..3", "--executor-weights", "relative.safetensors", "--out", tmp.resolve("relative").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --executor-weights expected an absolute path"), r.err());
    }
}
