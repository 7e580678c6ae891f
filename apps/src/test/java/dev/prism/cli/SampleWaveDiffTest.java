package dev.prism.cli;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.WaveDiffDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.io.PngImages;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.WaveDiffGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code prism sample} with WaveDiff's generator, on the official code's tiny reference weights (the
 * diffusion module's test resources, tools/refgen/wavediff.py): the images are the library's, from the
 * safetensors and from the official-style .pth alike, and bad sampling options end with one line.
 */
class SampleWaveDiffTest {
    /** The tiny case's options: the .pth, as an official checkpoint, carries none. */
    static final String TINY = "in=12,size=16,nf=4,mults=1,2,2,res=2,attn=32,nz=8,zdim=16,mlp=2,timesteps=4";

    @TempDir
    static Path copies;

    /** The diffusion module's test resource as a file (in a full build it sits inside that module's test jar). */
    static Path resource(String name) throws Exception {
        Path file = copies.resolve(name);
        if (!Files.exists(file)) {
            try (var in = SampleWaveDiffTest.class.getResourceAsStream("/wavediff/" + name)) {
                Files.copy(in, file);
            }
        }
        return file;
    }

    static CliTest.Result sample(String... extra) {
        String[] base = {"sample", "--batch", "2", "--seed", "5", "--threads", "2"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return BenchCommandTest.run(args);
    }

    /** What the library samples for seed 5 from the tiny weights, as the PNG bytes of each image. */
    static int[][] libraryImages() throws Exception {
        return libraryImages("tiny.safetensors", TINY, 4, false);
    }

    static int[][] libraryImages(String weights, String options, int steps, boolean vh) throws Exception {
        WaveDiffGenerator g = Models.build("wavediff", Models.parseOptions(List.of(options.split(","))), 0).wavediff();
        ModelWeights.load(g, resource(weights), null);
        float[] wavelet;
        try (JvmBackend b = JvmBackend.parallel(2); SamplingLoop loop = new SamplingLoop(b, new WaveDiffDenoiser(g), 2)) {
            wavelet = loop.sample(WaveDiffSampling.sampler(steps), 5, step -> { });
        }
        float[] image = WaveDiffSampling.toImage(wavelet, 2, 3, 16, vh);
        int per = 3 * 32 * 32;
        int[][] out = new int[2][per];
        for (int i = 0; i < 2 * per; i++) {
            out[i / per][i % per] = PngImages.toByte(image[i]);
        }
        return out;
    }

    static void assertImages(int[][] expected, Path dir) throws Exception {
        for (int n = 0; n < expected.length; n++) {
            Path file;
            try (var files = Files.list(dir)) {
                file = files.sorted().toList().get(n);
            }
            BufferedImage img = ImageIO.read(file.toFile());
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int rgb = img.getRGB(x, y);
                    int[] c = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
                    for (int ch = 0; ch < 3; ch++) {
                        assertEquals(expected[n][(ch * 32 + y) * 32 + x], c[ch], file + " pixel (" + x + ", " + y + ") channel " + ch);
                    }
                }
            }
        }
    }

    @Test
    void samplingWritesTheLibrarysImagesFromSafetensorsAndFromTheOfficialPth(@TempDir Path dir) throws Exception {
        int[][] expected = libraryImages();
        Path each = Files.createDirectory(dir.resolve("each"));
        Path grid = dir.resolve("grid.png");
        CliTest.Result r = sample("--weights", resource("tiny.safetensors").toString(), "--out", grid.toString(),
                "--per-image-dir", each.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("sampling 2 images of 3x32x32 (Haar coefficients 12x16x16)"), r.out());
        assertTrue(r.err().contains("step 4/4  t=0"), r.err());
        Map<String, String> text = PngImages.readText(grid);
        assertEquals("wavediff", text.get("model"));
        assertEquals("4", text.get("steps"));
        assertTrue(text.get("schedule").startsWith("vp(T=4"), text.toString());
        assertImages(expected, each);

        Path each2 = Files.createDirectory(dir.resolve("each2"));
        CliTest.Result pth = sample("--model", "wavediff", "--config", TINY, "--weights", resource("tiny.pth").toString(),
                "--strip-prefix", "module.", "--steps", "4", "--sampler", "ddgan", "--out", dir.resolve("grid2.png").toString(),
                "--per-image-dir", each2.toString());
        assertEquals(0, pth.code(), pth.out() + pth.err());
        assertImages(expected, each2);
    }

    @Test
    void theWaveletGeneratorsImagesInvertTheOfficialBandOrder(@TempDir Path dir) throws Exception {
        int[][] expected = libraryImages("tiny-wavelet.safetensors",
                "in=12,size=16,nf=4,mults=1,2,2,res=2,attn=8,nz=8,zdim=16,mlp=2,timesteps=2,net=wavelet,bands=vh", 2, true);
        Path each = Files.createDirectory(dir.resolve("each"));
        CliTest.Result r = sample("--weights", resource("tiny-wavelet.safetensors").toString(), "--out", dir.resolve("g.png").toString(),
                "--per-image-dir", each.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("step 2/2  t=0"), r.err());
        assertImages(expected, each);
    }

    @Test
    void badSamplingOptionsEndWithOneLineNamingTheOption(@TempDir Path dir) throws Exception {
        String w = resource("tiny.safetensors").toString(), o = dir.resolve("g.png").toString();
        check(sample("--weights", w, "--out", o, "--steps", "3"),
                "prism: --steps for wavediff expected 4 (the model's timesteps option: its generator is trained for those steps), found 3");
        check(sample("--weights", w, "--out", o, "--sampler", "ddim"),
                "prism: --sampler for wavediff expected ddgan (its generator is trained for DDGAN's posterior sampling), found 'ddim'");
        check(sample("--weights", w, "--out", o, "--size", "16"), "prism: --size for wavediff expected 32 (twice the model's size option), found '16'");
        check(sample("--weights", w, "--out", o, "--config", "preset=celeba_2048"), "prism: option preset expected one of cifar10, stl10, "
                + "celeba_256, celeba_512, celeba_1024, lsun, fmnist (the official configurations, and Prism's Fashion-MNIST model), "
                + "found 'celeba_2048'");
        CliTest.Result huge = sample("--weights", w, "--out", o, "--batch", "100000000");
        check(huge, null);
        assertTrue(huge.err().startsWith("prism: --batch expected "), huge.err());
        String pth = resource("tiny.pth").toString();
        CliTest.Result r = sample("--model", "wavediff", "--config", TINY, "--weights", pth, "--out", o);
        check(r, null);
        assertTrue(r.err().startsWith("prism: " + pth + ": "), r.err());
        assertTrue(r.err().contains("module.all_modules.0.weight"), r.err());
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no partial output may be left behind");
        }
    }

    private static void check(CliTest.Result r, String expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        if (expected != null) {
            assertEquals(expected, r.err().strip());
        }
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
