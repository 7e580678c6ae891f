package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SamplingProgress;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.diffusion.WaveDiffDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.io.OutputFiles;
import dev.prism.io.PngImages;
import dev.prism.nn.models.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code prism sample}: images from a trained denoising model, as a PNG grid and optionally one PNG each. */
@Command(name = "sample", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Generate images with a denoising model (unet, wg-unet or ddpm-unet) from its weights: DDPM ancestral or DDIM sampling, "
        + "or with WaveDiff's generator (--model wavediff --config PRESET: cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun, or fmnist, bundled): DDGAN's posterior sampling in Haar wavelet space, "
        + "the image kept on the device from step to step. Writes a PNG grid (and, with --per-image-dir, one PNG per "
        + "image) with the generation parameters as PNG text. The model and its options default to those stored in the "
        + "weights' metadata.",
        footer = {"", SampleCommand.REPRODUCIBILITY})
final class SampleCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, LibraryNames.BACKEND, Map.of("size", "--size", "batch", "--batch"));
    }

    /**
     * What a seed reproduces, as docs/SAMPLING.md states it; every sentence is tested (SampleReferenceTest,
     * SamplingLoopTest, at 128, 256 and 512 bits).
     */
    static final String REPRODUCIBILITY = "Reproducibility: a seed fixes the noise, which every backend draws the same way. "
            + "The jvm backend gives bit-identical images for every thread count and every run at a given vector width "
            + "(--vector-bits; default: the CPU's widest). jvm-plain and jvm-seq, the plain loops, give bit-identical images. "
            + "Other vector widths, jvm against the plain loops, and TornadoVM devices round differently: their images differ "
            + "from jvm-seq's by a few grey levels (at most 5 of 255 on the tests' UNet, which the tests bound at 8).";

    /** The per-image files are {@code sample-000.png}, {@code sample-001.png}, ... */
    static final String PER_IMAGE_PREFIX = "sample";

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Mixin
    DenoiserOptions model;

    @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}); what it reproduces on which backend: see Reproducibility below.")
    long seed;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "B", description = "Images to generate (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", required = true, paramLabel = "GRID.png", description = "The PNG grid to write.")
    Path out;

    @Option(names = "--per-image-dir", paramLabel = "DIR", description = "Also write one PNG per image into this existing directory.")
    Path perImageDir;

    @Option(names = "--columns", defaultValue = "8", description = "Images per grid row (default: ${DEFAULT-VALUE}).")
    int columns;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        // Everything the user typed is checked before a weight is read or a step runs.
        if (batch < 1) {
            throw new IllegalArgumentException("--batch expected >= 1, found " + batch);
        }
        if (columns < 1) {
            throw new IllegalArgumentException("--columns expected >= 1, found " + columns);
        }
        model.checkWeights();
        checkOutput();
        if (model.isWaveDiff()) {
            return sampleWaveDiff(out, err);
        }
        NoiseSchedule sched = model.schedule();
        DiffusionSampler s = model.sampler(sched);
        // The outputs' memory per image: the grid and its encoding, and each per-image file's PNG bytes until all are written.
        DenoiserOptions.Loaded loaded = model.load(batch, d -> PngImages.gridBytesPerImage(d.channels(), d.height(), d.width(),
                PngImages.DEFAULT_MARGIN) * (perImageDir == null ? 1 : 2));
        String name = loaded.name();
        Models.Built built = loaded.built();
        int[] hw = {loaded.height(), loaded.width()};
        UNetDenoiser denoiser = loaded.denoiser();

        Dvdp process = model.dvdp(loaded, sched);
        try (Backend b = backend.open(PrismConfig.load()); DenoiserSampling loop = model.open(b, loaded, sched, batch)) {
            out.println("backend: " + b.id() + " — " + b.description());
            out.println("sampling " + batch + " images of " + denoiser.channels() + "x" + hw[0] + "x" + hw[1] + " with " + s.describe()
                    + (process == null ? "" : " under " + process.describe()) + ", seed " + seed);
            out.println(loop.cost(s));
            out.flush();
            long t0 = System.nanoTime();
            float[] images = loop.sample(s, new SplittableRandom(seed), step -> progress(err, step));
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, String> text = text(name, built, s, sched, b);
            if (process != null) {
                text.put("process", process.describe());
            }
            write(out, text, images, denoiser.channels(), hw[0], hw[1], seconds);
        }
        return 0;
    }

    /**
     * WaveDiff: DDGAN's posterior sampling of the Haar coefficients with a fresh latent per step, then the
     * image (x2, inverse Haar, clamp), as the official test_wddgan.py.
     */
    private int sampleWaveDiff(PrintWriter out, PrintWriter err) throws IOException {
        DenoiserOptions.WaveDiffLoaded loaded = model.loadWaveDiff();
        WaveDiffDenoiser denoiser = new WaveDiffDenoiser(loaded.generator());
        DiffusionSampler s = loaded.sampler();
        int colours = denoiser.channels() / 4, side = 2 * denoiser.height();
        // The loop's own arrays and the outputs, against the heap, before anything is allocated for sampling
        // (the generator's activations are not counted: WaveDiffDenoiser has no footprint yet).
        SamplingLoop.checkHeap(denoiser, batch, PngImages.gridBytesPerImage(colours, side, side, PngImages.DEFAULT_MARGIN)
                * (perImageDir == null ? 1 : 2));
        try (Backend b = backend.open(PrismConfig.load()); SamplingLoop loop = new SamplingLoop(b, denoiser, batch)) {
            out.println("backend: " + b.id() + " — " + b.description());
            out.println("sampling " + batch + " images of " + colours + "x" + side + "x" + side + " (Haar coefficients "
                    + denoiser.channels() + "x" + denoiser.height() + "x" + denoiser.width() + ") with " + s.describe() + ", seed " + seed);
            out.flush();
            long t0 = System.nanoTime();
            float[] wavelet = loop.sample(s, seed, step -> progress(err, step));
            float[] images = WaveDiffSampling.toImage(wavelet, batch, colours, denoiser.height(),
                    "vh".equals(loaded.built().options().get("bands")));
            double seconds = (System.nanoTime() - t0) / 1e9;
            write(out, text("wavediff", loaded.built(), s, s.schedule(), b), images, colours, side, side, seconds);
        }
        return 0;
    }

    private static void progress(PrintWriter err, SamplingProgress.Step step) {
        if (step.index() == 0 || (step.index() + 1) % Math.max(1, step.steps() / 20) == 0 || step.index() + 1 == step.steps()) {
            err.printf(Locale.ROOT, "step %d/%d  t=%d  %.1f s%n", step.index() + 1, step.steps(), step.timestep(), step.elapsedNanos() / 1e9);
            err.flush();
        }
    }

    /** The generation parameters the PNGs carry as text. */
    private Map<String, String> text(String name, Models.Built built, DiffusionSampler s, NoiseSchedule sched, Backend b) throws IOException {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Software", "prism");
        text.put("model", name);
        text.put("options", built.options().toString());
        text.put("weights", model.bundled ? "bundled:" + model.bundledName() : model.weights.getFileName().toString());
        text.put("weights_sha256", sha256(model.weights));
        text.put("sampler", s.describe());
        text.put("schedule", sched.name() + ", T=" + sched.timesteps());
        text.put("steps", String.valueOf(s.steps()));
        text.put("seed", String.valueOf(seed));
        text.put("backend", b.id() + " (" + b.description() + ")");
        return text;
    }

    /** Writes the grid and, when asked, one PNG per image: all of them, or none (OutputFiles). */
    private void write(PrintWriter out, Map<String, String> text, float[] images, int channels, int h, int w, double seconds) throws IOException {
        try (OutputFiles files = new OutputFiles()) {
            PngImages.stageGrid(files, this.out, images, batch, channels, h, w, Math.min(columns, batch), PngImages.DEFAULT_MARGIN, text);
            int each = perImageDir == null ? 0
                    : PngImages.stageEach(files, perImageDir, PER_IMAGE_PREFIX, images, batch, channels, h, w, text).size();
            files.commit();
            out.printf(Locale.ROOT, "wrote %s (%d images, %.2f s sampling)%n", this.out, batch, seconds);
            if (perImageDir != null) {
                out.println("wrote " + each + " images to " + perImageDir);
            }
        }
    }

    /**
     * Fails before any work when the outputs cannot be written where asked: --out must be a regular file or a
     * new path in a directory where a file can be created, and so must every per-image file in --per-image-dir.
     */
    private void checkOutput() {
        OutputFiles.checkTarget("--out", out);
        if (perImageDir != null) {
            OutputFiles.checkDirectory("--per-image-dir", perImageDir);
            for (int i = 0; i < batch; i++) {
                OutputFiles.checkTarget("--per-image-dir", perImageDir.resolve(PngImages.eachName(PER_IMAGE_PREFIX, i, batch)));
            }
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
