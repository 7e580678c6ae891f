package dev.prism.cli;

import dev.prism.nn.io.WeightFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** prism train --model classifier on a small Fashion-MNIST-format folder. */
class TrainClassifierTest {
    static CliTest.Result train(Path data, Path run, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", "classifier", "--data", data.toString(), "--out", run.toString(),
                "--size", "8", "--batch", "4", "--config", "width=4,stages=2,convs=1,hidden=6,groups=2", "--threads", "2"));
        args.addAll(List.of(extra));
        return BenchCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void trainingWritesCheckpointsAndEmaWeightsWithTheTestAccuracy(@TempDir Path dir) throws Exception {
        Path data = FashionMnistFolder.write(Files.createDirectory(dir.resolve("data")), 40, 20);
        Path run = dir.resolve("run");
        CliTest.Result r = train(data, run, "--steps", "4", "--checkpoint-every", "2", "--sample-every", "2", "--lr", "1e-2");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("training classifier ("), r.out());
        assertTrue(r.out().contains("test accuracy of the EMA weights: "), r.out());
        assertTrue(r.err().contains("test accuracy of the EMA weights at step 2: "), r.err());
        try (WeightFile wf = WeightFile.open(run.resolve("ema.safetensors"))) {
            Map<String, String> meta = wf.metadata();
            assertEquals("classifier", meta.get("model"));
            assertEquals("4", meta.get("trained_steps"));
            assertEquals("8", meta.get("image_size"));
            double acc = Double.parseDouble(meta.get("test_accuracy"));
            assertTrue(acc >= 0 && acc <= 1, meta.toString());
            assertTrue(meta.get("options").contains("\"convs\":\"1\""), meta.toString());
        }
        assertEquals(5, Files.readAllLines(run.resolve("log.csv")).size(), "a header and one row per step");
        // The EMA weights are a classifier prism eval can use.
        assertEquals("classifier", EvalCommand.loadClassifier(run.resolve("ema.safetensors")).model().getClass().getSimpleName().toLowerCase());

        CliTest.Result more = BenchCommandTest.run("train", "--resume", run.toString(), "--steps", "6", "--threads", "2");
        assertEquals(0, more.code(), more.out() + more.err());
        assertTrue(more.out().contains("steps 5..6"), more.out());
        assertEquals(7, Files.readAllLines(run.resolve("log.csv")).size());
    }

    @Test
    void optionsAndDataOfDenoisingModelsAreRefused(@TempDir Path dir) throws Exception {
        Path data = FashionMnistFolder.write(Files.createDirectory(dir.resolve("data")), 10, 10);
        CliTest.Result r = train(data, dir.resolve("a"), "--steps", "2", "--schedule", "cosine");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("prism: --schedule applies to denoising models, not to --model classifier", r.err().strip());
        Path images = Files.createDirectory(dir.resolve("images"));
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(8, 8, java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png",
                images.resolve("a.png").toFile());
        r = train(images, dir.resolve("b"), "--steps", "2");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals("prism: --data " + images + ": the classifier needs labelled images (fashion-mnist or a folder of Fashion-MNIST IDX "
                + "files), found a folder of unlabelled images", r.err().strip());
    }
}
