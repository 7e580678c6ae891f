package dev.prism.cli;

import dev.prism.nn.io.WeightFile;
import dev.prism.nn.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import javax.imageio.ImageIO;

import static dev.prism.cli.TrainCommandTest.images;
import static dev.prism.cli.TrainCommandTest.tensorBytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** prism train --model deepprism-vae: the autoencoder's own objective, its log, grids and resume. */
class TrainVaeTest {
    static final String CONFIG = "in=1,width=8,z=2,groups=4";

    static List<String> fresh(Path data, Path out, int steps, int checkpointEvery, int sampleEvery) {
        return new ArrayList<>(List.of("train", "--model", "deepprism-vae", "--config", CONFIG, "--data", data.toString(), "--size", "8",
                "--steps", String.valueOf(steps), "--batch", "3", "--lr", "1e-3", "--lr-decay", "constant", "--warmup", "2",
                "--ema", "0.9", "--kl-weight", "0.01", "--seed", "5", "--checkpoint-every", String.valueOf(checkpointEvery),
                "--sample-every", String.valueOf(sampleEvery), "--sample-count", "3", "--threads", "2", "--out", out.toString()));
    }

    /** log.csv without its wall-clock column (the fifth). */
    static List<String> rows(Path run) throws IOException {
        return Files.readAllLines(run.resolve("log.csv")).stream().map(l -> {
            String[] f = l.split(",");
            return String.join(",", f[0], f[1], f[2], f[3], f[5], f[6]);
        }).collect(Collectors.toList());
    }

    @Test
    void aRunLogsBothTermsWritesReconstructionGridsAndItsLossIsTheirWeightedSum(@TempDir Path dir) throws Exception {
        Path data = images(dir, 7);
        Path out = dir.resolve("run");
        CliTest.Result r = CliTest.run(fresh(data, out, 4, 2, 2).toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("training deepprism-vae ("), r.out());
        assertTrue(r.err().contains("samples/step-4.png"), r.err());
        List<String> log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals("step,loss,lr,grad_norm,seconds,reconstruction,kl", log.get(0));
        assertEquals(5, log.size(), log.toString());
        for (String row : log.subList(1, log.size())) {
            String[] f = row.split(",");
            double loss = Double.parseDouble(f[1]), rec = Double.parseDouble(f[5]), kl = Double.parseDouble(f[6]);
            assertTrue(rec > 0 && kl > 0, row);
            assertEquals(0.5 * rec + 0.01 * kl, loss, 1e-6 * loss, "loss = ½·reconstruction + kl_weight·kl: " + row);
        }
        // the grid: 3 images and, below them, their 3 reconstructions, 8x8 each with margins
        for (String step : List.of("0000002", "0000004")) {
            BufferedImage grid = ImageIO.read(out.resolve("samples/step-" + step + ".png").toFile());
            assertTrue(grid.getWidth() > 3 * 8 && grid.getWidth() < 4 * 8 + 8, "3 columns: " + grid.getWidth());
            assertTrue(grid.getHeight() > 2 * 8 && grid.getHeight() < 3 * 8, "2 rows: " + grid.getHeight());
        }
        try (WeightFile wf = WeightFile.open(out.resolve("ema.safetensors"))) {
            assertEquals("deepprism-vae", wf.metadata().get("model"));
            assertEquals("4", wf.metadata().get("trained_steps"));
        }
        assertEquals("0.01", Checkpoint.header(out.resolve("checkpoint.safetensors")).state().get("kl_weight"));
    }

    @Test
    void aRunStoppedAndResumedEqualsOneThatRanThrough(@TempDir Path dir) throws Exception {
        Path data = images(dir, 8);
        Path through = dir.resolve("through");
        Path resumed = dir.resolve("resumed");
        assertEquals(0, CliTest.run(fresh(data, through, 6, 3, 0).toArray(String[]::new)).code());
        assertEquals(0, CliTest.run(fresh(data, resumed, 3, 3, 0).toArray(String[]::new)).code());
        CliTest.Result r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "6", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("steps 4..6"), r.out());
        assertEquals(rows(through), rows(resumed));
        assertArrayEquals(tensorBytes(through.resolve("ema.safetensors")), tensorBytes(resumed.resolve("ema.safetensors")));
        assertArrayEquals(tensorBytes(through.resolve("checkpoint.safetensors")), tensorBytes(resumed.resolve("checkpoint.safetensors")));
    }

    /** The autoencoder's run too: SIGKILL at random moments (mid-checkpoint included), resume, and the same run. */
    @Test
    void killedAtRandomMomentsAndResumedItEqualsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        TrainCommandTest.killAndResume(dir, (data, out, steps) -> fresh(data, out, steps, 1, 0), TrainVaeTest::rows);
    }

    @Test
    void optionsOfOtherObjectivesAreRefusedNamingThem(@TempDir Path dir) throws Exception {
        Path data = images(dir, 9);
        List<String> a = fresh(data, dir.resolve("a"), 2, 2, 0);
        a.addAll(List.of("--schedule", "cosine"));
        CliTest.Result r = CliTest.run(a.toArray(String[]::new));
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("prism: --schedule applies to denoising models, not to --model deepprism-vae", r.err().strip());
        List<String> b = TrainCommandTest.fresh(data, dir.resolve("b"), 2, "constant", 2, 0);
        b.addAll(List.of("--kl-weight", "0.1"));
        r = CliTest.run(b.toArray(String[]::new));
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("prism: --kl-weight applies to --model deepprism-vae, not to --model unet", r.err().strip());
        List<String> c = fresh(data, dir.resolve("c"), 2, 2, 0);
        c.set(c.indexOf("0.01"), "-1");
        r = CliTest.run(c.toArray(String[]::new));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("klWeight expected a finite number >= 0, found -1.0"), r.err());
    }
}
