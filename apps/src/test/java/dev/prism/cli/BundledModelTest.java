package dev.prism.cli;

import dev.prism.io.PngImages;
import dev.prism.nn.io.WeightFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bundled Fashion-MNIST model: what it is, and that prism sample uses it when no --weights is given. */
class BundledModelTest {
    @Test
    void theBundledModelIsTheEmaWeightsOfAPrismTrainingRun(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("bundled.safetensors");
        try (InputStream in = BundledModelTest.class.getResourceAsStream(DenoiserOptions.BUNDLED_MODEL)) {
            assertNotNull(in, DenoiserOptions.BUNDLED_MODEL);
            Files.copy(in, copy);
        }
        try (WeightFile wf = WeightFile.open(copy)) {
            Map<String, String> meta = wf.metadata();
            assertEquals("ddpm-unet", meta.get("model"), meta.toString());
            assertEquals("32", meta.get("image_size"), meta.toString());
            assertTrue(Long.parseLong(meta.get("trained_steps")) > 0, meta.toString());
        }
        // a few MB at most
        assertTrue(Files.size(copy) < 4L << 20, "size " + Files.size(copy));
    }

    @Test
    void sampleWithoutWeightsUsesTheBundledModel(@TempDir Path dir) throws Exception {
        Path grid = dir.resolve("grid.png");
        CliTest.Result r = CliTest.run("sample", "--out", grid.toString(), "--batch", "2", "--steps", "4", "--seed", "3");
        assertEquals(0, r.code(), r.out() + r.err());
        Map<String, String> text = PngImages.readText(grid);
        assertEquals("ddpm-unet", text.get("model"));
        assertEquals("bundled:fmnist-ddpm.safetensors", text.get("weights"));
        assertTrue(r.out().contains("sampling 2 images of 1x32x32"), r.out());
    }

    @Test
    void theBundledWaveDiffIsTheEmaGeneratorOfAPrismTrainingRun(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("wavediff.safetensors");
        try (InputStream in = BundledModelTest.class.getResourceAsStream(DenoiserOptions.BUNDLED_WAVEDIFF)) {
            assertNotNull(in, DenoiserOptions.BUNDLED_WAVEDIFF);
            Files.copy(in, copy);
        }
        try (WeightFile wf = WeightFile.open(copy)) {
            Map<String, String> meta = wf.metadata();
            assertEquals("wavediff", meta.get("model"), meta.toString());
            assertTrue(meta.get("options").contains("\"preset\":\"fmnist\""), meta.toString());
            assertTrue(Long.parseLong(meta.get("trained_steps")) > 0, meta.toString());
            assertTrue(wf.entries().stream().noneMatch(e -> e.name().startsWith("netD.")), "the generator only");
        }
        assertTrue(Files.size(copy) < 8L << 20, "size " + Files.size(copy));
    }

    @Test
    void sampleWaveDiffWithoutWeightsUsesTheBundledWaveDiffAndOtherPresetsNeedWeights(@TempDir Path dir) throws Exception {
        Path grid = dir.resolve("grid.png");
        CliTest.Result r = CliTest.run("sample", "--model", "wavediff", "--out", grid.toString(), "--batch", "2", "--seed", "3");
        assertEquals(0, r.code(), r.out() + r.err());
        Map<String, String> text = PngImages.readText(grid);
        assertEquals("bundled:fmnist-wavediff.safetensors", text.get("weights"));
        assertTrue(r.out().contains("sampling 2 images of 1x32x32 (Haar coefficients 4x16x16)"), r.out());
        CliTest.Result other = CliTest.run("sample", "--model", "wavediff", "--config", "cifar10", "--out", dir.resolve("c.png").toString());
        assertEquals(2, other.code(), other.out() + other.err());
        assertTrue(other.err().contains("--weights is needed for wavediff preset cifar10"), other.err());
    }
}
