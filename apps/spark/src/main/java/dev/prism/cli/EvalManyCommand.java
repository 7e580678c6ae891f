package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.eval.FeatureStatistics;
import dev.prism.diffusion.eval.FrechetDistance;
import dev.prism.spark.Manifest;
import dev.prism.spark.Moments;
import dev.prism.spark.PartitionFailure;
import dev.prism.spark.SparkOptions;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code prism eval-many}: the quality metric of {@code prism eval} over the images of a {@code sample-many}
 * manifest, on Apache Spark: each executor reads its part of the images (checking each file's SHA-256 against the
 * manifest), takes the classifier's features and returns their count, mean and centred second moments
 * ({@link Moments}); the driver combines the parts and compares them with the test set's features.
 */
@Command(name = "eval-many", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "The Fréchet distance of prism eval for the images of a sample-many manifest, on Apache Spark (embedded local[*] by "
                + "default): the executors read the images (each checked against its SHA-256 in the manifest) and compute the "
                + "classifier's features and their moments; the driver combines them and compares them with the features of the test "
                + "set, |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)). Lower is better.")
public final class EvalManyCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.BACKEND, Map.of("batch", "--batch"));
    }

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Mixin
    SparkOptions spark;

    @Option(names = "--manifest", required = true, paramLabel = "FILE", description = "The manifest.tsv of prism sample-many; the images are beside it.")
    Path manifest;

    @Option(names = "--batch", defaultValue = "50", paramLabel = "B", description = "Images per classifier pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of the floor's training images and the ceiling's noise, as in prism eval (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--classifier", paramLabel = "FILE", description = "Classifier weights (model classifier; default: the bundled Fashion-MNIST classifier).")
    Path classifier;

    @Option(names = "--data", defaultValue = "fashion-mnist", paramLabel = "fashion-mnist|DIR",
            description = "The real images whose test split is the reference: fashion-mnist (Debian's dataset-fashion-mnist) or a folder of "
                    + "Fashion-MNIST IDX files (default: ${DEFAULT-VALUE}).")
    String data;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        spark.check();
        if (batch < 1) {
            throw new IllegalArgumentException("--batch expected >= 1, found " + batch);
        }
        if (!Files.isRegularFile(manifest)) {
            throw new IllegalArgumentException("--manifest " + manifest + ": no such file");
        }
        if (classifier != null && !Files.isRegularFile(classifier)) {
            throw new IllegalArgumentException("--classifier " + classifier + ": no such file");
        }
        if (!data.equals("fashion-mnist") && !TrainCommand.isIdxFolder(Path.of(data))) {
            throw new IllegalArgumentException("--data expected fashion-mnist or a folder of Fashion-MNIST IDX files, found '" + data + "'");
        }
        List<Manifest.Record> records;
        try {
            records = Manifest.readFile(manifest);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--manifest " + e.getMessage(), e);
        }
        if (records.size() < 2) {
            throw new IllegalArgumentException("--manifest " + manifest + " expected at least 2 images (a covariance needs two), found " + records.size());
        }
        Path dir = manifest.toAbsolutePath().getParent();
        int[] shape = shape(dir.resolve(records.getFirst().file()));
        int ch = shape[0], h = shape[1], w = shape[2];
        EvalCommand.Judge judge = EvalCommand.loadClassifier(classifier);
        EvalCommand.checkFits(judge, ch, h, w);
        backend.choose(PrismConfig.load());
        DataSet test = TrainCommand.openData(data, ch, h, FashionMnist.Split.TEST);

        FeatureStatistics reference;
        try (Backend be = backend.open(PrismConfig.load());
             ClassifierFeatures features = new ClassifierFeatures(be, judge.model(), Math.min(batch, test.size()), h, w)) {
            out.printf(Locale.ROOT, "classifier: %s (%d features), on the driver's %s for the reference%n", judge.what(),
                    judge.model().config().hidden(), be.id());
            out.flush();
            reference = features.extract(ClassifierFeatures.of(test), test.size(), null).statistics();
        }

        Moments all = null;
        int parts;
        double sparkSeconds;
        try (JavaSparkContext sc = spark.start("prism eval-many")) {
            String classifierRef = "bundled:";
            if (classifier != null) {
                sc.addFile(classifier.toAbsolutePath().toString());
                classifierRef = "shipped:" + classifier.getFileName();
            }
            int p = (int) Math.min(spark.partitions(sc), records.size());
            List<Part> work = new ArrayList<>(p);
            for (int i = 0; i < p; i++) {
                int from = (int) ((long) records.size() * i / p), to = (int) ((long) records.size() * (i + 1) / p);
                work.add(new Part(dir.toString(), new ArrayList<>(records.subList(from, to))));
            }
            parts = work.size();
            Job job = new Job(SampleManyCommand.executorArgs(spec), classifierRef, batch, ch, h, w);
            out.printf(Locale.ROOT, "eval-many: %d images of %s in %d partitions on %s (Spark %s)%n", records.size(), manifest, parts, sc.master(),
                    sc.version());
            out.flush();
            long t0 = System.nanoTime();
            try {
                for (Moments m : sc.parallelize(work, parts).map(part -> Executor.run(job, part)).collect()) {
                    all = all == null ? m : all.plus(m);
                }
            } catch (Exception e) {
                // SparkException, a checked exception that Scala throws without declaring it
                throw PartitionFailure.unwrap(e);
            }
            sparkSeconds = (System.nanoTime() - t0) / 1e9;
        }
        double fd = FrechetDistance.between(all.statistics(), reference);
        // The floor and ceiling of prism eval for the same N, on the driver (features only: no sampling).
        int n = Math.toIntExact(all.count());
        double[] bounds;
        DataSet train = TrainCommand.openData(data, ch, h, FashionMnist.Split.TRAIN);
        try (Backend be = backend.open(PrismConfig.load());
             ClassifierFeatures features = new ClassifierFeatures(be, judge.model(), Math.min(batch, n), h, w)) {
            bounds = EvalCommand.floorAndCeiling(features, train, n, Math.min(batch, n), seed, ch * h * w, reference, err);
        }
        out.printf(Locale.ROOT, "reference: the %d test images of %s at %dx%d%n", test.size(), data, h, w);
        out.printf(Locale.ROOT, "FD %10.2f  samples: N %d of %s (features on Spark: %.1f s)%n", fd, all.count(), manifest, sparkSeconds);
        out.printf(Locale.ROOT, "FD %10.2f  floor: N %d training images (seed %d; on the driver)%n", bounds[0], n, seed);
        out.printf(Locale.ROOT, "FD %10.2f  ceiling: N %d images of uniform noise in [-1, 1] (seed %d; on the driver)%n", bounds[1], n, seed);
        out.printf(Locale.ROOT, "%.1f s in all%n", (System.nanoTime() - start) / 1e9);
        err.flush();
        return 0;
    }

    /** {@code [channels, height, width]} of a PNG. */
    private static int[] shape(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        if (img == null) {
            throw new IllegalArgumentException("--manifest: " + png + " is not a PNG image");
        }
        return new int[] {img.getRaster().getNumBands(), img.getHeight(), img.getWidth()};
    }

    /** The options as typed, where the executors find the classifier, and the images' shape. */
    record Job(List<String> args, String classifier, int batch, int channels, int height, int width) implements Serializable {
    }

    /** One partition: the output directory and its records. */
    record Part(String dir, List<Manifest.Record> records) implements Serializable {
    }

    /** The executor's side. */
    static final class Executor {
        /** Classifiers this JVM has loaded, by where they came from. */
        private static final Map<String, EvalCommand.Judge> CLASSIFIERS = new ConcurrentHashMap<>();

        private Executor() {
        }

        static Moments run(Job job, Part part) {
            TaskContext task = TaskContext.get();
            List<Manifest.Record> rs = part.records();
            String seeds = rs.getFirst().seed() + ".." + rs.getLast().seed();
            Manifest.Record[] current = {rs.getFirst()};
            try {
                EvalCommand.Judge judge;
                synchronized (CLASSIFIERS) {
                    judge = CLASSIFIERS.computeIfAbsent(job.classifier(), Executor::load);
                }
                EvalManyCommand options = new EvalManyCommand();
                new CommandLine(options).setOverwrittenOptionsAllowed(true).parseArgs(job.args().toArray(String[]::new));
                if (options.backend.threads == null) {
                    options.backend.threads = task != null ? task.cpus() : 0;
                }
                Path dir = Path.of(part.dir());
                int per = job.channels() * job.height() * job.width();
                try (Backend be = options.backend.open(PrismConfig.load());
                     ClassifierFeatures features = new ClassifierFeatures(be, judge.model(), Math.min(job.batch(), rs.size()), job.height(),
                             job.width())) {
                    ClassifierFeatures.Images images = (first, count, dst) -> {
                        for (int i = 0; i < count; i++) {
                            current[0] = rs.get(first + i);
                            read(dir, current[0], job, dst, i * per);
                        }
                    };
                    ClassifierFeatures.Result r = features.extract(images, rs.size(), null);
                    return Moments.of(r.features(), r.count(), r.dim());
                }
            } catch (Exception | Error e) {
                throw PartitionFailure.of(task != null ? task.partitionId() : -1, seeds, current[0].seed(), current[0].file(),
                        PartitionFailure.executor(), e);
            }
        }

        /** Image {@code r}, checked against its SHA-256, as {@code b/127.5 − 1} per 8-bit sample, into {@code dst} at {@code at}. */
        private static void read(Path dir, Manifest.Record r, Job job, float[] dst, int at) {
            try {
                Path f = dir.resolve(r.file());
                if (!Files.isRegularFile(f)) {
                    throw new IllegalArgumentException(f + ": no such file");
                }
                byte[] bytes = Files.readAllBytes(f);
                String sha = Manifest.sha256(bytes);
                if (!sha.equals(r.sha256())) {
                    throw new IllegalArgumentException(f + ": expected the manifest's SHA-256 " + r.sha256() + ", found " + sha);
                }
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
                if (img == null || img.getRaster().getNumBands() != job.channels() || img.getHeight() != job.height()
                        || img.getWidth() != job.width()) {
                    throw new IllegalArgumentException(f + ": expected a " + job.channels() + "x" + job.height() + "x" + job.width() + " PNG, found "
                            + (img == null ? "no PNG image" : img.getRaster().getNumBands() + "x" + img.getHeight() + "x" + img.getWidth()));
                }
                Raster raster = img.getRaster();
                int hw = job.height() * job.width();
                for (int c = 0; c < job.channels(); c++) {
                    for (int y = 0; y < job.height(); y++) {
                        for (int x = 0; x < job.width(); x++) {
                            dst[at + c * hw + y * job.width() + x] = (float) (raster.getSample(x, y, c) / 127.5 - 1.0);
                        }
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static EvalCommand.Judge load(String ref) {
            try {
                if (ref.startsWith("bundled:")) {
                    return EvalCommand.loadClassifier(null);
                }
                Path p = Path.of(SparkFiles.get(ref.substring("shipped:".length())));
                if (!Files.isRegularFile(p)) {
                    throw new IllegalArgumentException("the classifier shipped as " + p + ": no such file on this executor");
                }
                return EvalCommand.loadClassifier(p);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
