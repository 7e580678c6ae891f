package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.Ddim;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.DvdpSampling;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.Prediction;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SamplingProgress;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.diffusion.data.BatchLoader;
import dev.prism.diffusion.data.Batches;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.data.ImageFolder;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.train.ClassifierTrainer;
import dev.prism.diffusion.train.DdpmTrainer;
import dev.prism.diffusion.train.DistillTrainer;
import dev.prism.diffusion.train.FeatureAlignment;
import dev.prism.diffusion.train.DvdpTrainer;
import dev.prism.diffusion.train.Trainer;
import dev.prism.diffusion.train.VaeTrainer;
import dev.prism.diffusion.train.WaveDiffTrainer;
import dev.prism.diffusion.WaveDiffDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.kernels.ArgumentException;
import dev.prism.nn.Heap;
import dev.prism.nn.models.WaveDiffDiscriminator;
import dev.prism.nn.models.WaveDiffGenerator;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.DeepPrismVae;
import dev.prism.io.PngImages;
import dev.prism.nn.Footprint;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.io.AtomicWrite;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.models.Models;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code prism train}: DDPM training of a denoising UNet, or cross-entropy training of the classifier of the quality metric,
 * with checkpoints, resume, a log and sample grids (test-set accuracy for the classifier).
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Train a denoising model (unet, wg-unet or ddpm-unet) with DDPM's objective (uniform t, noise prediction, mean squared "
        + "error) and AdamW, on Fashion-MNIST or a folder of PNG/JPEG images (with --process dvdp --stages 32,16,8, for the "
        + "dimensionality-varying process over the DCT, docs/DVDP.md); with --model deepprism-vae, the DeepPrism autoencoder "
        + "with its reconstruction + KL objective (log.csv gains the two terms; the grids show images and their reconstructions); with --model "
        + "wavediff (--config fmnist, or another preset), WaveDiff's generator against DDGAN's discriminator in Haar wavelet space (softplus "
        + "GAN losses, the R1 penalty, the L1 reconstruction term; log.csv gains the terms; JVM backend only, docs/WAVEDIFF.md); or, with "
        + "--model classifier, the classifier of prism eval's quality metric with the softmax cross-entropy on labelled images (Fashion-MNIST). Writes into the run directory: "
        + "checkpoint.safetensors (weights, EMA weights, AdamW moments, the run's state) and checkpoint.json every "
        + "--checkpoint-every steps, ema.safetensors (the EMA weights, for prism sample), log.csv (step, loss, learning "
        + "rate, gradient norm, seconds) and samples/step-N.png grids drawn with the EMA weights (the classifier: the test-set "
        + "accuracy of the EMA weights instead). --resume RUN continues a run "
        + "from its checkpoint with the same batches, noise and updates as if it had never stopped.")
