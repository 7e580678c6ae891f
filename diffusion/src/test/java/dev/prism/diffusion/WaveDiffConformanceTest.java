package dev.prism.diffusion;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.io.WeightFileException;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.WaveDiffGenerator;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * WaveDiff against the official PyTorch code (tools/refgen/wavediff.py, which imports VinAIResearch/WaveDiff):
 * the generator's forward and the full T-step sample (posterior sampling, ×2, inverse Haar, clamp) from the
 * same weights, x_T, latents z and posterior noise, within 1e-4 relative (with a floor of 1e-4 of the largest
 * value). The committed case {@code tiny} has the CIFAR-10 configuration's structure at nf 4; the CIFAR-10
 * configuration itself (33,370,124 parameters) runs when {@code WAVEDIFF_CIFAR10} names the folder the
 * generator wrote it to (docs/WAVEDIFF.md).
 */
class WaveDiffConformanceTest {
    private static final double RTOL = 1e-4;
    private static final JvmBackend JVM = JvmBackend.parallel(2);

    @AfterAll
    static void close() {
        JVM.close();
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(WaveDiffConformanceTest.class.getResource("/wavediff/" + name).toURI());
    }

    static Npz vectors(Path npz) throws IOException {
        try (InputStream in = Files.newInputStream(npz)) {
            return Npz.read(npz.getFileName().toString(), in);
        }
    }

    /** The model named by the safetensors metadata, with its options, loaded from that file. */
    static WaveDiffGenerator load(Path safetensors) throws IOException {
        Models.Built built;
        try (WeightFile wf = WeightFile.open(safetensors)) {
            Map<String, String> meta = wf.metadata();
            assertEquals("wavediff", meta.get("model"));
            built = Models.build("wavediff", Models.fromJson(meta.get("options")), 0);
        }
        ModelWeights.load(built.module(), safetensors, null);
        return built.wavediff();
    }

    static void check(String what, float[] expected, float[] actual) {
        double worst = 0;
        for (int i = 0; i < expected.length && i < actual.length; i++) {
            worst = Math.max(worst, Math.abs((double) expected[i] - actual[i]));
        }
        // The measurement docs/WAVEDIFF.md quotes, printed with each comparison.
        System.out.printf("wavediff %s: max |prism - pytorch| %.2e, max |pytorch| %.3f%n", what, worst, maxAbs(expected));
        assertClose(what, expected, actual, RTOL, RTOL * maxAbs(expected));
    }

