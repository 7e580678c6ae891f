package dev.prism.cli;

import dev.prism.kernels.VectorWidth;
import dev.prism.nn.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism train} end to end on a tiny UNet and a folder of 8×8 images. */
class TrainCommandTest {
    /** A tiny denoiser: two levels of width 8, attention at the second. */
    private static final String CONFIG = "width=8,levels=2,attn=2,groups=4";

    /** Eight random grey 8×8 PNGs (the same for every call with the same seed). */
    static Path images(Path dir, long seed) throws IOException {
        Path d = Files.createDirectories(dir.resolve("images"));
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 8; i++) {
            BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int v = r.nextInt(256);
                    img.getRaster().setSample(x, y, 0, v);
                }
            }
            ImageIO.write(img, "png", d.resolve("img-" + i + ".png").toFile());
        }
        return d;
    }

    /** The arguments of a new run in {@code out} of {@code steps} steps. */
    static List<String> fresh(Path data, Path out, int steps, String decay, int checkpointEvery, int sampleEvery) {
        return new ArrayList<>(List.of("train", "--model", "unet", "--config", CONFIG, "--data", data.toString(), "--size", "8",
                "--steps", String.valueOf(steps), "--batch", "3", "--lr", "1e-3", "--lr-decay", decay, "--warmup", "2",
                "--ema", "0.9", "--timesteps", "50", "--seed", "5", "--checkpoint-every", String.valueOf(checkpointEvery),
                "--sample-every", String.valueOf(sampleEvery), "--sample-count", "2", "--sample-steps", "2", "--threads", "2",
                "--out", out.toString()));
    }

    static CliTest.Result run(List<String> args) {
        return CliTest.run(args.toArray(String[]::new));
    }

    /** log.csv without its wall-clock column: step, loss, learning rate, gradient norm. */
    static List<String> losses(Path run) throws IOException {
        return Files.readAllLines(run.resolve("log.csv")).stream()
                .map(l -> l.substring(0, l.lastIndexOf(','))).collect(Collectors.toList());
    }

    @Test
    void aRunWritesCheckpointEmaWeightsLogAndSampleGrids(@TempDir Path dir) throws Exception {
        Path data = images(dir, 1);
        Path out = dir.resolve("run");
        CliTest.Result r = run(fresh(data, out, 4, "cosine", 2, 2));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("training unet ("), r.out());
        assertTrue(r.err().contains("step 4/4"), r.err());
        assertTrue(r.err().contains("checkpoint at step 4"), r.err());
        for (String f : new String[] {"checkpoint.safetensors", "checkpoint.json", "ema.safetensors", "samples/step-0000002.png",
                "samples/step-0000004.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " in " + out);
        }
        List<String> log = losses(out);
        assertEquals("step,loss,lr,grad_norm", log.get(0));
        assertEquals(5, log.size(), log.toString());
        assertEquals("4", Checkpoint.header(out.resolve("checkpoint.safetensors")).state().get("step"));
        // the EMA weights sample as they are: prism sample reads the model from their metadata
        CliTest.Result s = CliTest.run("sample", "--weights", out.resolve("ema.safetensors").toString(), "--size", "8", "--batch", "2",
                "--steps", "2", "--timesteps", "50", "--out", dir.resolve("grid.png").toString());
        assertEquals(0, s.code(), s.out() + s.err());
    }

    @Test
    void aRunStoppedAndResumedEqualsOneThatRanThrough(@TempDir Path dir) throws Exception {
        Path data = images(dir, 2);
        Path through = dir.resolve("through");
        Path resumed = dir.resolve("resumed");
        assertEquals(0, run(fresh(data, through, 6, "constant", 3, 0)).code());
        // three steps, then --resume with a later --steps: with a constant rate the schedule does not depend on the total
        assertEquals(0, run(fresh(data, resumed, 3, "constant", 3, 0)).code());
        CliTest.Result r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "6", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("steps 4..6"), r.out());
        assertEquals(losses(through), losses(resumed));
        assertArrayEquals(tensorBytes(through.resolve("ema.safetensors")), tensorBytes(resumed.resolve("ema.safetensors")));
        assertArrayEquals(tensorBytes(through.resolve("checkpoint.safetensors")), tensorBytes(resumed.resolve("checkpoint.safetensors")));
    }

    @Test
    void badInputIsRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path data = images(dir, 3);
        List<String> a = fresh(data, dir.resolve("r1"), 4, "constant", 2, 3);
        CliTest.Result r = run(a);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--sample-every expected a multiple of --checkpoint-every (2"), r.err());
        r = run(fresh(dir.resolve("nothing-here"), dir.resolve("r2"), 4, "constant", 2, 2));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--data expected fashion-mnist or a directory of images, found '" + dir.resolve("nothing-here")
                + "' (no such directory)"), r.err());
        Path done = dir.resolve("done");
        assertEquals(0, run(fresh(data, done, 2, "constant", 2, 0)).code());
        r = CliTest.run("train", "--resume", done.toString(), "--lr", "0.5");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--lr: a resumed run keeps the settings in its checkpoint"), r.err());
        r = CliTest.run("train", "--resume", done.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("the run is complete at step 2; give --steps N with N > 2 to train further"), r.err());
        r = CliTest.run("train", "--resume", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--resume " + dir + ": no checkpoint.safetensors in it"), r.err());
    }

    /**
     * SIGKILL at random moments, then {@code --resume}, until the run completes: the result is the
     * uninterrupted run's, weight for weight and loss for loss. The kills land anywhere: during start-up,
     * during a step, and while a checkpoint is written (one every step).
     */
    @Test
    void killedAtRandomMomentsAndResumedItEqualsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        killAndResume(dir, (data, out, steps) -> fresh(data, out, steps, "cosine", 1, 0), TrainCommandTest::losses);
    }

    /** The arguments of a new run of {@code steps} steps on {@code data} into {@code out}, checkpointing every step. */
    interface FreshRun {
        List<String> args(Path data, Path out, int steps);
    }

    /** A run's log rows without their wall-clock column. */
    interface LogRows {
        List<String> of(Path run) throws IOException;
    }

    /**
     * The SIGKILL test of one objective: a run killed at random moments and resumed until it completes
     * equals the run that went through, loss for loss ({@code rows}) and weight for weight.
     */
    static void killAndResume(Path dir, FreshRun fresh, LogRows rows) throws Exception {
        Path data = images(dir, 4);
        int steps = 60;
        Path through = dir.resolve("through");
        assertEquals(0, run(fresh.args(data, through, steps)).code());

        Path killed = dir.resolve("killed");
        SplittableRandom random = new SplittableRandom(11);
        int kills = 0;
        for (int attempt = 0; attempt < 12; attempt++) {
            boolean haveCheckpoint = Files.isRegularFile(killed.resolve("checkpoint.safetensors"));
            if (haveCheckpoint && String.valueOf(steps).equals(
                    Checkpoint.header(killed.resolve("checkpoint.safetensors")).state().get("step"))) {
                // a kill that landed after the last checkpoint: the run is complete
                break;
            }
            if (!haveCheckpoint && Files.exists(killed)) {
                // killed before its first checkpoint: nothing to resume, the run starts again
                deleteTree(killed);
            }
            List<String> args = haveCheckpoint ? List.of("train", "--resume", killed.toString()) : fresh.args(data, killed, steps);
            Process p = child(args, dir.resolve("child-" + attempt + ".log"));
            boolean last = kills >= 4;
            if (!last) {
                // most kills land in the JVM's start or in the first steps; some mid-checkpoint (one every step)
                long delay = 200 + random.nextLong(1500);
                if (!p.waitFor(delay, TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly(); // SIGKILL on Linux and macOS
                    p.waitFor(30, TimeUnit.SECONDS);
                    kills++;
                    if (Files.isRegularFile(killed.resolve("checkpoint.safetensors"))) {
                        // whatever moment the kill hit, the checkpoint on disk is complete and readable
                        Checkpoint.header(killed.resolve("checkpoint.safetensors"));
                    }
                    continue;
                }
            } else {
                assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the last resume did not finish");
            }
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child-" + attempt + ".log")));
            break;
        }
        assertTrue(kills >= 1, "no kill landed before the run finished");
        assertEquals(String.valueOf(steps), Checkpoint.header(killed.resolve("checkpoint.safetensors")).state().get("step"));
        assertEquals(rows.of(through), rows.of(killed));
        assertArrayEquals(tensorBytes(through.resolve("checkpoint.safetensors")), tensorBytes(killed.resolve("checkpoint.safetensors")));
        assertArrayEquals(tensorBytes(through.resolve("ema.safetensors")), tensorBytes(killed.resolve("ema.safetensors")));
        try (Stream<Path> left = Files.list(killed)) {
            List<String> names = left.map(f -> f.getFileName().toString()).sorted().toList();
            assertTrue(names.stream().noneMatch(n -> n.contains(".tmp") || n.startsWith(".")), "temporary files left behind: " + names);
        }
    }

    /** {@code prism train} in its own JVM, as a user runs it, output to {@code log}. */
    private static Process child(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector"));
        // the same vector width as this JVM's run, which the comparison is with (the width changes the bits)
        String bits = System.getProperty(VectorWidth.PROPERTY);
        if (bits != null) {
            cmd.add("-D" + VectorWidth.PROPERTY + "=" + bits);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** A safetensors file's tensor data: the bytes after its header (the header's metadata may differ by run). */
    static byte[] tensorBytes(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = 0;
        for (int i = 7; i >= 0; i--) {
            n = (n << 8) | (all[i] & 0xff);
        }
        return Arrays.copyOfRange(all, 8 + (int) n, all.length);
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.delete(f);
            }
        }
    }
}