final class TrainCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, LibraryNames.BACKEND, Map.ofEntries(Map.entry("size", "--size"),
                Map.entry("batch", "--batch"), Map.entry("sampleCount", "--sample-count"), Map.entry("lr", "--lr"),
                Map.entry("weightDecay", "--weight-decay"), Map.entry("decay", "--lr-decay"), Map.entry("warmup", "--warmup"),
                Map.entry("total", "--steps"), Map.entry("minRatio", "--min-lr-ratio"), Map.entry("clipNorm", "--clip"),
                Map.entry("emaDecay", "--ema"), Map.entry("r1Gamma", "--r1-gamma"), Map.entry("recWeight", "--rec-weight"),
                Map.entry("lazyReg", "--lazy-reg")));
    }

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Option(names = "--out", paramLabel = "RUN", description = "A new or empty directory for the run.")
    Path out;

    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the run in this directory from its checkpoint.")
    Path resume;

    @Option(names = "--init", paramLabel = "WEIGHTS",
            description = "Start a new run from these weights (fine-tuning, e.g. a model from prism fit-kernels); the model and its options "
            + "come from the file's metadata, so --model and --config are not given.")
    Path init;

    // Spectrum-aware distillation: prism distill's options (documented there), hidden here.
    @Option(names = "--teacher", paramLabel = "WEIGHTS", hidden = true)
    Path teacher;

    @Option(names = "--lambda-spatial", defaultValue = "1", hidden = true)
    double lambdaSpatial;

    @Option(names = "--lambda-freq", defaultValue = "1", hidden = true)
    double lambdaFreq;

    @Option(names = "--freq-alpha", defaultValue = "1", hidden = true)
    double freqAlpha;

    @Option(names = "--feature-levels", defaultValue = "all", hidden = true)
    String featureLevels;

    @Option(names = "--model", defaultValue = "unet", paramLabel = "NAME",
            description = "unet, wg-unet, ddpm-unet, deepprism-vae, wavediff or classifier (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--config", paramLabel = "KEY=VALUE", split = ",", description = "Model options (see prism info --model).")
    List<String> config;

    @Option(names = "--data", paramLabel = "fashion-mnist|DIR",
            description = "fashion-mnist (Debian's dataset-fashion-mnist, scripts/setup-machine.sh data), a folder of Fashion-MNIST "
            + "IDX files (train-images-idx3-ubyte[.gz] ...) or a folder of images.")
    String data;

    @Option(names = "--channels", defaultValue = "1", description = "Channels of folder images: 1 grey or 3 RGB (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(names = "--size", defaultValue = "32", description = "Image side in pixels (default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--steps", paramLabel = "N", description = "Train until this step (required for a new run).")
    Long steps;

    @Option(names = "--batch", defaultValue = "64", description = "Images per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "2e-4", description = "Peak learning rate (default: ${DEFAULT-VALUE}; wavediff: the preset's, see --disc).")
    double lr;

    @Option(names = "--lr-decay", defaultValue = "constant", paramLabel = "constant|linear|cosine",
            description = "Learning-rate decay after the warm-up (default: ${DEFAULT-VALUE}).")
    String lrDecay;

    @Option(names = "--warmup", defaultValue = "200", description = "Warm-up steps (default: ${DEFAULT-VALUE}).")
    long warmup;

    @Option(names = "--min-lr-ratio", defaultValue = "0.1", description = "Final learning rate of a decay, as a fraction of --lr (default: ${DEFAULT-VALUE}).")
    double minLrRatio;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW's decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--clip", defaultValue = "1.0", description = "Maximum global gradient norm, 0 for none (default: ${DEFAULT-VALUE}).")
    double clip;

    @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay of the weights, after its warm-up (default: ${DEFAULT-VALUE}; wavediff: the preset's, see --disc).")
    double ema;

    @Option(names = "--schedule", defaultValue = "linear", paramLabel = "linear|cosine",
            description = "Noise schedule of a denoising model (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--timesteps", defaultValue = "1000", paramLabel = "T", description = "Diffusion steps T (default: ${DEFAULT-VALUE}).")
    int timesteps;

    @Option(names = "--process", defaultValue = "ddpm", paramLabel = "ddpm|dvdp",
            description = "Diffusion process of a denoising model: ddpm (fixed dimension) or dvdp (dimensionality-varying over the DCT, "
            + "docs/DVDP.md; default: ${DEFAULT-VALUE}).")
    String process;

    @Option(names = "--stages", paramLabel = "K,K,...", description = "dvdp: the sides of its stages, the image size first (e.g. 32,16,8).")
    String stages;

    @Option(names = "--switch-kl", defaultValue = "0.1", paramLabel = "NATS",
            description = "dvdp: a stage starts at the first step where re-inserting its dropped coefficients as noise adds at most this "
            + "divergence (default: ${DEFAULT-VALUE}).")
    double switchKl;

    @Option(names = "--kl-weight", defaultValue = "1e-6", paramLabel = "W",
            description = "deepprism-vae: the weight of the KL term against half the reconstruction's mean squared error "
            + "(DeepPrism's lambda_2; default: ${DEFAULT-VALUE}).")
    double klWeight;

    @Option(names = "--d-lr", defaultValue = "1.25e-4", paramLabel = "LR",
            description = "wavediff: the discriminator's peak learning rate (--lr is the generator's; default: the preset's, see --disc).")
    double dLr;

    @Option(names = "--r1-gamma", defaultValue = "0.02", paramLabel = "GAMMA",
            description = "wavediff: the R1 penalty's weight on real pairs, 0 for none (default: the preset's, see --disc).")
    double r1Gamma;

    @Option(names = "--lazy-reg", defaultValue = "1", paramLabel = "K",
            description = "wavediff: the R1 penalty at every K-th iteration only, from the first (the official --lazy_reg; "
                    + "default: the preset's, see --disc).")
    int lazyReg;

    @Option(names = "--rec-weight", defaultValue = "1", paramLabel = "LAMBDA",
            description = "wavediff: the weight of the generator's reconstruction term, mean |y'_0 - y_0|, 0 for none (default: ${DEFAULT-VALUE}).")
    double recWeight;

    @Option(names = "--disc", paramLabel = "KEY=VALUE", split = ",",
            description = "wavediff: the discriminator's options kind (small: the official Discriminator_small; large: "
                    + "Discriminator_large), ngf, temb and layers (small: 3 or 4, large: 3 to 6). Defaults of these and of --lr, "
                    + "--d-lr, --r1-gamma, --lazy-reg and --ema follow the preset: the official run.sh settings for cifar10 and stl10 "
                    + "(small) and for celeba_256, celeba_512, celeba_1024 and lsun (large); for fmnist, small, ngf 32, temb 128, "
                    + "layers 3, --lr 1.6e-4, --d-lr 1.25e-4, --r1-gamma 0.02, --lazy-reg 1, --ema 0.999 (docs/WAVEDIFF.md).")
    List<String> disc;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial weights, the data order and the noise (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "500", paramLabel = "K", description = "Steps between checkpoints (default: ${DEFAULT-VALUE}).")
    long checkpointEvery;

    @Option(names = "--sample-every", defaultValue = "1000", paramLabel = "K",
            description = "Steps between sample grids (deepprism-vae: grids of images and their reconstructions; the classifier: "
            + "test-set accuracies), 0 for none (default: ${DEFAULT-VALUE}).")
    long sampleEvery;

    @Option(names = "--sample-count", defaultValue = "16", description = "Images per sample grid (default: ${DEFAULT-VALUE}).")
    int sampleCount;

    @Option(names = "--sample-steps", defaultValue = "50", description = "DDIM steps of the sample grids (default: ${DEFAULT-VALUE}).")
    int sampleSteps;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Run run = resume != null ? Run.resume(this, resume) : Run.fresh(this);
        Path dir = run.dir;
        boolean classifier = "classifier".equals(run.model);
        boolean vae = "deepprism-vae".equals(run.model);
        boolean wavediff = "wavediff".equals(run.model);
        List<String> notHere = classifier ? List.of("--schedule", "--timesteps", "--sample-count", "--sample-steps")
                : vae ? List.of("--schedule", "--timesteps", "--sample-steps")
                : wavediff ? List.of("--schedule", "--timesteps", "--sample-steps", "--process", "--stages", "--teacher") : List.of();
        for (String option : notHere) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new IllegalArgumentException(option + (wavediff ? " does not apply to --model wavediff (its VP schedule and steps are the"
                        + " model's timesteps option)" : " applies to denoising models, not to --model " + run.model));
            }
        }
        if (!wavediff) {
            for (String option : List.of("--d-lr", "--r1-gamma", "--lazy-reg", "--rec-weight", "--disc")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                    throw new IllegalArgumentException(option + " applies to --model wavediff, not to --model " + run.model);
                }
            }
        }

        if (!vae && spec.commandLine().getParseResult().hasMatchedOption("--kl-weight")) {
            throw new IllegalArgumentException("--kl-weight applies to --model deepprism-vae, not to --model " + run.model);
        }
        if (!classifier) {
            if (sampleCount < 1) {
                throw new IllegalArgumentException("--sample-count expected >= 1, found " + sampleCount);
            }
            if (sampleSteps < 1) {
                throw new IllegalArgumentException("--sample-steps expected >= 1 (at most --timesteps are used), found " + sampleSteps);
            }
        }
        // The settings the library checks, before a model is built or an image read.
        NoiseSchedule sched = classifier || vae || wavediff ? null : schedule(run.schedule, run.timesteps);
        // WaveDiff's networks use the official Adam betas (0.5, 0.9); the others AdamW's defaults
        double beta1 = wavediff ? 0.5 : 0.9, beta2 = wavediff ? 0.9 : 0.999;
        TrainingStep.Settings settings = new TrainingStep.Settings(new AdamW(run.lr, beta1, beta2, 1e-8, run.weightDecay),
                new LrSchedule(run.lrDecay, run.warmup, run.steps, run.minLrRatio), run.clip, run.ema);
        WaveDiffTrainer.Config wavediffConfig = wavediff ? new WaveDiffTrainer.Config(run.batch, run.seed,
                Integer.parseInt(Models.structure("wavediff", run.options).options().get("timesteps")), run.r1Gamma,
                run.recWeight, settings, new TrainingStep.Settings(new AdamW(run.dLr, beta1, beta2, 1e-8, run.weightDecay),
                new LrSchedule(run.lrDecay, run.warmup, run.steps, run.minLrRatio), run.clip, run.ema), run.lazyReg) : null;
        if (vae) {
            new VaeTrainer.Config(run.batch, run.seed, run.klWeight, settings);
        }
        if (run.teacher != null && (classifier || vae)) {
            throw new IllegalArgumentException("--teacher: distillation trains a denoising model, not --model " + run.model);
        }
        Models.Built built = Models.build(run.model, run.options, run.seed);
        if (run.checkpoint == null && run.init != null) {
            ModelWeights.load(built.module(), run.init, null);
        } else if (run.checkpoint == null && wavediff) {
            built.wavediff().initialiseOfficial(run.seed);
        }
        if (!classifier && !vae && !wavediff && !(built.module() instanceof dev.prism.nn.models.UNet)) {
            throw new IllegalArgumentException("--model expected a denoising model (" + String.join(", ", Models.DENOISERS)
                    + "), deepprism-vae, wavediff or classifier, found '" + run.model + "'");
        }
        if (wavediff) {
            String id = backend.choose(PrismConfig.load()).id();
            if (!id.startsWith("jvm")) {
                throw new IllegalArgumentException("--backend " + id + ": wavediff training runs on the JVM backend only (its two"
                        + " steps read each other's weights, which a device keeps apart); expected jvm, jvm-plain or jvm-seq");
            }
        }
        boolean dvdp = run.process.equals("dvdp");
        if (dvdp && (classifier || vae)) {
            throw new IllegalArgumentException("--process dvdp applies to denoising models, not to --model " + run.model);
        }
        if (dvdp && run.teacher != null) {
            throw new IllegalArgumentException("--process dvdp: distillation (prism distill) trains the fixed-dimension process only");
        }
        DataSet set = openData(run.data, run.channels, run.size);
        Dvdp process = dvdp ? run.dvdp(sched, set, built) : null;
        if (classifier && !set.hasLabels()) {
            throw new IllegalArgumentException("--data " + run.data + ": the classifier needs labelled images (fashion-mnist or a folder of "
                    + "Fashion-MNIST IDX files), found a folder of unlabelled images");
        }
        checkHeap(built, run, set);
        Batches order = new Batches(set, run.batch, run.seed, true);
        long first = run.completed + 1;
        try (Backend b = backend.open(PrismConfig.load());
             BatchLoader loader = BatchLoader.background(order, first, 2);
             Trainer trainer = withinHeap(run, () -> wavediff
                     ? new WaveDiffTrainer(b, built.wavediff(), run.discriminator(built.wavediff()), images(set, loader), wavediffConfig)
                     : classifier
                     ? new ClassifierTrainer(b, built.classifier(), labelled(set, loader, run.batch), new ClassifierTrainer.Config(run.batch, settings))
                     : vae ? new VaeTrainer(b, (DeepPrismVae) built.module(), images(set, loader),
                             new VaeTrainer.Config(run.batch, run.seed, run.klWeight, settings))
                     : run.teacher != null ? new DistillTrainer(b, built.unet(), DistillCommand.teacher(run.teacher).unet(), images(set, loader),
                             new DistillTrainer.Config(run.batch, run.seed, sched, settings, run.lambdaSpatial, run.lambdaFreq, run.freqAlpha,
                             run.featureLevels))
                     : dvdp ? new DvdpTrainer(b, built.unet(), images(set, loader), process, new DdpmTrainer.Config(run.batch, run.seed, sched, settings))
                     : new DdpmTrainer(b, built.unet(), images(set, loader), new DdpmTrainer.Config(run.batch, run.seed, sched, settings)))) {
            if (run.checkpoint != null) {
                trainer.restore(run.checkpoint);
            }
            // Everything is checked and allocated: the run's directory is made only now.
            Files.createDirectories(dir);
            out.println("backend: " + b.id() + " — " + b.description());
            out.printf(Locale.ROOT, "training %s (%,d parameters) on %s (%,d images of %dx%dx%d), batch %d, steps %d..%d, run %s%n",
                    run.model, built.module().parameterCount(), set.getClass().getSimpleName(), set.size(), set.channels(),
                    set.height(), set.width(), run.batch, first, run.steps, dir);
            if (trainer instanceof DvdpTrainer d) {
                out.println("process: " + process.describe() + ", images per stage of a batch: " + Dvdp.join(d.counts()));
            }
            out.flush();
            Log log = new Log(dir.resolve("log.csv"), run.completed, trainer.termNames());
            Progress progress = new Progress(err, first, run.steps);
            long t0 = System.nanoTime();
            double accuracy = Double.NaN;
            for (long s = first; s <= run.steps; s++) {
                float loss = trainer.step(s);
                if (!Float.isFinite(loss)) {
                    throw new IllegalStateException("training diverged: loss " + loss + " at step " + s
                            + " (lower --lr, or keep --clip); the last checkpoint is in " + dir);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                log.row(s, loss, trainer.training().learningRate(), trainer.training().gradNorm(), seconds, trainer);
                progress.update(s, loss, seconds);
                boolean last = s == run.steps;
                if (s % run.checkpointEvery == 0 || last) {
                    log.flush();
                    trainer.training().fetch();
                    Map<String, String> state = run.state(trainer.state(s));
                    Models.Built emaModel = Models.build(run.model, run.options, run.seed);
                    trainer.copyEmaInto(emaModel.module());
                    Map<String, String> meta = new LinkedHashMap<>();
                    meta.put("model", run.model);
                    meta.put("options", Checkpoint.json(built.options()));
                    meta.put("image_size", String.valueOf(run.size));
                    meta.put("trained_steps", String.valueOf(s));
                    boolean extras = run.sampleEvery > 0 && (s % run.sampleEvery == 0 || last);
                    if (classifier) {
                        if (extras) {
                            accuracy = testAccuracy(b, emaModel, run);
                            meta.put("test_accuracy", String.format(Locale.ROOT, "%.4f", accuracy));
                        }
                    } else if (!vae && !wavediff) {
                        meta.put("schedule", sched.name());
                        meta.put("timesteps", String.valueOf(sched.timesteps()));
                        if (process != null) {
                            meta.put("process", "dvdp");
                            meta.put("stages", Dvdp.join(process.stages()));
                            meta.put("switches", Dvdp.join(process.switches()));
                        }
                    }
                    // the EMA weights and the grid first, the checkpoint last: a checkpoint at step s means that
                    // everything of step s is on disk, and a kill before it redoes them on resume
                    ModelWeights.save(emaModel.module(), dir.resolve("ema.safetensors"), meta, true);
                    if (extras && vae) {
                        reconstructionGrid(b, (DeepPrismVae) emaModel.module(), set, run, s);
                    } else if (extras && wavediff) {
                        waveDiffGrid(b, emaModel, run, s);
                    } else if (extras && !classifier) {
                        sampleGrid(b, emaModel, sched, process, run, s);
                    }
                    Checkpoint.write(dir.resolve("checkpoint.safetensors"), run.model, built.options(), state, trainer.states());
                    progress.note("checkpoint at step " + s);
                    if (extras && classifier) {
                        progress.note(String.format(Locale.ROOT, "test accuracy of the EMA weights at step %d: %.2f %%", s, 100 * accuracy));
                    } else if (extras) {
                        progress.note("samples/step-" + s + ".png");
                    }
                }
            }
            log.flush();
            progress.done();
            out.printf(Locale.ROOT, "trained to step %d in %.1f s; EMA weights: %s%n", run.steps, (System.nanoTime() - t0) / 1e9,
                    dir.resolve("ema.safetensors"));
            if (!Double.isNaN(accuracy)) {
                out.printf(Locale.ROOT, "test accuracy of the EMA weights: %.2f %%%n", 100 * accuracy);
            }
        }
        return 0;
    }

    /**
     * Fails before the trainer allocates anything unless training fits in the heap: the trainer's plan
     * ({@link DdpmTrainer#footprint}, {@link ClassifierTrainer#footprint}) at the run's batch, the loaded data
     * set, the background loader's two batches, the EMA copy written at each checkpoint and, for a denoising
     * model, the sampling loop of its grids ({@code --sample-count} images, checked on its own first).
     */
    private void checkHeap(Models.Built built, Run run, DataSet set) {
        int c = set.channels(), h = set.height(), w = set.width();
        String image = c + "x" + h + "x" + w;
        // WaveDiff's training plans have no Footprint yet: its weights, optimiser state and data are checked, not its activations
        Footprint f = built.module() instanceof WaveDiffGenerator ? TrainingStep.stateFootprint(built.module().parameters())
                : built.module() instanceof Classifier k ? ClassifierTrainer.footprint(k, c, h, w)
                : built.module() instanceof DeepPrismVae v ? VaeTrainer.footprint(v, c, h, w) : DdpmTrainer.footprint(built.unet(), c, h, w);
        long[] weights = built.module().parameters().stream().mapToLong(Parameter::numel).toArray();
        long pixels = (long) set.size() * c * h * w;   // one byte each
        long perImage = (long) c * h * w;
        f = f.plus(Footprint.of(weights, new long[weights.length]))
                .plus(Footprint.of(new long[] {(pixels + 3) / 4, 0, 0, 0, 0}, new long[] {0, perImage, perImage, 1, 1}));
        if (!(built.module() instanceof Classifier) && !(built.module() instanceof DeepPrismVae) && !(built.module() instanceof WaveDiffGenerator)
                && run.sampleEvery > 0) {
            UNetDenoiser d = new UNetDenoiser(built.unet(), h, w);
            Footprint grids = SamplingLoop.ownFootprint(d).plus(d.footprint());
            long extra = PngImages.gridBytesPerImage(c, h, w, PngImages.DEFAULT_MARGIN);
            grids.requireHeap("sampleCount", sampleCount, extra, "sampling grids of %s of " + image, h + "x" + w);
            long[] at = grids.arrays(sampleCount);
            f = f.plus(Footprint.of(at, new long[at.length]));
        }
        f.requireHeap("batch", run.batch, 0, "training on batches of %s of " + image + " (with " + set.size() + " images in memory)", h + "x" + w);
    }

    private void sampleGrid(Backend b, Models.Built emaModel, NoiseSchedule sched, Dvdp process, Run run, long step) throws IOException {
        Path samples = run.dir.resolve("samples");
        int size = run.size;
        long seed = run.seed;
        Files.createDirectories(samples);
        int n = sampleCount;
        UNetDenoiser d = new UNetDenoiser(emaModel.unet(), size, size);
        try (DenoiserSampling loop = process == null ? DenoiserSampling.of(new SamplingLoop(b, d, n))
                : DenoiserSampling.of(new DvdpSampling(b, emaModel.unet(), process, n))) {
            Ddim ddim = new Ddim(sched, Math.min(sampleSteps, sched.timesteps()), 0.0, true, Prediction.EPSILON);
            float[] images = loop.sample(ddim, new java.util.SplittableRandom(seed), SamplingProgress.NONE);
            Map<String, String> text = new LinkedHashMap<>();
            text.put("Software", "prism");
            text.put("model", emaModel.name());
            text.put("trained_steps", String.valueOf(step));
            text.put("sampler", ddim.describe());
            text.put("seed", String.valueOf(seed));
            PngImages.writeGrid(samples.resolve(String.format(Locale.ROOT, "step-%07d.png", step)), images, n, d.channels(), size, size,
                    Math.min(8, n), PngImages.DEFAULT_MARGIN, text);
        }
    }

    /** samples/step-N.png of a WaveDiff run: DDGAN's posterior sampling with the EMA generator, then the images. */
    private void waveDiffGrid(Backend b, Models.Built emaModel, Run run, long step) throws IOException {
        Path samples = run.dir.resolve("samples");
        Files.createDirectories(samples);
        WaveDiffGenerator g = emaModel.wavediff();
        WaveDiffDenoiser d = new WaveDiffDenoiser(g);
        DiffusionSampler sampler = WaveDiffSampling.sampler(Integer.parseInt(emaModel.options().get("timesteps")));
        int n = sampleCount, colours = d.channels() / 4, side = 2 * d.height();
        try (SamplingLoop loop = new SamplingLoop(b, d, n)) {
            float[] wavelet = loop.sample(sampler, run.seed, SamplingProgress.NONE);
            float[] images = WaveDiffSampling.toImage(wavelet, n, colours, d.height(), "vh".equals(emaModel.options().get("bands")));
            Map<String, String> text = new LinkedHashMap<>();
            text.put("Software", "prism");
            text.put("model", emaModel.name());
            text.put("trained_steps", String.valueOf(step));
            text.put("sampler", sampler.describe());
            text.put("seed", String.valueOf(run.seed));
            PngImages.writeGrid(samples.resolve(String.format(Locale.ROOT, "step-%07d.png", step)), images, n, colours, side, side,
                    Math.min(8, n), PngImages.DEFAULT_MARGIN, text);
        }
    }

    /**
     * samples/step-N.png of an autoencoder: the first {@code --sample-count} images of the training data in
     * rows of up to 8, each row followed by a row of their reconstructions G(E(x)) (decoded from the latent's
     * mean) by the EMA weights.
     */
    private void reconstructionGrid(Backend b, DeepPrismVae ema, DataSet set, Run run, long step) throws IOException {
        Path samples = run.dir.resolve("samples");
        Files.createDirectories(samples);
        int n = Math.max(1, Math.min(sampleCount, set.size()));
        int c = set.channels(), h = set.height(), w = set.width(), len = set.imageLength();
        float[] x = new float[n * len];
        for (int i = 0; i < n; i++) {
            set.image(i, x, i * len);
        }
        Graph g = new Graph("vae-reconstruct");
        Tensor y = ema.reconstruct(g, Tensor.of(x, n, c, h, w));
        try (Executable e = b.compile(g.addForwardTo(Plan.builder("vae-reconstruct")).inputs(x).outputs(y.data()).build())) {
            e.execute();
        }
        int cols = Math.min(8, n);
        int rows = (n + cols - 1) / cols;
        float[] grid = new float[2 * rows * cols * len];
        java.util.Arrays.fill(grid, -1f);
        for (int i = 0; i < n; i++) {
            int at = (i / cols * 2 * cols + i % cols) * len;
            System.arraycopy(x, i * len, grid, at, len);
            System.arraycopy(y.data(), i * len, grid, at + cols * len, len);
        }
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Software", "prism");
        text.put("model", run.model);
        text.put("trained_steps", String.valueOf(step));
        text.put("rows", "training images, then their reconstructions from the latent's mean (EMA weights)");
        PngImages.writeGrid(samples.resolve(String.format(Locale.ROOT, "step-%07d.png", step)), grid, 2 * rows * cols, c, h, w,
                cols, PngImages.DEFAULT_MARGIN, text);
    }

    /** The accuracy of a classifier on the test split of the run's data (Fashion-MNIST or a folder of its IDX files). */
    private static double testAccuracy(Backend b, Models.Built model, Run run) {
        DataSet test = openData(run.data, run.channels, run.size, FashionMnist.Split.TEST);
        try (ClassifierFeatures f = new ClassifierFeatures(b, model.classifier(), Math.min(run.batch, test.size()), run.size, run.size)) {
            return ClassifierFeatures.accuracy(f.extract(ClassifierFeatures.of(test), test.size(), null), test);
        }
    }

    static NoiseSchedule schedule(String name, int t) {
        if (t < 2 || t > NoiseSchedule.MAX_TIMESTEPS) {
            throw new IllegalArgumentException("--timesteps expected 2 to " + NoiseSchedule.MAX_TIMESTEPS + ", found " + t);
        }
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "linear" -> NoiseSchedule.linear(t);
            case "cosine" -> NoiseSchedule.cosine(t);
            default -> throw new IllegalArgumentException("--schedule expected linear or cosine, found '" + name + "'");
        };
    }

    static DataSet openData(String data, int channels, int size) {
        return openData(data, channels, size, FashionMnist.Split.TRAIN);
    }

    /**
     * {@code fashion-mnist} (the installed data set), a directory of Fashion-MNIST IDX files (one holding
     * {@code train-images-idx3-ubyte} or its {@code .gz}), or a directory of images; {@code split} chooses
     * the part of the IDX files.
     */
    static DataSet openData(String data, int channels, int size, FashionMnist.Split split) {
        Path dir = data.equals("fashion-mnist") ? FashionMnist.DEFAULT_DIRECTORY : Path.of(data);
        if (data.equals("fashion-mnist") || isIdxFolder(dir)) {
            if (channels != 1) {
                throw new IllegalArgumentException("--channels: Fashion-MNIST is grey, expected 1, found " + channels);
            }
            return FashionMnist.load(dir, split, size);
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--data expected fashion-mnist or a directory of images, found '" + data + "'"
                    + (Files.exists(dir) ? " (not a directory)" : " (no such directory)"));
        }
        return ImageFolder.load(dir, channels, size);
    }

    /** Whether {@code dir} holds Fashion-MNIST's training images as an IDX file (gzipped or not). */
    static boolean isIdxFolder(Path dir) {
        return Files.isRegularFile(dir.resolve("train-images-idx3-ubyte.gz")) || Files.isRegularFile(dir.resolve("train-images-idx3-ubyte"));
    }

    /** The trainer's images, from the background loader: the batch of step s is the loader's next. */
    private static DdpmTrainer.ImageSource images(DataSet set, BatchLoader loader) {
        return new DdpmTrainer.ImageSource() {
            public int channels() {
                return set.channels();
            }

            public int height() {
                return set.height();
            }

            public int width() {
                return set.width();
            }

            public void fill(long step, float[] x0) {
                long got = loader.next(x0, null);
                if (got != step) {
                    throw new IllegalStateException("batch loader delivered step " + got + " for step " + step);
                }
            }
        };
    }

    /** The classifier's images and labels, from the background loader: the batch of step s is the loader's next. */
    private static ClassifierTrainer.LabelledImages labelled(DataSet set, BatchLoader loader, int batch) {
        int[] classes = new int[batch];
        return new ClassifierTrainer.LabelledImages() {
            public int channels() {
                return set.channels();
            }

            public int height() {
                return set.height();
            }

            public int width() {
                return set.width();
            }

            public void fill(long step, float[] images, float[] labels) {
                long got = loader.next(images, classes);
                if (got != step) {
                    throw new IllegalStateException("batch loader delivered step " + got + " for step " + step);
                }
                for (int i = 0; i < classes.length; i++) {
                    labels[i] = classes[i];
                }
            }
        };
    }

    /**
     * Builds the trainer; running out of heap while its plans allocate (WaveDiff's have no footprint model to check them
     * before) is a refusal naming --batch and the heap, before the run's directory exists, not an OutOfMemoryError.
     */
    static Trainer withinHeap(Run run, java.util.function.Supplier<Trainer> build) {
        try {
            return build.get();
        } catch (OutOfMemoryError e) {
            throw new ArgumentException("batch", "expected a batch whose training plans fit the heap (" + Heap.format(Heap.max())
                    + ", -Xmx), found " + run.batch + ": building the " + run.model + " training step ran out of it; lower --batch or raise"
                    + " -Xmx (PRISM_JAVA_OPTS=-Xmx...)");
        }
    }

    /** The options a checkpoint records, which --resume refuses. */
    static final List<String> RUN_SETTINGS = List.of("--init", "--teacher", "--lambda-spatial", "--lambda-freq", "--freq-alpha", "--feature-levels",
            "--model", "--config", "--data", "--channels", "--size", "--batch", "--lr",
            "--lr-decay", "--warmup", "--min-lr-ratio", "--weight-decay", "--clip", "--ema", "--schedule", "--timesteps", "--process", "--stages",
            "--switch-kl", "--kl-weight", "--seed", "--d-lr", "--r1-gamma", "--lazy-reg", "--rec-weight", "--disc",
            "--checkpoint-every", "--sample-every", "--sample-count", "--sample-steps");

    /** A run's settings: from the command line for a new run, from the checkpoint's state on resume. */
    static final class Run {
        Path dir;
        String model;
        Map<String, String> options;
        String data;
        int channels;
        int size;
        long steps;
        int batch;
        double lr;
        String lrDecay;
        long warmup;
        double minLrRatio;
        double weightDecay;
        double clip;
        double ema;
        String schedule;
        int timesteps;
        double klWeight;
        String process;
        int[] stages;
        double switchKl;
        /** dvdp: the switch steps a checkpoint records (null for a new run: found from the data). */
        int[] switches;
        long seed;
        long checkpointEvery;
        long sampleEvery;
        long completed;
        Path init;
        Path teacher;
        double lambdaSpatial;
        double lambdaFreq;
        double freqAlpha;
        /** The matched feature levels; null: every level both networks have. */
        int[] featureLevels;
        /** wavediff: the discriminator's learning rate, the R1 weight, the reconstruction weight, its options. */
        double dLr;
        double r1Gamma;
        double recWeight;
        int lazyReg = 1;
        Map<String, String> disc;
        Checkpoint.Contents checkpoint;

        static Run fresh(TrainCommand c) throws IOException {
            if (c.out == null) {
                throw new IllegalArgumentException("--out RUN (a new run) or --resume RUN (continue one) is needed");
            }
            if (c.data == null) {
                throw new IllegalArgumentException("--data is needed for a new run: fashion-mnist or a directory of images");
            }
            if (c.steps == null) {
                throw new IllegalArgumentException("--steps is needed for a new run");
            }
            if (Files.exists(c.out) && !(Files.isDirectory(c.out) && isEmpty(c.out))) {
                throw new IllegalArgumentException("--out " + c.out + " exists and is not an empty directory (use --resume to continue a run)");
            }
            // the run's directory is made once everything is checked and allocated: where it will go is checked now
            Path existing = c.out.toAbsolutePath();
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            dev.prism.io.OutputFiles.checkDirectory("--out " + c.out + ": directory", existing);
            Run r = new Run();
            r.dir = c.out;
            r.model = c.model;
            r.options = new LinkedHashMap<>(Models.parseOptions(c.config));
            if (c.init != null) {
                r.init = c.init;
                r.model = initModel(c, r.options);
            }
            r.teacher = c.teacher;
            r.lambdaSpatial = c.lambdaSpatial;
            r.lambdaFreq = c.lambdaFreq;
            r.freqAlpha = c.freqAlpha;
            r.featureLevels = DistillCommand.featureLevels("--feature-levels", c.featureLevels);
            r.data = c.data;
            r.channels = c.channels;
            r.size = c.size;
            r.steps = c.steps;
            r.batch = c.batch;
            r.lr = c.lr;
            r.lrDecay = c.lrDecay;
            r.warmup = c.warmup;
            r.minLrRatio = c.minLrRatio;
            r.weightDecay = c.weightDecay;
            r.clip = c.clip;
            r.ema = c.ema;
            r.schedule = c.schedule;
            r.timesteps = c.timesteps;
            r.klWeight = c.klWeight;
            r.process = c.process.toLowerCase(Locale.ROOT);
            if (!r.process.equals("ddpm") && !r.process.equals("dvdp")) {
                throw new IllegalArgumentException("--process expected ddpm or dvdp, found '" + c.process + "'");
            }
            if (r.process.equals("dvdp") != (c.stages != null)) {
                throw new IllegalArgumentException(c.stages != null ? "--stages applies to --process dvdp"
                        : "--process dvdp needs --stages (the sides of its stages, the image size first, e.g. 32,16,8)");
            }
            if (c.stages != null) {
                r.stages = Dvdp.parse("--stages", c.stages);
                if (r.stages.length == 0 || r.stages[0] != c.size) {
                    throw new IllegalArgumentException("--stages expected the image size (--size " + c.size + ") first, found '" + c.stages + "'");
                }
                try {
                    Dvdp.checkStages(r.stages);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--stages expected strictly decreasing sides >= 1, found '" + c.stages + "'", e);
                }
            }
            if (!(c.switchKl > 0) || Double.isInfinite(c.switchKl)) {
                throw new IllegalArgumentException("--switch-kl expected a finite number > 0, found " + c.switchKl);
            }
            if (!r.process.equals("dvdp") && c.spec.commandLine().getParseResult().hasMatchedOption("--switch-kl")) {
                throw new IllegalArgumentException("--switch-kl applies to --process dvdp");
            }
            r.switchKl = c.switchKl;
            r.dLr = c.dLr;
            r.r1Gamma = c.r1Gamma;
            r.recWeight = c.recWeight;
            r.lazyReg = c.lazyReg;
            r.disc = new LinkedHashMap<>(Models.parseOptions(c.disc));
            if ("wavediff".equals(r.model)) {
                // the official train_wddgan.py with its run.sh settings for the preset (fmnist: Prism's own); no warm-up, no
                // clipping; each only where its option was not given
                var parsed = c.spec.commandLine().getParseResult();
                WaveDiffRecipe recipe = WaveDiffRecipe.of(r.options.getOrDefault("preset", "cifar10"));
                r.lr = parsed.hasMatchedOption("--lr") ? c.lr : recipe.lrG();
                r.dLr = parsed.hasMatchedOption("--d-lr") ? c.dLr : recipe.lrD();
                r.r1Gamma = parsed.hasMatchedOption("--r1-gamma") ? c.r1Gamma : recipe.r1Gamma();
                r.lazyReg = parsed.hasMatchedOption("--lazy-reg") ? c.lazyReg : recipe.lazyReg();
                r.ema = parsed.hasMatchedOption("--ema") ? c.ema : recipe.ema();
                r.warmup = parsed.hasMatchedOption("--warmup") ? c.warmup : 0;
                r.clip = parsed.hasMatchedOption("--clip") ? c.clip : 0;
                Map<String, String> disc = recipe.disc();
                disc.putAll(r.disc);
                r.disc = disc;
            }
            r.seed = c.seed;
            r.checkpointEvery = c.checkpointEvery;
            r.sampleEvery = c.sampleEvery;
            r.check();
            return r;
        }

        /**
         * The model named by the metadata of {@code --init}'s weights; fills {@code options} from it. Only the header is read
         * here; the weights are loaded into the built model.
         */
        private static String initModel(TrainCommand c, Map<String, String> options) throws IOException {
            for (String name : List.of("--model", "--config")) {
                if (c.spec.commandLine().getParseResult().hasMatchedOption(name)) {
                    throw new IllegalArgumentException(name + ": with --init the model and its options come from the weights' metadata");
                }
            }
            if (!Files.isRegularFile(c.init)) {
                throw new IllegalArgumentException("--init " + c.init + ": no such file");
            }
            Map<String, String> meta;
            try (dev.prism.nn.io.WeightFile wf = WeightFiles.open(c.init)) {
                meta = wf.metadata();
            }
            String model = meta.get("model");
            if (model == null) {
                throw new IllegalArgumentException("--init " + c.init + ": the file does not say which model it holds (no 'model' metadata)");
            }
            options.putAll(Models.fromJson(meta.get("options")));
            return model;
        }

        static Run resume(TrainCommand c, Path dir) throws IOException {
            if (c.out != null) {
                throw new IllegalArgumentException("--out and --resume exclude each other: a resumed run stays in its directory");
            }
            // a resumed run keeps the settings its checkpoint records; silently ignoring others would mislead
            for (String name : RUN_SETTINGS) {
                if (c.spec.commandLine().getParseResult().hasMatchedOption(name)) {
                    throw new IllegalArgumentException(name + ": a resumed run keeps the settings in its checkpoint; with --resume"
                            + " only --steps (to train further) and the backend options may be given");
                }
            }
            Path file = dir.resolve("checkpoint.safetensors");
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--resume " + dir + ": no checkpoint.safetensors in it");
            }
            for (Path d : new Path[] {dir, dir.resolve("samples")}) {
                List<String> removed = AtomicWrite.removeLeftovers(d);
                if (!removed.isEmpty()) {
                    c.spec.commandLine().getErr().println("removed the partial file(s) of a write the last run did not finish: "
                            + String.join(", ", removed) + " (in " + d + ")");
                }
            }
            Checkpoint.Contents head = Checkpoint.header(file);
            Map<String, String> s = head.state();
            Run r = new Run();
            r.dir = dir;
            r.model = head.model();
            r.options = new LinkedHashMap<>(head.options());
            r.data = s.get("data");
            r.channels = integer(s, "channels", file);
            r.size = integer(s, "size", file);
            r.steps = c.steps != null ? c.steps : number(s, "steps", file);
            r.batch = integer(s, "batch", file);
            r.lr = real(s, "lr", file);
            r.lrDecay = s.get("lr_decay");
            r.warmup = number(s, "warmup", file);
            r.minLrRatio = real(s, "min_lr_ratio", file);
            r.weightDecay = real(s, "weight_decay", file);
            r.clip = real(s, "clip", file);
            r.ema = real(s, "ema", file);
            boolean vae = "deepprism-vae".equals(head.model());
            boolean wavediff = "wavediff".equals(head.model());
            boolean denoising = !"classifier".equals(head.model()) && !vae && !wavediff;
            if (wavediff) {
                r.dLr = real(s, "d_lr", file);
                r.r1Gamma = real(s, "r1_gamma", file);
                r.recWeight = real(s, "rec_weight", file);
                // checkpoints written before --lazy-reg existed computed R1 every iteration
                r.lazyReg = s.containsKey("lazy_reg") ? integer(s, "lazy_reg", file) : 1;
                r.disc = new LinkedHashMap<>(Models.parseOptions(List.of(value(s, "disc", file).split(","))));
            }
            r.schedule = denoising ? s.get("schedule") : c.schedule;
            r.timesteps = denoising ? integer(s, "timesteps", file) : c.timesteps;
            r.klWeight = vae ? real(s, "kl_weight", file) : c.klWeight;
            r.process = s.getOrDefault("process", "ddpm");
            if (r.process.equals("dvdp")) {
                r.stages = Dvdp.parse(file + ": state 'stages'", value(s, "stages", file));
                r.switches = Dvdp.parse(file + ": state 'switches'", value(s, "switches", file));
            }
            r.seed = number(s, "seed", file);
            r.checkpointEvery = number(s, "checkpoint_every", file);
            r.sampleEvery = number(s, "sample_every", file);
            r.completed = number(s, "step", file);
            if (s.containsKey("teacher")) {
                r.teacher = Path.of(s.get("teacher"));
                r.lambdaSpatial = real(s, "lambda_spatial", file);
                r.lambdaFreq = real(s, "lambda_freq", file);
                r.freqAlpha = real(s, "freq_alpha", file);
                // a checkpoint from before feature matching matched the outputs only
                r.featureLevels = DistillCommand.featureLevels(file + ": state 'feature_levels'", s.getOrDefault("feature_levels", "none"));
            }
            r.check();
            if (r.completed >= r.steps) {
                throw new IllegalArgumentException("--resume " + dir + ": the run is complete at step " + r.completed
                        + "; give --steps N with N > " + r.completed + " to train further");
            }
            Models.Built m = Models.build(r.model, r.options, r.seed);
            Map<String, int[]> shapes = new LinkedHashMap<>(m.module().expectedShapes());
            if (wavediff) {
                shapes.putAll(r.discriminator(m.wavediff()).expectedShapes());
            }
            if (r.teacher != null) {
                // the distillation's alignment convolutions are checkpointed with the student
                shapes.putAll(new FeatureAlignment(m.unet(), DistillCommand.teacher(r.teacher).unet(), r.featureLevels).expectedShapes());
            }
            r.checkpoint = Checkpoint.read(file, shapes);
            return r;
        }

        void check() {
            if (steps < 1) {
                throw new IllegalArgumentException("--steps expected >= 1, found " + steps);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("--batch expected >= 1, found " + batch);
            }
            if (size < 1) {
                throw new IllegalArgumentException("--size expected >= 1, found " + size);
            }
            if (channels != 1 && channels != 3) {
                throw new IllegalArgumentException("--channels expected 1 or 3, found " + channels);
            }
            if (checkpointEvery < 1) {
                throw new IllegalArgumentException("--checkpoint-every expected >= 1, found " + checkpointEvery);
            }
            if (sampleEvery < 0) {
                throw new IllegalArgumentException("--sample-every expected >= 0, found " + sampleEvery);
            }
            if (sampleEvery > 0 && sampleEvery % checkpointEvery != 0) {
                throw new IllegalArgumentException("--sample-every expected a multiple of --checkpoint-every (" + checkpointEvery
                        + "; grids are drawn from the checkpoint's EMA weights), found " + sampleEvery);
            }
        }

        /**
         * The DVDP process of this run: a resumed run's from its checkpoint; a new run's switch steps from the mean
         * power of each DCT coefficient over the training images ({@link Dvdp#fromPower}, --switch-kl).
         */
        Dvdp dvdp(NoiseSchedule sched, DataSet set, Models.Built built) {
            Dvdp p;
            if (switches != null) {
                p = new Dvdp(sched, set.channels(), stages, switches);
            } else {
                int per = set.imageLength(), chunk = Math.min(set.size(), 1000);
                double[] power = new double[per];
                float[] x = new float[chunk * per];
                for (int from = 0; from < set.size(); from += chunk) {
                    int count = Math.min(chunk, set.size() - from);
                    for (int i = 0; i < count; i++) {
                        set.image(from + i, x, i * per);
                    }
                    double[] part = Dvdp.power(x, count, set.channels(), size);
                    for (int e = 0; e < per; e++) {
                        power[e] += part[e] * count / set.size();
                    }
                }
                try {
                    p = Dvdp.fromPower(sched, set.channels(), stages, power, switchKl);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--stages " + Dvdp.join(stages) + " with --switch-kl " + switchKl + ": " + e.getMessage(), e);
                }
            }
            try {
                DvdpSampling.checkFits(built.unet(), p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--stages: " + e.getMessage(), e);
            }
            return p;
        }

        /** The checkpoint's state: the trainer's, and what this command needs to resume. */
        Map<String, String> state(Map<String, String> trainer) {
            Map<String, String> m = new LinkedHashMap<>(trainer);
            if (!"classifier".equals(model) && !"deepprism-vae".equals(model) && !"wavediff".equals(model)) {
                m.put("schedule", schedule);
            }
            if ("wavediff".equals(model)) {
                m.put("disc", String.join(",", disc.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
            }
            m.put("seed", String.valueOf(seed));
            if (init != null) {
                m.put("init", init.toString());
            }
            if (teacher != null) {
                m.put("teacher", teacher.toString());
            }
            m.put("data", data);
            m.put("channels", String.valueOf(channels));
            m.put("size", String.valueOf(size));
            m.put("steps", String.valueOf(steps));
            m.put("checkpoint_every", String.valueOf(checkpointEvery));
            m.put("sample_every", String.valueOf(sampleEvery));
            return m;
        }

        /**
         * The discriminator of a wavediff run, named {@code netD.*} and initialised from the run's seed: its options (a fresh
         * run's come from {@link WaveDiffRecipe} and {@code --disc}) over ngf 32, temb 128, layers 3, kind small, on the
         * generator's coefficients.
         */
        WaveDiffDiscriminator discriminator(WaveDiffGenerator g) {
            Map<String, String> o = new LinkedHashMap<>();
            o.put("ngf", "32");
            o.put("temb", "128");
            o.put("layers", "3");
            o.put("kind", "small"); // a checkpoint without it was written when small was the only default
            for (var e : disc.entrySet()) {
                if (!o.containsKey(e.getKey())) {
                    throw new IllegalArgumentException("--disc: unknown option '" + e.getKey() + "', expected kind, ngf, temb or layers");
                }
                o.put(e.getKey(), e.getValue());
            }
            disc = o;
            int[] v = new int[3];
            String[] keys = {"ngf", "temb", "layers"};
            for (int i = 0; i < 3; i++) {
                try {
                    v[i] = Integer.parseInt(o.get(keys[i]).trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--disc " + keys[i] + " expected an integer, found '" + o.get(keys[i]) + "'");
                }
            }
            String kind = o.get("kind").trim();
            if (!kind.equals("small") && !kind.equals("large")) {
                throw new IllegalArgumentException("--disc kind expected small or large, found '" + kind + "'");
            }
            WaveDiffGenerator.Config gc = g.config();
            WaveDiffDiscriminator d;
            try {
                d = WaveDiffDiscriminator.named("netD", new WaveDiffDiscriminator.Config(gc.channels(), gc.size(), v[0], v[1], v[2],
                        kind.equals("large")));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--disc: " + e.getMessage(), e);
            }
            d.initialise(seed ^ 0x5DEECE66DL);
            return d;
        }

        private static boolean isEmpty(Path dir) throws IOException {
            try (var s = Files.list(dir)) {
                return s.findAny().isEmpty();
            }
        }

        private static String value(Map<String, String> s, String key, Path file) {
            String v = s.get(key);
            if (v == null) {
                throw new IllegalArgumentException(file + ": the checkpoint's state lacks '" + key + "'");
            }
            return v;
        }

        private static long number(Map<String, String> s, String key, Path file) {
            try {
                return Long.parseLong(value(s, key, file));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": state '" + key + "' expected an integer, found '" + s.get(key) + "'");
            }
        }

        private static int integer(Map<String, String> s, String key, Path file) {
            return Math.toIntExact(number(s, key, file));
        }

        private static double real(Map<String, String> s, String key, Path file) {
            try {
                return Double.parseDouble(value(s, key, file));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": state '" + key + "' expected a number, found '" + s.get(key) + "'");
            }
        }
    }

    /** log.csv: one row per step; on resume, rows after the checkpoint's step are dropped first. */
    static final class Log {
        private final Path file;
        private final StringBuilder pending = new StringBuilder();

        Log(Path file, long completed, List<String> terms) throws IOException {
            this.file = file;
            List<String> keep = new ArrayList<>();
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.startsWith("step")) {
                        keep.add(line);
                        continue;
                    }
                    int comma = line.indexOf(',');
                    try {
                        if (comma > 0 && Long.parseLong(line.substring(0, comma)) <= completed) {
                            keep.add(line);
                        }
                    } catch (NumberFormatException e) {
                        // a line cut off by a kill: dropped
                    }
                }
            }
            if (keep.isEmpty()) {
                keep.add("step,loss,lr,grad_norm,seconds" + (terms.isEmpty() ? "" : "," + String.join(",", terms)));
            }
            Files.write(file, keep, StandardCharsets.UTF_8);
        }

        void row(long step, float loss, double lr, float gradNorm, double seconds, Trainer trainer) {
            pending.append(step).append(',').append(loss).append(',').append((float) lr).append(',').append(gradNorm).append(',')
                    .append(String.format(Locale.ROOT, "%.3f", seconds));
            for (int i = 0; i < trainer.termNames().size(); i++) {
                pending.append(',').append(trainer.term(i));
            }
            pending.append('\n');
            if (pending.length() > 1 << 14) {
                flush();
            }
        }

        void flush() {
            try {
                Files.writeString(file, pending, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
                pending.setLength(0);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** A progress bar on a terminal, plain lines (every 1 % or 30 s) otherwise. */
    static final class Progress {
        private final PrintWriter err;
        private final long first;
        private final long last;
        private final boolean terminal = System.console() != null && System.console().isTerminal();
        private long lastLine;
        private double lastSeconds;

        Progress(PrintWriter err, long first, long last) {
            this.err = err;
            this.first = first;
            this.last = last;
        }

        void update(long step, float loss, double seconds) {
            long done = step - first + 1;
            double rate = done / Math.max(seconds, 1e-9);
            double eta = (last - step) / rate;
            String line = String.format(Locale.ROOT, "step %d/%d  loss %.4f  %.2f steps/s  ETA %s", step, last, loss, rate, time(eta));
            if (terminal) {
                int width = 24;
                int filled = (int) (width * (step - first + 1) / Math.max(1, last - first + 1));
                err.print("\r[" + "=".repeat(filled) + " ".repeat(width - filled) + "] " + line + "   ");
                err.flush();
            } else if (step == first || step == last || step - lastLine >= Math.max(1, (last - first + 1) / 100) || seconds - lastSeconds >= 30) {
                err.println(line);
                err.flush();
                lastLine = step;
                lastSeconds = seconds;
            }
        }

        void note(String what) {
            if (terminal) {
                err.println();
            }
            err.println(what);
            err.flush();
        }

        void done() {
            if (terminal) {
                err.println();
                err.flush();
            }
        }

        static String time(double s) {
            if (!Double.isFinite(s)) {
                return "?";
            }
            long t = Math.round(s);
            return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, t / 60 % 60)
                    : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
        }
    }
}
