package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.io.PngImages;
import dev.prism.kernels.VectorWidth;
import dev.prism.nn.io.AtomicWrite;
import dev.prism.spark.Manifest;
import dev.prism.spark.PartitionFailure;
import dev.prism.spark.PerSeedNoise;
import dev.prism.spark.Seeds;
import dev.prism.spark.SparkOptions;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code prism sample-many}: one PNG per seed for a range of seeds, sampled on Apache Spark executors, with a
 * manifest. The driver checks every option and the model as {@code prism sample} does, splits the seeds into
 * partitions and collects what each wrote; each executor loads the model once and samples its partitions' seeds in
 * batches. Image {@code seed-S.png} is image 0 of {@code prism sample --seed S}: it depends on its seed, the settings
 * and the backend (with its vector width), never on the partition, the batch or the executor.
 */
@Command(name = "sample-many", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Sample one image per seed for many seeds on Apache Spark (embedded local[*] by default): the seeds are split "
                + "into partitions, each executor loads the model once and samples its seeds in batches, and writes seed-S.png (with "
                + "the generation parameters as PNG text; image 0 of prism sample --seed S) into --out, each under a temporary name "
                + "renamed when complete, and the driver writes DIR/manifest.tsv (seed, file, SHA-256, backend, settings digest, "
                + "seconds, time written). A re-run skips every seed whose file is recorded with the same settings and still has its "
                + "checksum, so a killed run is finished by running it again.")
