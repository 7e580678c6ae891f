package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.Ddim;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.DvdpSampling;
import dev.prism.diffusion.Ddpm;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.Prediction;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.kernels.ArgumentException;
import dev.prism.nn.Heap;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.WaveDiffGenerator;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

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
    /** The bundled WaveDiff generator: Fashion-MNIST, preset fmnist, trained by Prism (docs/WAVEDIFF.md, "Training"). */
    static final String BUNDLED_WAVEDIFF = "/dev/prism/models/fmnist-wavediff.safetensors";

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Model weights (.safetensors or .pth; default: the bundled Fashion-MNIST model; with --model wavediff, the bundled Fashion-MNIST WaveDiff).")
    Path weights;

    /** Whether {@link #weights} is the bundled model, copied out of the jar by {@link #checkWeights}. */
    boolean bundled;
    /** The bundled file's name, when {@link #bundled}. */
    private String bundledName = BUNDLED_NAME;

    @Option(names = "--strip-prefix", paramLabel = "PREFIX",
            description = "Remove this prefix from every tensor name first (e.g. module. for weights saved from DataParallel).")
    String stripPrefix;

    @Option(names = "--model", paramLabel = "NAME", description = "unet, wg-unet, ddpm-unet or wavediff (default: the weights' metadata).")
    String model;

    @Option(names = "--config", paramLabel = "KEY=VALUE", split = ",",
            description = "Model options over the weights' metadata (see prism info --model); for wavediff a preset name (cifar10) may come first.")
    List<String> config;

    @Option(names = "--sampler", paramLabel = "ddpm|ddim|ddgan", description = "Default: ddim; ddgan (posterior sampling, the only one) for wavediff.")
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

    @Option(names = "--process", paramLabel = "ddpm|dvdp", description = "The diffusion process the model was trained with: ddpm (fixed "
            + "dimension) or dvdp (dimensionality-varying, docs/DVDP.md); default: the weights' process metadata, else ddpm.")
    String process;

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
            boolean wavediff = "wavediff".equals(model);
            if (wavediff) {
                String preset = Models.parseOptions(config).getOrDefault("preset", "fmnist");
                if (!preset.equals("fmnist")) {
                    throw new IllegalArgumentException("--weights is needed for wavediff preset " + preset + ": Prism bundles only its"
                            + " Fashion-MNIST WaveDiff (preset fmnist)");
                }
            }
            weights = bundledModel(wavediff ? BUNDLED_WAVEDIFF : BUNDLED_MODEL);
            bundledName = (wavediff ? BUNDLED_WAVEDIFF : BUNDLED_MODEL).substring(BUNDLED_MODEL.lastIndexOf('/') + 1);
            bundled = true;
        }
        if (!Files.exists(weights)) {
            throw new IllegalArgumentException("--weights " + weights + ": no such file");
        }
        try (WeightFile wf = WeightFiles.open(weights)) {
            metadata = wf.metadata();
        }
    }

    /** The bundled DDPM model, copied to a temporary file that is deleted when the JVM exits. */
    static Path bundledModel() throws IOException {
        return bundledModel(BUNDLED_MODEL);
    }

    /** A bundled model ({@code resource}), copied to a temporary file that is deleted when the JVM exits. */
    static Path bundledModel(String resource) throws IOException {
        try (var in = DenoiserOptions.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("--weights: the bundled model " + resource.substring(1)
                        + " is missing from this build; give --weights FILE");
            }
            Path tmp = Files.createTempFile("prism-bundled-", ".safetensors");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        }
    }

    /** The bundled file's name ({@code fmnist-ddpm.safetensors} or {@code fmnist-wavediff.safetensors}), when {@link #bundled}. */
    String bundledName() {
        return bundledName;
    }

    /** The weights as messages and image metadata name them. */
    String weightsName() {
        return bundled ? "the bundled model (" + bundledName + ")"
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
        if (steps < 1 || steps > NoiseSchedule.MAX_TIMESTEPS) {
            throw new IllegalArgumentException(source(timesteps, "--timesteps", "timesteps") + " expected an integer from 1 to "
                    + NoiseSchedule.MAX_TIMESTEPS + ", found '" + t + "'");
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
        return switch ((sampler == null ? "ddim" : sampler).toLowerCase(Locale.ROOT)) {
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
                if (!(eta >= 0 && eta < Double.POSITIVE_INFINITY)) {
                    throw new IllegalArgumentException("--eta expected a finite number >= 0, found " + eta);
                }
                yield new Ddim(sched, n, eta, clip, Prediction.EPSILON);
            }
            default -> throw new IllegalArgumentException("--sampler expected ddpm or ddim, found '" + sampler + "'");
        };
    }

    /**
     * Builds the model named by --model or the weights' metadata, with the metadata's options under --config,
     * makes the denoiser at --size (or the image_size metadata), checks that sampling {@code batch} images
     * with {@code extraBytesPerImage} more per image fits in the heap (the weights first, then the whole
     * sampling plan: {@link SamplingLoop#checkHeap}), and only then loads the weights strictly.
     */
    Loaded load(int batch, ToLongFunction<UNetDenoiser> extraBytesPerImage) throws IOException {
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
        Map<String, String> recorded = Models.fromJson(meta.get("options"));
        Map<String, String> options = new LinkedHashMap<>(recorded);
        options.putAll(Models.parseOptions(config));
        Models.Built built;
        try {
            built = Models.structure(name, options);
            Models.checkHeap(built, options);
        } catch (IllegalArgumentException e) {
            throw config == null ? fromMetadata(e) : e;
        }
        int[] hw = size(meta);
        UNetDenoiser denoiser = new UNetDenoiser(built.unet(), hw[0], hw[1]);
        built.module().initialise(0);
        try {
            SamplingLoop.checkHeap(denoiser, batch, extraBytesPerImage.applyAsLong(denoiser));
        } catch (ArgumentException e) {
            if (size != null || !e.argument().equals("size")) {
                throw e;
            }
            // the size came from the weights' image_size metadata, not from --size
            String from = "image_size metadata of " + weightsName();
            throw new IllegalArgumentException(e instanceof Heap.HeapException h ? h.messageAs(from, "give a smaller --size or raise -Xmx")
                    : e.messageAs(from), e);
        }
        try (WeightFile wf = WeightFiles.open(weights)) {
            ModelWeights.load(built.module(), wf, stripPrefix);
        }
        return new Loaded(name, built, meta, hw[0], hw[1], denoiser);
    }

    /**
     * The DVDP process the weights were trained with (their process, stages and switches metadata), or null for the
     * fixed-dimension process; --process may only restate it.
     *
     * @throws IllegalArgumentException naming --process or the metadata entry
     */
    Dvdp dvdp(Loaded loaded, NoiseSchedule sched) {
        Dvdp p = DenoiserSampling.process(process, loaded.metadata(), weightsName(), sched, loaded.denoiser().channels(), loaded.height());
        if (p != null && loaded.width() != loaded.height()) {
            throw new IllegalArgumentException("--process dvdp expected square images, found " + loaded.height() + "x" + loaded.width());
        }
        return p;
    }

    /** The sampling loop(s) of {@code loaded} for {@code batch} images, with the process it was trained with ({@link #dvdp}). */
    DenoiserSampling open(Backend b, Loaded loaded, NoiseSchedule sched, int batch) {
        Dvdp p = dvdp(loaded, sched);
        return p == null ? DenoiserSampling.of(new SamplingLoop(b, loaded.denoiser(), batch))
                : DenoiserSampling.of(new DvdpSampling(b, loaded.built().unet(), p, batch));
    }

    /** A model option that came from the weights' options metadata, not from --config: the message names the metadata. */
    private IllegalArgumentException fromMetadata(IllegalArgumentException e) {
        String from = "options metadata of " + weightsName();
        return new IllegalArgumentException(e instanceof Heap.HeapException h ? h.messageAs(from, "raise -Xmx") : from + ": " + e.getMessage(), e);
    }

    /** Whether --model, or else the weights' metadata, names WaveDiff's generator. */
    boolean isWaveDiff() {
        return "wavediff".equals(model != null ? model : metadata().get("model"));
    }

    /** WaveDiff's generator loaded from its weights, with the sampler its options imply. */
    record WaveDiffLoaded(Models.Built built, WaveDiffGenerator generator, Ddpm sampler) {
    }

    /**
     * Builds WaveDiff's generator from the weights' options under --config (the official .pth files carry none:
     * the preset's values then apply), checks the sampling options against it, and loads the weights strictly.
     * WaveDiff samples with DDGAN's posterior over its own T steps of the VP schedule, so --steps must be T and
     * --sampler, --schedule, --timesteps, --eta, --no-clip and --size can only restate what the model fixes.
     */
    WaveDiffLoaded loadWaveDiff() throws IOException {
        Map<String, String> meta = metadata();
        if (model != null && meta.containsKey("model") && !meta.get("model").equals(model)) {
            throw new IllegalArgumentException("--weights " + weightsName() + " holds a '" + meta.get("model") + "' model, --model says '" + model + "'");
        }
        Map<String, String> options = new LinkedHashMap<>(Models.fromJson(meta.get("options")));
        options.putAll(Models.parseOptions(config));
        Models.Built built = Models.build("wavediff", options, 0);
        WaveDiffGenerator g = built.wavediff();
        int t = Integer.parseInt(built.options().get("timesteps"));
        if (sampler != null && !sampler.equalsIgnoreCase("ddgan")) {
            throw new IllegalArgumentException("--sampler for wavediff expected ddgan (its generator is trained for DDGAN's posterior sampling), found '"
                    + sampler + "'");
        }
        if (steps != null && steps != t) {
            throw new IllegalArgumentException("--steps for wavediff expected " + t + " (the model's timesteps option: its generator is trained "
                    + "for those steps), found " + steps);
        }
        if (schedule != null && !schedule.equalsIgnoreCase("vp")) {
            throw new IllegalArgumentException("--schedule for wavediff expected vp, found '" + schedule + "'");
        }
        if (timesteps != null && timesteps != t) {
            throw new IllegalArgumentException("--timesteps for wavediff expected " + t + " (the model's timesteps option), found " + timesteps);
        }
        if (eta != 0 || noClip) {
            throw new IllegalArgumentException((noClip ? "--no-clip" : "--eta") + " does not apply to wavediff (posterior sampling, then the "
                    + "official clamp of the image to [-1, 1])");
        }
        int image = 2 * g.config().size();
        if (size != null && !(size(meta)[0] == image && size(meta)[1] == image)) {
            throw new IllegalArgumentException("--size for wavediff expected " + image + " (twice the model's size option), found '" + size + "'");
        }
        try (WeightFile wf = WeightFiles.open(weights)) {
            ModelWeights.load(g, wf, stripPrefix);
        }
        return new WaveDiffLoaded(built, g, WaveDiffSampling.sampler(t));
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