    /** The official .pth (DistributedDataParallel's module. prefix) loads strictly, to the safetensors' bits. */
    static void pthLoadsToTheSameBits(WaveDiffGenerator g, Path pth) throws IOException {
        Models.Built again = Models.build("wavediff", Map.of(), 0);
        WaveDiffGenerator other = new WaveDiffGenerator(g.config());
        ModelWeights.load(other, pth, "module.");
        List<Parameter> a = g.parameters(), b = other.parameters();
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertIdentical(a.get(i).name() + " (.pth vs .safetensors)", a.get(i).value().data(), b.get(i).value().data());
        }
        assertTrue(again.module().parameterCount() > 0);
    }

    static void forwardMatches(WaveDiffGenerator gen, Npz r) {
        int[] xs = r.shape("fx");
        Graph g = new Graph("wavediff");
        Tensor x = Tensor.of(r.f("fx"), xs), t = Tensor.of(r.f("ft"), xs[0]), z = Tensor.of(r.f("fz"), r.shape("fz"));
        Tensor out = gen.forward(g, x, t, z);
        try (Executable e = JVM.compile(g.addForwardTo(Plan.builder("wavediff")).inputs(x.data(), t.data(), z.data())
                .outputs(out.data()).build())) {
            e.execute();
        }
        check("forward", r.f("fout"), out.data());
    }

    /** Recorded draws: x_T, then per step the array of that step. */
    record Recorded(float[] initial, float[][] steps) implements Noise {
        static Recorded of(float[] initial, float[] all, int steps) {
            int per = all.length / steps;
            float[][] s = new float[steps][];
            for (int i = 0; i < steps; i++) {
                s[i] = Arrays.copyOfRange(all, i * per, (i + 1) * per);
            }
            return new Recorded(initial, s);
        }

        @Override
        public void initial(float[] out) {
            System.arraycopy(initial, 0, out, 0, out.length);
        }

        @Override
        public void step(int step, float[] out) {
            System.arraycopy(steps[step], 0, out, 0, out.length);
        }
    }

    static void sampleMatches(WaveDiffGenerator gen, Npz r, int timesteps) {
        sampleMatches(gen, r, timesteps, false);
    }

    static void sampleMatches(WaveDiffGenerator gen, Npz r, int timesteps, boolean vh) {
        int[] xs = r.shape("x_T");
        int batch = xs[0];
        Recorded noise = Recorded.of(r.f("x_T"), r.f("noise"), timesteps);
        Recorded latents = Recorded.of(null, r.f("z"), timesteps);
        float[] wavelet;
        try (SamplingLoop loop = new SamplingLoop(JVM, new WaveDiffDenoiser(gen), batch)) {
            wavelet = loop.sample(WaveDiffSampling.sampler(timesteps), noise, latents, step -> { });
        }
        check("sampled wavelet coefficients", r.f("wavelet"), wavelet);
        float[] image = WaveDiffSampling.toImage(wavelet, batch, xs[1] / 4, xs[2], vh);
        check("image", r.f("image"), image);
    }

    @Test
    void forwardMatchesTheOfficialGenerator() throws Exception {
        forwardMatches(load(resource("tiny.safetensors")), vectors(resource("tiny.npz")));
    }

    @Test
    void officialPthWithItsModulePrefixLoadsStrictlyToTheSameBits() throws Exception {
        pthLoadsToTheSameBits(load(resource("tiny.safetensors")), resource("tiny.pth"));
    }

    @Test
    void fourStepSampleMatchesTheOfficialSampler() throws Exception {
        WaveDiffGenerator gen = load(resource("tiny.safetensors"));
        sampleMatches(gen, vectors(resource("tiny.npz")), 4);
    }

    @Test
    void thePrefixIsNotStrippedUnlessAskedAndTheErrorNamesTheTensors() throws Exception {
        WaveDiffGenerator gen = load(resource("tiny.safetensors"));
        WaveDiffGenerator other = new WaveDiffGenerator(gen.config());
        WeightFileException e = assertThrows(WeightFileException.class, () -> ModelWeights.load(other, resource("tiny.pth"), null));
        assertTrue(e.getMessage().contains("module.all_modules.0.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("tiny.pth"), e.getMessage());
        assertTrue(e.getMessage().endsWith(". Every name starts with 'module.' (DistributedDataParallel's prefix) and the rest are "
                + "the model's: strip it (--strip-prefix module.)"), e.getMessage());
    }

    @Test
    void theCifar10PresetHasTheOfficialParameterCountAndTensors() {
        WaveDiffGenerator g = Models.build("wavediff", Models.parseOptions(List.of("cifar10")), 0).wavediff();
        assertEquals(33_370_124L, g.parameterCount());
        assertEquals(272, g.parameters().size());
        assertEquals(List.of(512, 128), Arrays.stream(g.expectedShapes().get("all_modules.0.weight")).boxed().toList());
        assertTrue(g.expectedShapes().containsKey("z_transform.9.weight"));
        assertTrue(g.expectedShapes().containsKey("all_modules.14.NIN_3.W"));
    }

    @Test
    void waveletGeneratorForwardMatchesTheOfficialWaveletNCSNpp() throws Exception {
        forwardMatches(load(resource("tiny-wavelet.safetensors")), vectors(resource("tiny-wavelet.npz")));
    }

    @Test
    void waveletGeneratorTwoStepSampleMatchesTheOfficialSamplerAndItsInverseTransform() throws Exception {
        WaveDiffGenerator gen = load(resource("tiny-wavelet.safetensors"));
        assertTrue(gen.config().wavelet());
        sampleMatches(gen, vectors(resource("tiny-wavelet.npz")), 2, true);
    }

    /** The official generator with patch_size 2 (the CelebA-HQ 1024 structure, small): its two rearranges' channel orders. */
    @Test
    void patchifiedGeneratorForwardAndTwoStepSampleMatchTheOfficialCode() throws Exception {
        WaveDiffGenerator gen = load(resource("tiny-patch.safetensors"));
        assertEquals(2, gen.config().patch());
        assertEquals(48, gen.expectedShapes().get("all_modules.2.weight")[1], "conv_in reads 12 channels folded into 2×2 patches");
        Npz r = vectors(resource("tiny-patch.npz"));
        forwardMatches(gen, r);
        sampleMatches(gen, r, 2, true);
    }

    @Test
    void theCelebA256PresetHasTheOfficialParameterCountAndTensors() {
        WaveDiffGenerator g = Models.build("wavediff", Models.parseOptions(List.of("celeba_256")), 0).wavediff();
        assertEquals(31_485_452L, g.parameterCount());
        assertEquals(474, g.parameters().size());
        assertTrue(g.expectedShapes().containsKey("all_modules.6.weight"), "the wavelet downsample of the input pyramid");
    }

    /** The CelebA-HQ 256 configuration (WaveletNCSNpp, 31M parameters), from files written outside the repository. */
    @Test
    void celeba256ConfigurationMatchesTheOfficialCode() throws Exception {
        fullConfiguration("WAVEDIFF_CELEBA256", "celeba_256", 31_485_452L, 2, true);
    }

    /**
     * A configuration at full size from the folder the environment variable names (tools/refgen/wavediff.py CASE
     * --out DIR writes it): the parameter count, the .pth, the forward and the sample; skipped when it is unset.
     */
    static void fullConfiguration(String variable, String name, long parameters, int timesteps, boolean vh) throws Exception {
        String dir = System.getenv(variable);
        assumeTrue(dir != null && !dir.isBlank(), variable + " is not set (tools/refgen/wavediff.py " + name + " --out DIR writes the files)");
        Path folder = Path.of(dir);
        WaveDiffGenerator gen = load(folder.resolve(name + ".safetensors"));
        assertEquals(parameters, gen.parameterCount());
        pthLoadsToTheSameBits(gen, folder.resolve(name + ".pth"));
        Npz r = vectors(folder.resolve(name + ".npz"));
        forwardMatches(gen, r);
        sampleMatches(gen, r, timesteps, vh);
    }

    /** The CIFAR-10 configuration, from files the generator wrote outside the repository (33M parameters). */
    @Test
    void cifar10ConfigurationMatchesTheOfficialCode() throws Exception {
        fullConfiguration("WAVEDIFF_CIFAR10", "cifar10", 33_370_124L, 4, false);
    }
}
