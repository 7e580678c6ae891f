package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SamplingProgress;
import dev.prism.diffusion.data.Batches;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.eval.FeatureStatistics;
import dev.prism.diffusion.eval.FrechetDistance;
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
        description = "Measure a denoising model's samples: generate N images, take the penultimate features of a Fashion-MNIST "
        + "classifier (the bundled one unless --classifier) for them and for the test set, and print the Fréchet distance "
        + "between the two Gaussians fitted to them, |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), with N, seed, sampler and "
        + "steps; then the same distance for N training images (the floor: what a perfect model would score with N samples) "
        + "and for N images of uniform noise in [-1, 1] (the ceiling). Lower is better. Progress goes to stderr.")
final class EvalCommand implements Callable<Integer> {
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
            description = "Seed of the samples' noise, of the training images chosen for the floor and of the noise images (default: ${DEFAULT-VALUE}).")
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
        NoiseSchedule sched = model.schedule();
        DiffusionSampler sampler = model.sampler(sched);
        DenoiserOptions.Loaded loaded = model.load();
        Judge judge = loadClassifier(classifier);
        Classifier c = judge.model();
        int ch = loaded.denoiser().channels(), h = loaded.height(), w = loaded.width();
        checkFits(judge, ch, h, w);
        DataSet test = TrainCommand.openData(data, ch, h, FashionMnist.Split.TEST);
        DataSet train = TrainCommand.openData(data, ch, h, FashionMnist.Split.TRAIN);
        int b = Math.min(batch, samples);

        try (Backend be = backend.open(PrismConfig.load());
             ClassifierFeatures features = new ClassifierFeatures(be, c, b, h, w)) {
            out.println("backend: " + be.id() + " — " + be.description());
            out.printf(Locale.ROOT, "classifier: %s (%d features)%n", judge.what(), c.config().hidden());
            out.flush();
            long t0 = System.nanoTime();
            FeatureStatistics reference = features.extract(ClassifierFeatures.of(test), test.size(),
                    progress(err, "features of the test set", test.size(), t0)).statistics();

            long t1 = System.nanoTime();
            // Batch k of the samples (the extractor asks for them in order) is drawn from the k-th seed of this stream.
            SplittableRandom seeds = new SplittableRandom(seed);
            try (SamplingLoop loop = new SamplingLoop(be, loaded.denoiser(), b)) {
                int per = ch * h * w;
                ClassifierFeatures.Images generated = (first, count, dst) ->
                        System.arraycopy(loop.sample(sampler, seeds.nextLong(), SamplingProgress.NONE), 0, dst, 0, count * per);
                FeatureStatistics gen = features.extract(generated, samples, progress(err, "samples", samples, t1)).statistics();
                double fd = FrechetDistance.between(gen, reference);

                long t2 = System.nanoTime();
                Batches chosen = new Batches(train, b, seed, false);
                float[] tmp = new float[chosen.batchLength()];
                ClassifierFeatures.Images real = (first, count, dst) -> {
                    chosen.fill(first / b, tmp, null);
                    System.arraycopy(tmp, 0, dst, 0, count * per);
                };
                double floor = FrechetDistance.between(features.extract(real, samples, progress(err, "training images", samples, t2))
                        .statistics(), reference);

                SplittableRandom noise = new SplittableRandom(seed ^ NOISE_STREAM);
                ClassifierFeatures.Images uniform = (first, count, dst) -> {
                    for (int i = 0; i < count * per; i++) {
                        dst[i] = (float) noise.nextDouble(-1, 1);
                    }
                };
                double ceiling = FrechetDistance.between(features.extract(uniform, samples, null).statistics(), reference);

                out.printf(Locale.ROOT, "reference: the %d test images of %s at %dx%d%n", test.size(), data, h, w);
                out.printf(Locale.ROOT, "FD %10.2f  samples: N %d, seed %d, sampler %s, steps %d (%.1f s)%n", fd, samples, seed,
                        sampler.describe(), sampler.steps(), (t2 - t1) / 1e9);
                out.printf(Locale.ROOT, "FD %10.2f  floor: N %d training images (seed %d)%n", floor, samples, seed);
                out.printf(Locale.ROOT, "FD %10.2f  ceiling: N %d images of uniform noise in [-1, 1] (seed %d)%n", ceiling, samples, seed);
            }
        }
        return 0;
    }

    /** A line on stderr after each batch, at most every 5 s, and at the end. */
    private static java.util.function.IntConsumer progress(PrintWriter err, String what, int total, long start) {
        long[] last = {start};
        return done -> {
            long now = System.nanoTime();
            if (done == total || now - last[0] > 5_000_000_000L) {
                last[0] = now;
                double s = (now - start) / 1e9;
                err.printf(Locale.ROOT, "%s: %d/%d  %.1f s%s%n", what, done, total, s,
                        done < total ? String.format(Locale.ROOT, "  ETA %s", TrainCommand.Progress.time(s * (total - done) / done)) : "");
                err.flush();
            }
        };
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
            try (WeightFile wf = WeightFile.open(file)) {
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
    private static void checkFits(Judge judge, int channels, int h, int w) {
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
}
