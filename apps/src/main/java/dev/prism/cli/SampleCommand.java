package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.Ddim;
import dev.prism.diffusion.Ddpm;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.Prediction;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.io.PngImages;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.WeightFile;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code prism sample}: images from a trained denoising model, as a PNG grid and optionally one PNG each. */
@Command(name = "sample", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Generate images with a denoising model (unet, wg-unet or ddpm-unet) from its weights: DDPM ancestral or DDIM sampling, "
        + "the image kept on the device from step to step. Writes a PNG grid (and, with --per-image-dir, one PNG per "
        + "image) with the generation parameters as PNG text. The model and its options default to those stored in the "
        + "weights' metadata.",
        footer = {"", SampleCommand.REPRODUCIBILITY})
final class SampleCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, LibraryNames.BACKEND, Map.of("size", "--size"));
    }

    /**
     * What a seed reproduces, as README.md states it; every sentence is tested (SampleReferenceTest,
     * SamplingLoopTest, at 128, 256 and 512 bits).
     */
    static final String REPRODUCIBILITY = "Reproducibility: a seed fixes the noise, which every backend draws the same way. "
            + "The jvm backend gives bit-identical images for every thread count and every run at a given vector width "
            + "(--vector-bits; default: the CPU's widest). jvm-plain and jvm-seq, the plain loops, give bit-identical images. "
            + "Other vector widths, jvm against the plain loops, and TornadoVM devices round differently: their images differ "
            + "from jvm-seq's by a few grey levels (at most 5 of 255 on the tests' UNet, which the tests bound at 8).";

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "Model weights (.safetensors or .pth).")
    Path weights;

    @Option(names = "--strip-prefix", paramLabel = "PREFIX",
            description = "Remove this prefix from every tensor name first (e.g. module. for weights saved from DataParallel).")
    String stripPrefix;

    @Option(names = "--model", paramLabel = "NAME", description = "unet, wg-unet or ddpm-unet (default: the weights' metadata).")
    String model;

    @Option(names = "--config", paramLabel = "KEY=VALUE", split = ",",
            description = "Model options over the weights' metadata (see prism info --model).")
    List<String> config;

    @Option(names = "--sampler", defaultValue = "ddim", paramLabel = "ddpm|ddim", description = "Default: ${DEFAULT-VALUE}.")
    String sampler;

    @Option(names = "--steps", paramLabel = "N", description = "Sampling steps, at most the schedule's T (default: T for ddpm, 50 for ddim).")
    Integer steps;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM's η: 0 deterministic, 1 as DDPM (default: ${DEFAULT-VALUE}).")
    double eta;

    @Option(names = "--schedule", defaultValue = "linear", paramLabel = "linear|cosine|vp", description = "Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--timesteps", defaultValue = "1000", paramLabel = "T", description = "The training schedule's T (default: ${DEFAULT-VALUE}).")
    int timesteps;

    @Option(names = "--no-clip", description = "Do not clip the predicted clean image to [-1, 1].")
    boolean noClip;

    @Option(names = "--seed", defaultValue = "0", description = "Noise seed (default: ${DEFAULT-VALUE}); what it reproduces on which backend: see Reproducibility below.")
    long seed;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "B", description = "Images to generate (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--size", paramLabel = "H[xW]", description = "Image size (default: the weights' image_size metadata, else 32).")
    String size;

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
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("--weights " + weights + ": no such file");
        }
        checkOutput();
        NoiseSchedule sched = switch (schedule.toLowerCase(Locale.ROOT)) {
            case "linear" -> NoiseSchedule.linear(positiveT());
            case "cosine" -> NoiseSchedule.cosine(positiveT());
            case "vp" -> NoiseSchedule.vp(positiveT());
            default -> throw new IllegalArgumentException("--schedule expected linear, cosine or vp, found '" + schedule + "'");
        };
        DiffusionSampler s = sampler(sched);

        Map<String, String> meta;
        try (WeightFile wf = WeightFile.open(weights)) {
            meta = wf.metadata();
        }
        String name = model != null ? model : meta.get("model");
        if (name == null) {
            throw new IllegalArgumentException("--model is needed: " + weights + " does not say which model it holds (no 'model' metadata)");
        }
        if (model != null && meta.containsKey("model") && !meta.get("model").equals(model)) {
            throw new IllegalArgumentException("--weights " + weights + " holds a '" + meta.get("model") + "' model, --model says '" + model + "'");
        }
        if (!Models.DENOISERS.contains(name)) {
            throw new IllegalArgumentException("--model expected a denoising model (" + String.join(", ", Models.DENOISERS) + "), found '" + name + "'");
        }
        Map<String, String> options = new LinkedHashMap<>(Models.fromJson(meta.get("options")));
        options.putAll(Models.parseOptions(config));
        Models.Built built = Models.build(name, options, 0);
        ModelWeights.load(built.module(), weights, stripPrefix);
        int[] hw = size(meta);
        UNetDenoiser denoiser = new UNetDenoiser(built.unet(), hw[0], hw[1]);

        try (Backend b = backend.open(PrismConfig.load()); SamplingLoop loop = new SamplingLoop(b, denoiser, batch)) {
            out.println("backend: " + b.id() + " — " + b.description());
            out.println("sampling " + batch + " images of " + denoiser.channels() + "x" + hw[0] + "x" + hw[1] + " with " + s.describe()
                    + ", seed " + seed);
            out.flush();
            long t0 = System.nanoTime();
            float[] images = loop.sample(s, seed, step -> {
                if (step.index() == 0 || (step.index() + 1) % Math.max(1, step.steps() / 20) == 0 || step.index() + 1 == step.steps()) {
                    err.printf(Locale.ROOT, "step %d/%d  t=%d  %.1f s%n", step.index() + 1, step.steps(), step.timestep(),
                            step.elapsedNanos() / 1e9);
                    err.flush();
                }
            });
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, String> text = new LinkedHashMap<>();
            text.put("Software", "prism");
            text.put("model", name);
            text.put("options", built.options().toString());
            text.put("weights", weights.getFileName().toString());
            text.put("weights_sha256", sha256(weights));
            text.put("sampler", s.describe());
            text.put("schedule", sched.name() + ", T=" + sched.timesteps());
            text.put("steps", String.valueOf(s.steps()));
            text.put("seed", String.valueOf(seed));
            text.put("backend", b.id() + " (" + b.description() + ")");
            PngImages.writeGrid(out(), images, batch, denoiser.channels(), hw[0], hw[1], Math.min(columns, batch),
                    PngImages.DEFAULT_MARGIN, text);
            out.printf(Locale.ROOT, "wrote %s (%d images, %.2f s sampling)%n", this.out, batch, seconds);
            if (perImageDir != null) {
                var files = PngImages.writeEach(perImageDir, "sample", images, batch, denoiser.channels(), hw[0], hw[1], text);
                out.println("wrote " + files.size() + " images to " + perImageDir);
            }
        }
        return 0;
    }

    private Path out() {
        return out;
    }

    private int positiveT() {
        if (timesteps < 1) {
            throw new IllegalArgumentException("--timesteps expected >= 1, found " + timesteps);
        }
        return timesteps;
    }

    private DiffusionSampler sampler(NoiseSchedule sched) {
        boolean clip = !noClip;
        return switch (sampler.toLowerCase(Locale.ROOT)) {
            case "ddpm" -> {
                if (steps != null && steps != sched.timesteps()) {
                    throw new IllegalArgumentException("--steps for ddpm expected " + sched.timesteps()
                            + " (ancestral sampling visits every timestep; use --sampler ddim for fewer), found " + steps);
                }
                yield new Ddpm(sched, clip, Prediction.EPSILON);
            }
            case "ddim" -> {
                int n = steps != null ? steps : Math.min(50, sched.timesteps());
                if (n < 1 || n > sched.timesteps()) {
                    throw new IllegalArgumentException("--steps expected 1 to T = " + sched.timesteps() + ", found " + n);
                }
                if (!(eta >= 0)) {
                    throw new IllegalArgumentException("--eta expected >= 0, found " + eta);
                }
                yield new Ddim(sched, n, eta, clip, Prediction.EPSILON);
            }
            default -> throw new IllegalArgumentException("--sampler expected ddpm or ddim, found '" + sampler + "'");
        };
    }

    /** Fails before any work when the outputs cannot be written where asked. */
    private void checkOutput() {
        Path dir = out.toAbsolutePath().getParent();
        if (Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a directory; expected a .png file path");
        }
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + out + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("--out " + out + ": directory " + dir + " is not writable");
        }
        if (perImageDir != null && !Files.isDirectory(perImageDir)) {
            throw new IllegalArgumentException("--per-image-dir " + perImageDir + ": no such directory");
        }
    }

    private int[] size(Map<String, String> meta) {
        String v = size != null ? size : meta.getOrDefault("image_size", "32");
        String option = size != null ? "--size" : "image_size metadata of " + weights;
        try {
            String[] p = v.toLowerCase(Locale.ROOT).split("x", -1);
            int h = Integer.parseInt(p[0].trim());
            int w = p.length > 1 ? Integer.parseInt(p[1].trim()) : h;
            if (p.length > 2 || h < 1 || w < 1) {
                throw new NumberFormatException();
            }
            return new int[] {h, w};
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expected H or HxW with positive integers, found '" + v + "'");
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