public final class SampleManyCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, LibraryNames.BACKEND, Map.of("size", "--size", "batch", "--batch"));
    }

    /** Spark setting for tests of recomputation: the first attempt of each task fails after writing this many images. */
    public static final String FAIL_FIRST_ATTEMPT_AFTER = "spark.prism.test.failFirstAttemptAfter";

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Mixin
    DenoiserOptions model;

    @Mixin
    SparkOptions spark;

    @Option(names = "--seeds", defaultValue = "0..", paramLabel = "FROM..[TO]",
            description = "The seeds, both ends included; FROM.. takes --count seeds (default: ${DEFAULT-VALUE}).")
    String seeds;

    @Option(names = "--count", paramLabel = "N", description = "How many seeds (with --seeds FROM..).")
    Long count;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "B", description = "Images per sampling batch on an executor (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", required = true, paramLabel = "DIR|file:URI",
            description = "The output directory (created if its parent exists), one that every executor reaches at the same path.")
    String out;

    @Option(names = "--executor-weights", paramLabel = "PATH",
            description = "Where the executors read the weights (a shared file system); default: the driver ships --weights to each "
                    + "executor once (SparkContext.addFile). Must hold the same bytes as --weights.")
    String executorWeights;

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        spark.check();
        Seeds all = Seeds.parse("--seeds", seeds, count, "--count");
        if (batch < 1) {
            throw new IllegalArgumentException("--batch expected >= 1, found " + batch);
        }
        if (executorWeights != null && !Path.of(executorWeights).isAbsolute()) {
            throw new IllegalArgumentException("--executor-weights expected an absolute path (the executors' working folders differ), found '"
                    + executorWeights + "'");
        }
        Path dir = outputDirectory("--out", out);
        model.checkWeights();
        if (model.isWaveDiff()) {
            throw new IllegalArgumentException("--model wavediff: sample-many samples unet, wg-unet and ddpm-unet models; use prism sample for wavediff");
        }
        NoiseSchedule sched = model.schedule();
        DiffusionSampler sampler = model.sampler(sched);
        int b = (int) Math.min(batch, all.count());
        // The whole model and one executor's batch, as prism sample checks them, before Spark starts.
        DenoiserOptions.Loaded loaded = model.load(b, d -> 2 * PngImages.gridBytesPerImage(d.channels(), d.height(), d.width(), 0));
        backend.choose(PrismConfig.load());
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Software", "prism");
        text.put("model", loaded.name());
        text.put("options", loaded.built().options().toString());
        text.put("weights", model.bundled ? "bundled:" + DenoiserOptions.BUNDLED_NAME : model.weights.getFileName().toString());
        text.put("weights_sha256", SampleCommand.sha256(model.weights));
        text.put("sampler", sampler.describe());
        text.put("schedule", sched.name() + ", T=" + sched.timesteps());
        text.put("steps", String.valueOf(sampler.steps()));
        text.put("size", loaded.height() + "x" + loaded.width());
        String settings = Manifest.sha256(String.join("\n", text.entrySet().stream().map(Object::toString).toList())
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 16);
        Map<Long, Manifest.Record> existing = Manifest.read(dir);
        // A run killed by SIGKILL leaves its temporary files (never under a final name): one run per directory at a time.
        int leftovers = AtomicWrite.removeLeftovers(dir).size() + AtomicWrite.removeLeftovers(dir.resolve(Manifest.PARTS)).size();
        if (leftovers > 0) {
            o.println("removed " + leftovers + " temporary files that a killed run left in " + dir);
        }

        List<Manifest.Record> records = new ArrayList<>();
        Map<String, double[]> perExecutor = new java.util.TreeMap<>();
        int parts;
        double sparkSeconds;
        try (JavaSparkContext sc = spark.start("prism sample-many")) {
            String weightsRef;
            if (executorWeights != null) {
                weightsRef = "path:" + executorWeights;
            } else if (model.bundled) {
                weightsRef = "bundled:";
            } else {
                sc.addFile(model.weights.toAbsolutePath().toString());
                weightsRef = "shipped:" + model.weights.getFileName();
            }
            Job job = new Job(executorArgs(spec), weightsRef, text.get("weights_sha256"), dir.toString(), b, text, settings);
            List<Part> work = new ArrayList<>();
            for (Seeds s : all.split(spark.partitions(sc))) {
                Map<Long, Manifest.Record> known = new HashMap<>();
                for (long seed = s.first(); seed <= s.last(); seed++) {
                    Manifest.Record r = existing.get(seed);
                    if (r != null) {
                        known.put(seed, r);
                    }
                }
                work.add(new Part(s, known));
            }
            parts = work.size();
            o.printf(Locale.ROOT, "sample-many: %d seeds %s in %d partitions on %s (Spark %s), %s, %s, %dx%d, batches of at most %d%n", all.count(), all,
                    parts, sc.master(), sc.version(), loaded.name(), sampler.describe(), loaded.height(), loaded.width(), b);
            o.flush();
            long t0 = System.nanoTime();
            try {
                for (Done d : sc.parallelize(work, parts).map(p -> Executor.run(job, p)).collect()) {
                    records.addAll(d.records());
                    perExecutor.merge(d.executor(), new double[] {d.sampled(), d.seconds()}, (a, c) -> new double[] {a[0] + c[0], a[1] + c[1]});
                }
            } catch (Exception e) {
                // SparkException, a checked exception that Scala throws without declaring it
                throw PartitionFailure.unwrap(e);
            }
            sparkSeconds = (System.nanoTime() - t0) / 1e9;
        }
        Manifest.finish(dir, records);
        long kept = records.stream().filter(r -> existing.containsKey(r.seed()) && existing.get(r.seed()).equals(r)).count();
        long made = records.size() - kept;
        o.printf(Locale.ROOT, "wrote %d images to %s, kept %d whose files and checksums matched; %.2f s on Spark%s%n", made, dir, kept,
                sparkSeconds, made > 0 ? String.format(Locale.ROOT, ", %.2f images/s", made / sparkSeconds) : "");
        perExecutor.forEach((executor, v) -> o.printf(Locale.ROOT, "  %s: sampled %d images in %.2f s of its tasks%n", executor, (int) v[0], v[1]));
        o.printf(Locale.ROOT, "manifest: %s (%d seeds); %.1f s in all%n", dir.resolve(Manifest.FILE), records.size(), (System.nanoTime() - start) / 1e9);
        err.flush();
        return 0;
    }

    /**
     * The output directory of {@code text} (a path or a {@code file:} URI), created when missing and its parent exists,
     * and checked by creating a file in it.
     */
    static Path outputDirectory(String option, String text) {
        Path dir;
        if (text.contains("://") || text.startsWith("file:")) {
            URI uri = URI.create(text);
            if (!"file".equals(uri.getScheme())) {
                throw new IllegalArgumentException(option + " expected a directory path or a file: URI (a file system every executor mounts), found '"
                        + text + "' (scheme " + uri.getScheme() + ")");
            }
            dir = Path.of(uri);
        } else {
            dir = Path.of(text);
        }
        dir = dir.toAbsolutePath().normalize();
        if (!Files.exists(dir) && dir.getParent() != null && Files.isDirectory(dir.getParent())) {
            try {
                Files.createDirectory(dir);
            } catch (IOException e) {
                throw new IllegalArgumentException(option + " " + dir + " cannot be created (" + e + ")");
            }
        }
        dev.prism.io.OutputFiles.checkDirectory(option, dir);
        return dir;
    }

    /** The options the user gave, as arguments that rebuild them on an executor. */
    static List<String> executorArgs(CommandSpec spec) {
        List<String> args = new ArrayList<>();
        for (OptionSpec opt : spec.commandLine().getParseResult().matchedOptions()) {
            if (opt.arity().max() == 0) {
                args.add(opt.longestName());
                continue;
            }
            for (String v : opt.originalStringValues()) {
                args.add(opt.longestName());
                args.add(v);
            }
        }
        return args;
    }

    /**
     * What every task of one run needs: the options as typed (the executor rebuilds them), where the executors find
     * the weights ({@code bundled:}, {@code shipped:NAME} by SparkContext.addFile, or {@code path:PATH}) and their
     * SHA-256, the output directory, the batch, the PNG text and its digest.
     */
    record Job(List<String> args, String weights, String weightsSha256, String out, int batch, Map<String, String> text, String settings)
            implements Serializable {
        /** The model this job samples, for the executor's cache. */
        String modelKey() {
            return weights + "|" + weightsSha256 + "|" + args;
        }
    }

    /** What a task did: its records, the executor, how many images it sampled and how long the task took. */
    record Done(List<Manifest.Record> records, String executor, int sampled, double seconds) implements Serializable {
    }

    /** One partition: its seeds and what the output directory held for them when the run began. */
    record Part(Seeds seeds, Map<Long, Manifest.Record> known) implements Serializable {
    }

    /** The executor's side. */
    static final class Executor {
        /** The models this JVM has loaded, by {@link Job#modelKey()}: each executor loads a model once. */
        private static final Map<String, Model> MODELS = new ConcurrentHashMap<>();
        private static final AtomicInteger LOADS = new AtomicInteger();
        /** How many tasks this JVM failed on purpose ({@link #FAIL_FIRST_ATTEMPT_AFTER}). */
        static final AtomicInteger INJECTED = new AtomicInteger();

        private Executor() {
        }

        /** How many times this JVM has loaded a model's weights. */
        static int loads() {
            return LOADS.get();
        }

        /** A loaded model; its plans are built one at a time, then run concurrently (each task its own plan). */
        record Model(UNetDenoiser denoiser, DiffusionSampler sampler) {
            synchronized SamplingLoop loop(Backend b, int batch) {
                return new SamplingLoop(b, denoiser, batch);
            }
        }

        static Done run(Job job, Part part) {
            TaskContext task = TaskContext.get();
            int partition = task != null ? task.partitionId() : -1;
            long[] current = {part.seeds().first()};
            long t0 = System.nanoTime();
            try {
                List<Manifest.Record> records = sample(job, part, task, current);
                int sampled = (int) records.stream().filter(r -> !r.equals(part.known().get(r.seed()))).count();
                return new Done(records, PartitionFailure.executor(), sampled, (System.nanoTime() - t0) / 1e9);
            } catch (Exception | Error e) {
                throw PartitionFailure.of(partition, part.seeds().toString(), current[0], null, PartitionFailure.executor(), e);
            }
        }

        private static List<Manifest.Record> sample(Job job, Part part, TaskContext task, long[] current) throws IOException {
            Path dir = Path.of(job.out());
            List<Manifest.Record> done = new ArrayList<>();
            List<Long> todo = new ArrayList<>();
            for (long seed = part.seeds().first(); seed <= part.seeds().last(); seed++) {
                Manifest.Record r = part.known().get(seed);
                if (r != null && r.settings().equals(job.settings()) && r.matches(dir)) {
                    done.add(r);
                } else {
                    todo.add(seed);
                }
            }
            if (todo.isEmpty()) {
                return done;
            }
            Model m = MODELS.get(job.modelKey());
            if (m == null) {
                synchronized (MODELS) {
                    m = MODELS.computeIfAbsent(job.modelKey(), k -> load(job));
                }
            }
            SampleManyCommand options = parse(job.args());
            if (options.backend.threads == null) {
                // A task uses the cores Spark gives it (spark.task.cpus), so that the executor's concurrent tasks share its cores.
                options.backend.threads = task != null ? task.cpus() : 0;
            }
            int failAfter = failAfter(task);
            int b = Math.min(job.batch(), todo.size());
            UNetDenoiser d = m.denoiser();
            int c = d.channels(), h = d.height(), w = d.width(), per = c * h * w;
            int written = 0;
            try (Backend be = options.backend.open(PrismConfig.load()); SamplingLoop loop = m.loop(be, b)) {
                String tag = backendTag(be);
                for (int i = 0; i < todo.size(); i += b) {
                    int n = Math.min(b, todo.size() - i);
                    long[] chunk = new long[b];
                    for (int k = 0; k < b; k++) {
                        // a short last batch repeats its last seed; the copies are dropped
                        chunk[k] = todo.get(i + Math.min(k, n - 1));
                    }
                    current[0] = chunk[0];
                    long t0 = System.nanoTime();
                    float[] images = loop.sample(m.sampler(), new PerSeedNoise(chunk, per), step -> { });
                    double seconds = (System.nanoTime() - t0) / 1e9 / n;
                    List<Manifest.Record> batchRecords = new ArrayList<>(n);
                    for (int k = 0; k < n; k++) {
                        current[0] = chunk[k];
                        if (written == failAfter) {
                            INJECTED.incrementAndGet();
                            throw new IllegalStateException("failure injected by " + FAIL_FIRST_ATTEMPT_AFTER + "=" + failAfter + " (attempt "
                                    + task.attemptNumber() + ")");
                        }
                        Map<String, String> text = new LinkedHashMap<>(job.text());
                        text.put("seed", String.valueOf(chunk[k]));
                        text.put("backend", tag);
                        byte[] png = PngImages.encode(PngImages.image(images, k, c, h, w), text);
                        String name = fileName(chunk[k]);
                        AtomicWrite.write(dir.resolve(name), true, ch -> ch.write(ByteBuffer.wrap(png)));
                        batchRecords.add(new Manifest.Record(chunk[k], name, Manifest.sha256(png), tag, job.settings(), seconds,
                                Instant.now().truncatedTo(ChronoUnit.MILLIS).toString()));
                        written++;
                    }
                    Manifest.writePart(dir, chunk[0], chunk[n - 1], batchRecords);
                    done.addAll(batchRecords);
                }
            }
            return done;
        }

        /** The image file of a seed. */
        static String fileName(long seed) {
            return "seed-" + seed + ".png";
        }

        /** What an image depends on besides its seed and settings: the backend, and for jvm the vector width. */
        static String backendTag(Backend b) {
            if (b instanceof JvmBackend && b.id().equals("jvm")) {
                return "jvm " + VectorWidth.describe();
            }
            return b instanceof JvmBackend ? b.id() : b.id() + " (" + b.description() + ")";
        }

        private static int failAfter(TaskContext task) {
            SparkEnv env = SparkEnv.get();
            if (task == null || env == null || task.attemptNumber() > 0) {
                return -1;
            }
            return Integer.parseInt(env.conf().get(FAIL_FIRST_ATTEMPT_AFTER, "-1"));
        }

        private static SampleManyCommand parse(List<String> args) {
            SampleManyCommand c = new SampleManyCommand();
            new CommandLine(c).setOverwrittenOptionsAllowed(true).parseArgs(args.toArray(String[]::new));
            return c;
        }

        /** Loads the job's model as the driver did, from the weights as this executor reaches them. */
        private static Model load(Job job) {
            try {
                SampleManyCommand options = parse(job.args());
                DenoiserOptions dm = options.model;
                String ref = job.weights();
                if (ref.startsWith("bundled:")) {
                    dm.weights = null;
                } else {
                    Path p = ref.startsWith("shipped:") ? Path.of(SparkFiles.get(ref.substring("shipped:".length()))) : Path.of(ref.substring("path:".length()));
                    if (!Files.isRegularFile(p)) {
                        throw new IllegalArgumentException((ref.startsWith("path:") ? "--executor-weights " : "the weights shipped as ") + p
                                + ": no such file on this executor");
                    }
                    String sha = SampleCommand.sha256(p);
                    if (!sha.equals(job.weightsSha256())) {
                        throw new IllegalArgumentException((ref.startsWith("path:") ? "--executor-weights " : "the weights shipped as ") + p
                                + ": expected the SHA-256 of --weights, " + job.weightsSha256() + ", found " + sha);
                    }
                    dm.weights = p;
                }
                dm.checkWeights();
                NoiseSchedule sched = dm.schedule();
                DiffusionSampler sampler = dm.sampler(sched);
                DenoiserOptions.Loaded loaded = dm.load(job.batch(), d -> 0);
                LOADS.incrementAndGet();
                return new Model(loaded.denoiser(), sampler);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
