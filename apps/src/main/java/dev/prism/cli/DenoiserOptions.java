package dev.prism.cli;

import dev.prism.diffusion.Ddim;
import dev.prism.diffusion.Ddpm;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.Prediction;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The options of the commands that sample a denoising model (prism sample, prism eval): its weights and
 * options, the noise schedule and the sampler. The model, its options, the image size and the schedule
 * default to the weights' metadata (what prism train writes into ema.safetensors). Checked before any
 * weight is read (only the file's header is), with messages that name the option, or the metadata entry
 * and the file, with the expected and the found value.
 */
public final class DenoiserOptions {
    /** The bundled model: Fashion-MNIST, trained by Prism (docs/TRAINING.md, "The bundled model"). */
    static final String BUNDLED_MODEL = "/dev/prism/models/fmnist-ddpm.safetensors";

    /** The bundled model's file name, as messages and image metadata name it. */
    static final String BUNDLED_NAME = BUNDLED_MODEL.substring(BUNDLED_MODEL.lastIndexOf('/') + 1);

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Model weights (.safetensors or .pth; default: the bundled Fashion-MNIST model).")
    Path weights;

    /** Whether {@link #weights} is the bundled model, copied out of the jar by {@link #checkWeights}. */
    boolean bundled;

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

    @Option(names = "--schedule", paramLabel = "linear|cosine|vp", description = "The training noise schedule (default: the weights' "
            + "schedule metadata, else linear).")
    String schedule;

    @Option(names = "--timesteps", paramLabel = "T", description = "The training schedule's T (default: the weights' timesteps metadata, else 1000).")
    Integer timesteps;

    @Option(names = "--no-clip", description = "Do not clip the predicted clean image to [-1, 1].")
    boolean noClip;

    @Option(names = "--size", paramLabel = "H[xW]", description = "Image size (default: the weights' image_size metadata, else 32).")
    String size;

    /** A denoising model loaded from its weights. */
    record Loaded(String name, Models.Built built, Map<String, String> metadata, int height, int width, UNetDenoiser denoiser) {
    }

    /** The weights' metadata, read by {@link #checkWeights}. */
    private Map<String, String> metadata;

    /** Fails unless the weights file exists; reads its metadata (the header, not the tensors). */
    void checkWeights() throws IOException {
        if (weights == null) {
            weights = bundledModel();
            bundled = true;
        }
        if (!Files.exists(weights)) {
            throw new IllegalArgumentException("--weights " + weights + ": no such file");
        }
        try (WeightFile wf = WeightFiles.open(weights)) {
            metadata = wf.metadata();
        }
    }

    /** The bundled model, copied to a temporary file that is deleted when the JVM exits. */
    static Path bundledModel() throws IOException {
        try (var in = DenoiserOptions.class.getResourceAsStream(BUNDLED_MODEL)) {
            if (in == null) {
                throw new IllegalArgumentException("--weights: the bundled model " + BUNDLED_MODEL.substring(1)
                        + " is missing from this build; give --weights FILE");
            }
            Path tmp = Files.createTempFile("prism-fmnist-ddpm-", ".safetensors");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    /** The weights as messages and image metadata name them. */
    String weightsName() {
        return bundled ? "the bundled model (" + BUNDLED_NAME + ")"
                : weights.toString();
    }

    private Map<String, String> metadata() {
        if (metadata == null) {
            throw new IllegalStateException("checkWeights() reads the metadata first");
        }
        return metadata;
    }

    /** What a value came from in messages: the option if given, else the metadata entry of the weights. */
    private String source(Object option, String name, String key) {
        return option != null ? name : key + " metadata of " + weightsName();
    }

    /** The noise schedule of --schedule and --timesteps, or of the weights' schedule and timesteps metadata. */
    NoiseSchedule schedule() {
        String name = schedule != null ? schedule : metadata().getOrDefault("schedule", "linear");
        String t = timesteps != null ? String.valueOf(timesteps) : metadata().getOrDefault("timesteps", "1000");
        int steps;
        try {
            steps = Integer.parseInt(t.trim());
        } catch (NumberFormatException e) {
            steps = 0;
        }
        if (steps < 1) {
            throw new IllegalArgumentException(source(timesteps, "--timesteps", "timesteps") + " expected an integer >= 1, found '" + t + "'");
        }
        // prism train records the schedule's full name, "cosine(T=40, s=0.008, maxBeta=0.999)"; its kind comes first.
        int paren = schedule == null ? name.indexOf('(') : -1;
        String kind = paren >= 0 ? name.substring(0, paren) : name;
        NoiseSchedule s = switch (kind.toLowerCase(Locale.ROOT)) {
            case "linear" -> NoiseSchedule.linear(steps);
            case "cosine" -> NoiseSchedule.cosine(steps);
            case "vp" -> NoiseSchedule.vp(steps);
            default -> throw new IllegalArgumentException(source(schedule, "--schedule", "schedule")
                    + " expected linear, cosine or vp, found '" + name + "'");
        };
        if (paren >= 0 && timesteps == null && !s.name().equals(name)) {
            throw new IllegalArgumentException("schedule metadata of " + weightsName() + " expected '" + s.name() + "' (Prism's " + kind
                    + " schedule with the timesteps metadata's T), found '" + name + "'");
        }
        return s;
    }

    /** The sampler of --sampler, --steps, --eta and --no-clip over {@code sched}. */
    DiffusionSampler sampler(NoiseSchedule sched) {
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

    /**
     * Builds the model named by --model or the weights' metadata, with the metadata's options under --config,
     * loads the weights strictly and makes the denoiser at --size (or the image_size metadata).
     */
    Loaded load() throws IOException {
        Map<String, String> meta = metadata();
        String name = model != null ? model : meta.get("model");
        if (name == null) {
            throw new IllegalArgumentException("--model is needed: " + weightsName() + " does not say which model it holds (no 'model' metadata)");
        }
        if (model != null && meta.containsKey("model") && !meta.get("model").equals(model)) {
            throw new IllegalArgumentException("--weights " + weightsName() + " holds a '" + meta.get("model") + "' model, --model says '" + model + "'");
        }
        if (!Models.DENOISERS.contains(name)) {
            throw new IllegalArgumentException("--model expected a denoising model (" + String.join(", ", Models.DENOISERS) + "), found '" + name + "'");
        }
        Map<String, String> options = new LinkedHashMap<>(Models.fromJson(meta.get("options")));
        options.putAll(Models.parseOptions(config));
        Models.Built built = Models.build(name, options, 0);
        try (WeightFile wf = WeightFiles.open(weights)) {
            ModelWeights.load(built.module(), wf, stripPrefix);
        }
        int[] hw = size(meta);
        return new Loaded(name, built, meta, hw[0], hw[1], new UNetDenoiser(built.unet(), hw[0], hw[1]));
    }

    private int[] size(Map<String, String> meta) {
        String v = size != null ? size : meta.getOrDefault("image_size", "32");
        String option = source(size, "--size", "image_size");
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
}
