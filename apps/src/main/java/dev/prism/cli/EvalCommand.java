package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SeededNoise;
import dev.prism.diffusion.WaveDiffDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.data.Batches;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.eval.FeatureStatistics;
import dev.prism.diffusion.eval.FrechetDistance;
import dev.prism.nn.Heap;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.SafetensorsFile;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.models.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code prism eval}: the sample-quality metric. The Fréchet distance between the classifier features of N
 * generated images and of the test set, beside the same distance for N training images (the floor) and N
 * images of uniform noise (the ceiling).
 */
@Command(name = "eval", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Measure a denoising model's samples (or WaveDiff's generator's, --model wavediff): generate N images, take the penultimate features of a Fashion-MNIST "
        + "classifier (the bundled one unless --classifier) for them and for the test set, and print the Fréchet distance "
        + "between the two Gaussians fitted to them, |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with N, seed, sampler and "
        + "steps; then the same distance for N training images (the floor: what a perfect model would score with N samples) "
        + "and for N images of uniform noise in [-1, 1] (the ceiling). Lower is better. Progress goes to stderr.")
final class EvalCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, LibraryNames.BACKEND, Map.of("size", "--size", "batch", "--batch", "samples", "--samples"));
    }

    /** The classifier shipped with Prism, trained by Prism on Fashion-MNIST at 32×32 (docs/TRAINING.md). */
    static final String BUNDLED_CLASSIFIER = "/dev/prism/models/fmnist-classifier.safetensors";
    /** Keeps the ceiling's noise apart from the samples' seeds drawn from the same --seed ("NOISE"). */
    private static final long NOISE_STREAM = 0x4E4F495345L;

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Mixin
    DenoiserOptions model;

    @Option(names = "--samples", defaultValue = "1000", paramLabel = "N", description = "Images to generate and compare (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seed", defaultValue = "0",
            description = "Seed of the samples' noise (sample j is image j of prism sample --seed S, whatever --batch), of the training "
            + "images chosen for the floor and of the noise images (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch", defaultValue = "50", paramLabel = "B", description = "Images per sampling run and per classifier pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--classifier", paramLabel = "FILE", description = "Classifier weights (model classifier; default: the bundled Fashion-MNIST classifier).")
    Path classifier;

    @Option(names = "--data", defaultValue = "fashion-mnist", paramLabel = "fashion-mnist|DIR",
            description = "The real images: fashion-mnist (Debian's dataset-fashion-mnist) or a folder of Fashion-MNIST IDX files; "
            + "its test split is the reference, its training split the floor (default: ${DEFAULT-VALUE}).")
    String data;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        // Everything the user typed is checked before a weight is read or an image is made.
        if (samples < 2) {
            throw new IllegalArgumentException("--samples expected >= 2 (a covariance needs two images), found " + samples);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch expected >= 1, found " + batch);
        }
        model.checkWeights();
        if (classifier != null && !Files.isRegularFile(classifier)) {
            throw new IllegalArgumentException("--classifier " + classifier + ": no such file");
        }
        if (!data.equals("fashion-mnist") && !TrainCommand.isIdxFolder(Path.of(data))) {
            throw new IllegalArgumentException("--data expected fashion-mnist or a folder of Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz], "
                    + "train-labels-..., t10k-images-..., t10k-labels-...), found '" + data + "'");
        }
        if (model.isWaveDiff()) {
            return evalWaveDiff(out, err, start);
        }
        NoiseSchedule sched = model.schedule();
        DiffusionSampler sampler = model.sampler(sched);
        DenoiserOptions.Loaded loaded = model.load(Math.min(batch, samples), d -> 0);
        Dvdp process = model.dvdp(loaded, sched);
        int ch = loaded.denoiser().channels(), h = loaded.height(), w = loaded.width();
        Judge judge = judgeFor(ch, h, w);
        Classifier c = judge.model();
        DataSet test = TrainCommand.openData(data, ch, h, FashionMnist.Split.TEST);
        DataSet train = TrainCommand.openData(data, ch, h, FashionMnist.Split.TRAIN);
        int b = Math.min(batch, samples);

        try (Backend be = backend.open(PrismConfig.load());
             ClassifierFeatures features = new ClassifierFeatures(be, c, b, h, w)) {
            out.println("backend: " + be.id() + " — " + be.description());
            out.printf(Locale.ROOT, "classifier: %s (%d features)%n", judge.what(), c.config().hidden());
            out.printf(Locale.ROOT, "model: %s (%,d parameters) from %s, %dx%dx%d, schedule %s%n", loaded.name(),
                    loaded.built().module().parameterCount(), model.weightsName(), ch, h, w, sched.name());
            out.flush();
            FeatureStatistics reference = features.extract(ClassifierFeatures.of(test), test.size(),
                    new Progress(err, "features of the test set", test.size())::batch).statistics();

            long t1 = System.nanoTime();
            try (DenoiserSampling loop = model.open(be, loaded, sched, b)) {
                int per = ch * h * w;
                // Sample j draws its noise from the j-th split of the seed's generator, as image j of one batch of
                // prism sample --seed S would, whatever --batch is (the extractor asks for the images in order).
                SplittableRandom root = new SplittableRandom(seed);
                Progress sampling = new Progress(err, "samples", samples);
                ClassifierFeatures.Images generated = (first, count, dst) -> {
                    float[] images = loop.sample(sampler, root,
                            step -> sampling.step(first, count, step.index() + 1, step.steps()));
                    System.arraycopy(images, 0, dst, 0, count * per);
                };
                FeatureStatistics gen = features.extract(generated, samples, sampling::batch).statistics();
                double fd = FrechetDistance.between(gen, reference);

                long t2 = System.nanoTime();
                double[] bounds = floorAndCeiling(features, train, samples, b, seed, per, reference, err);
                double floor = bounds[0];
                double ceiling = bounds[1];

                out.printf(Locale.ROOT, "reference: the %d test images of %s at %dx%d%n", test.size(), data, h, w);
                out.printf(Locale.ROOT, "FD %10.2f  samples: N %d, seed %d, sampler %s, steps %d (%.1f s)%n", fd, samples, seed,
                        sampler.describe() + (process == null ? "" : " under " + process.describe()), sampler.steps(), (t2 - t1) / 1e9);
                out.println("sampling " + loop.cost(sampler));
                out.printf(Locale.ROOT, "FD %10.2f  floor: N %d training images (seed %d)%n", floor, samples, seed);
                out.printf(Locale.ROOT, "FD %10.2f  ceiling: N %d images of uniform noise in [-1, 1] (seed %d)%n", ceiling, samples, seed);
                out.printf(Locale.ROOT, "%.1f s in all%n", (System.nanoTime() - start) / 1e9);
            }
        }
        return 0;
    }

    /**
     * The classifier for images of {@code ch × h × w}, checked to fit them, and the heap for the features of all samples,
     * which are held at once (then reduced to their statistics), checked before any is made.
     */
    private Judge judgeFor(int ch, int h, int w) throws IOException {
        Judge judge = loadClassifier(classifier);
        checkFits(judge, ch, h, w);
        int dim = judge.model().config().hidden(), classes = judge.model().config().classes();
        Heap.require("samples", samples, "the features of " + samples + " images (" + dim + " features and " + classes + " logits each)",
                Heap.floatArraysBytes((long) samples * dim, (long) samples * classes));
        return judge;
    }

    /**
     * The metric for WaveDiff's generator: DDGAN's posterior sampling, then the image (x2, inverse Haar, clamp), sample j
     * being image j of {@code prism sample --model wavediff --seed S} whatever --batch (noise and latents from two roots
     * split per image, as the sampling loop seeds them).
     */
    private int evalWaveDiff(PrintWriter out, PrintWriter err, long start) throws IOException {
        DenoiserOptions.WaveDiffLoaded loaded = model.loadWaveDiff();
        WaveDiffDenoiser d = new WaveDiffDenoiser(loaded.generator());
        DiffusionSampler sampler = loaded.sampler();
        boolean vh = "vh".equals(loaded.built().options().get("bands"));
        int ch = d.channels() / 4, side = 2 * d.height();
        Judge judge = judgeFor(ch, side, side);
        Classifier c = judge.model();
        int dim = c.config().hidden();
        DataSet test = TrainCommand.openData(data, ch, side, FashionMnist.Split.TEST);
        DataSet train = TrainCommand.openData(data, ch, side, FashionMnist.Split.TRAIN);
        int b = Math.min(batch, samples);
        SamplingLoop.checkHeap(d, b, 0);
        try (Backend be = backend.open(PrismConfig.load());
             ClassifierFeatures features = new ClassifierFeatures(be, c, b, side, side);
             SamplingLoop loop = new SamplingLoop(be, d, b)) {
            out.println("backend: " + be.id() + " — " + be.description());
            out.printf(Locale.ROOT, "classifier: %s (%d features)%n", judge.what(), dim);
            out.printf(Locale.ROOT, "model: wavediff (%,d parameters) from %s, %dx%dx%d (Haar coefficients %dx%dx%d)%n",
                    loaded.built().module().parameterCount(), model.weightsName(), ch, side, side, d.channels(), d.height(), d.width());
            out.flush();
            FeatureStatistics reference = features.extract(ClassifierFeatures.of(test), test.size(),
                    new Progress(err, "features of the test set", test.size())::batch).statistics();
            long t1 = System.nanoTime();
            SplittableRandom noiseRoot = new SplittableRandom(seed), latentRoot = new SplittableRandom(seed + SamplingLoop.LATENT_SEED_OFFSET);
            int perWavelet = d.channels() * d.height() * d.width(), per = ch * side * side;
            Progress sampling = new Progress(err, "samples", samples);
            ClassifierFeatures.Images generated = (first, count, dst) -> {
                float[] wavelet = loop.sample(sampler, new SeededNoise(noiseRoot, b, perWavelet), new SeededNoise(latentRoot, b, d.latentSize()),
                        step -> sampling.step(first, count, step.index() + 1, step.steps()));
                float[] images = WaveDiffSampling.toImage(wavelet, b, ch, d.height(), vh);
                System.arraycopy(images, 0, dst, 0, count * per);
            };
            FeatureStatistics gen = features.extract(generated, samples, sampling::batch).statistics();
            double fd = FrechetDistance.between(gen, reference);
            long t2 = System.nanoTime();
            double[] bounds = floorAndCeiling(features, train, samples, b, seed, per, reference, err);
            out.printf(Locale.ROOT, "reference: the %d test images of %s at %dx%d%n", test.size(), data, side, side);
            out.printf(Locale.ROOT, "FD %10.2f  samples: N %d, seed %d, sampler %s, steps %d (%.1f s, %.2f ms per image)%n", fd, samples, seed,
                    sampler.describe(), sampler.steps(), (t2 - t1) / 1e9, (t2 - t1) / 1e6 / samples);
            out.printf(Locale.ROOT, "FD %10.2f  floor: N %d training images (seed %d)%n", bounds[0], samples, seed);
            out.printf(Locale.ROOT, "FD %10.2f  ceiling: N %d images of uniform noise in [-1, 1] (seed %d)%n", bounds[1], samples, seed);
            out.printf(Locale.ROOT, "%.1f s in all%n", (System.nanoTime() - start) / 1e9);
        }
        return 0;
    }

    /**
     * Progress of one phase on stderr: a line at most every 5 s while it runs (with the sampling step inside a
     * batch when sampling), and one at its end.
     */
    static final class Progress {
        private static final long EVERY = 5_000_000_000L;
        private final PrintWriter err;
        private final String what;
        private final int total;
        private final long start = System.nanoTime();
        private long last = start;

        Progress(PrintWriter err, String what, int total) {
            this.err = err;
            this.what = what;
            this.total = total;
        }

        /** Images {@code 0 .. done − 1} are finished. */
        void batch(int done) {
            if (done == total || System.nanoTime() - last > EVERY) {
                line(done, done, "");
            }
        }

        /** Sampling step {@code step} of {@code steps} of the batch of images {@code first .. first + count − 1} is done. */
        void step(int first, int count, int step, int steps) {
            if (step < steps && System.nanoTime() - last > EVERY) {
                line(first, first + (double) count * step / steps, String.format(Locale.ROOT, " (step %d/%d of images %d-%d)", step,
                        steps, first + 1, first + count));
            }
        }

        private void line(int done, double progress, String detail) {
            long now = System.nanoTime();
            last = now;
            double s = (now - start) / 1e9;
            err.printf(Locale.ROOT, "%s: %d/%d%s  %.1f s%s%n", what, done, total, detail, s, progress < total && progress > 0
                    ? "  ETA " + TrainCommand.Progress.time(s * (total - progress) / progress) : "");
            err.flush();
        }
    }

    /** A classifier, what it is called in messages, and its weights' metadata (image_size, test_accuracy, ...). */
    record Judge(Classifier model, String what, Map<String, String> metadata) {
        /** The side of the images it was trained on, or null when not recorded. */
        String imageSize() {
            return metadata.get("image_size");
        }
    }

    /**
     * The classifier of {@code file} (weights with {@code model = classifier} and its options as metadata), or
     * the bundled one when {@code file} is null.
     */
    static Judge loadClassifier(Path file) throws IOException {
        if (file != null) {
            try (WeightFile wf = WeightFiles.open(file)) {
                return classifierOf(wf, "--classifier " + file);
            }
        }
        byte[] bytes;
        try (InputStream in = EvalCommand.class.getResourceAsStream(BUNDLED_CLASSIFIER)) {
            if (in == null) {
                throw new IllegalArgumentException("the bundled classifier " + BUNDLED_CLASSIFIER.substring(1)
                        + " is missing from this build; give --classifier FILE");
            }
            bytes = in.readAllBytes();
        }
        try (WeightFile wf = SafetensorsFile.of(BUNDLED_CLASSIFIER.substring(1), MemorySegment.ofArray(bytes))) {
            return classifierOf(wf, "the bundled classifier");
        }
    }

    private static Judge classifierOf(WeightFile wf, String what) {
        Map<String, String> meta = wf.metadata();
        if (!"classifier".equals(meta.get("model"))) {
            throw new IllegalArgumentException(what + ": expected a classifier (metadata model = classifier), found "
                    + (meta.get("model") == null ? "no model metadata" : "'" + meta.get("model") + "'"));
        }
        Classifier c = Models.build("classifier", Models.fromJson(meta.get("options")), 0).classifier();
        ModelWeights.load(c, wf, null);
        return new Judge(c, what, meta);
    }

    /**
     * Fails unless the classifier takes the samples (their channels, and the size it was trained at if
     * recorded) and the real images match them (grey, square).
     */
    static void checkFits(Judge judge, int channels, int h, int w) {
        Classifier c = judge.model();
        if (c.config().inChannels() != channels) {
            throw new IllegalArgumentException(judge.what() + " takes " + c.config().inChannels() + "-channel images; the model makes "
                    + channels + "-channel images");
        }
        if (channels != 1 || h != w) {
            throw new IllegalArgumentException("--data: the real images (Fashion-MNIST) are grey and square; the model makes "
                    + channels + "x" + h + "x" + w + " images");
        }
        String trained = judge.imageSize();
        if (trained != null && !trained.equals(String.valueOf(h))) {
            throw new IllegalArgumentException(judge.what() + " was trained on " + trained + "x" + trained + " images; the samples are "
                    + h + "x" + w + " (give --size " + trained + ", or a classifier trained at that size)");
        }
        int d = c.config().divisor();
        if (h % d != 0) {
            throw new IllegalArgumentException(judge.what() + " takes images whose sides are multiples of " + d + "; the samples are "
                    + h + "x" + w);
        }
    }

    /**
     * The floor and ceiling of a distance over {@code samples} images: the distance of that many training images (drawn
     * by {@code seed}) and of that many images of uniform noise in [-1, 1], each to {@code reference}.
     */
    static double[] floorAndCeiling(ClassifierFeatures features, DataSet train, int samples, int b, long seed, int per,
                                    FeatureStatistics reference, PrintWriter err) {
        Batches chosen = new Batches(train, b, seed, false);
        float[] tmp = new float[chosen.batchLength()];
        ClassifierFeatures.Images real = (first, count, dst) -> {
            chosen.fill(first / b, tmp, null);
            System.arraycopy(tmp, 0, dst, 0, count * per);
        };
        double floor = FrechetDistance.between(features.extract(real, samples, new Progress(err, "training images", samples)::batch)
                .statistics(), reference);

        SplittableRandom noise = new SplittableRandom(seed ^ NOISE_STREAM);
        ClassifierFeatures.Images uniform = (first, count, dst) -> {
            for (int i = 0; i < count * per; i++) {
                dst[i] = (float) noise.nextDouble(-1, 1);
            }
        };
        double ceiling = FrechetDistance.between(features.extract(uniform, samples, null).statistics(), reference);
        return new double[] {floor, ceiling};
    }
}
