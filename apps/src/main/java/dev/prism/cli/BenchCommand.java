package dev.prism.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.prism.backend.Backend;
import dev.prism.backend.DeviceInfo;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.TornadoSettings;
import dev.prism.backend.TornadoSupport;
import dev.prism.bench.BenchRunner;
import dev.prism.bench.Ceilings;
import dev.prism.bench.Forks;
import dev.prism.bench.ModelCases;
import dev.prism.bench.MachineLoad;
import dev.prism.bench.Peer;
import dev.prism.bench.WaveDiffCases;
import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.VectorWidth;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import dev.prism.nn.io.AtomicWrite;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code prism bench}: every selected kernel and whole plan on every backend and device found, with the
 * PyTorch CPU peer measured in the same run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = "Time Prism's kernels and whole plans on every backend and device found (jvm-seq, jvm, each TornadoVM device): "
        + "first call (JIT / TornadoVM compile) separately, then the median and interquartile range of repeated runs, "
        + "and for TornadoVM the device kernel time from its profiler. With --peer, PyTorch CPU runs the same cases "
        + "with the same thread count in the same session, and each row shows Prism / PyTorch. Each row also shows the "
        + "fraction of the machine's limit reached (memory bandwidth or FMA peak, both measured in the same run).")
final class BenchCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return Map.of("backend", "--backends", "device", "--backends");
    }

    @Spec
    CommandSpec spec;

    @Option(names = {"-k", "--kernel"}, paramLabel = "PREFIX", split = ",",
            description = "Only cases whose name starts with PREFIX (repeatable, comma-separated).")
    List<String> kernels;

    @Option(names = "--size", paramLabel = "small|model", defaultValue = "model",
            description = "Problem sizes (default: ${DEFAULT-VALUE}: batch 1, C 64, 64x64).")
    String size;

    @Option(names = "--backends", paramLabel = "LIST", split = ",",
            description = "Backends and devices: jvm-seq, jvm, jvm-plain (all cores, plain loops only), tornado:<i>"
                    + " (default: jvm-seq, jvm and every TornadoVM device found).")
    List<String> backends;

    @Option(names = "--threads", paramLabel = "N", description = "Threads of the jvm backend and of the peer (default: one per processor).")
    Integer threads;

    @Option(names = "--vector-bits", paramLabel = "128|256|512",
            description = "Vector width of the jvm backend's hand-vectorised kernels (default: -Dprism.vector.bits, else the"
                    + " CPU's widest; wider than the CPU's runs emulated, many times slower).")
    Integer vectorBits;

    @Option(names = "--peer", description = "Also time the PyTorch CPU peer (tools/peers/torch_peer.py) and show ratios.")
    boolean peer;

    @Option(names = "--python", paramLabel = "PATH", defaultValue = "/usr/bin/python3",
            description = "Interpreter with PyTorch 1.13 for --peer (default: ${DEFAULT-VALUE}).")
    Path python;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every number, the machine and the git revision as JSON.")
    Path json;

    @Option(names = "--warmup", defaultValue = "3", description = "Untimed executions after the first, at least (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-time", defaultValue = "2", paramLabel = "SECONDS",
            description = "Keep warming up for at least this long (default: ${DEFAULT-VALUE}; C2 needs about that to compile "
                    + "the larger Vector API variants, which run several times slower until then).")
    double warmupTime;

    @Option(names = "--runs", defaultValue = "20", description = "Timed executions per case and backend (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--budget", defaultValue = "2", paramLabel = "SECONDS",
            description = "Stop timing a case after this long, once 5 runs are done (default: ${DEFAULT-VALUE}).")
    double budget;

    @Option(names = "--allow-bailout", description = "Accept TornadoVM's sequential fallback (its rows then measure the JVM).")
    boolean allowBailout;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random inputs (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--no-ceilings", description = "Skip measuring the copy bandwidth and the FMA peak.")
    boolean noCeilings;

    /**
     * A whole model's dozens of kernels and their variants take C2 several seconds to compile from a cold
     * start: after 2 s the DeepPrism UNet's forward still measured 4x its steady time, after 6 s it did not.
     */
    private static final double BREAKDOWN_WARMUP_SECONDS = 6;

    @Option(names = "--train", description = "Time whole DDPM training steps (forward, loss, backward, clipping, AdamW, EMA: "
            + "cases model.*" + ModelCases.TRAIN + ") instead of the kernels; with -k, add them to the selection.")
    boolean train;

    @Option(names = "--forks", paramLabel = "N", defaultValue = "1",
            description = "Time the cases in N fresh JVMs, one after another, and report per case the median of their medians with"
                    + " each JVM's median beside it (default: ${DEFAULT-VALUE}, this JVM). A JVM's JIT can compile one kernel into"
                    + " code 1.3 to 4.6 times slower than another JVM's does (docs/BENCHMARKS.md); with 3 or more, two runs (two"
                    + " vector widths, say) compare without resting on one compilation.")
    int forks;

    /** Set by the parent of a --forks run: this JVM is a fork and writes its results to this file. */
    @Option(names = "--fork-out", hidden = true)
    Path forkOut;

    @Option(names = "--breakdown", description = "Instead of timing, show where each selected plan's time goes on the jvm backend, "
            + "per kernel (after a warm-up of at least 6 s, or --warmup-time if longer).")
    boolean breakdown;

    @Option(names = "--model", paramLabel = "NAME",
            description = "Time a whole model's sampling run instead of the kernels: wavediff (WaveDiff's generator at --config, random"
                    + " weights, --steps of DDGAN's posterior sampling and the image, seconds per batch), on jvm and every TornadoVM"
                    + " device found unless --backends says otherwise, next to the official WaveDiff code in PyTorch on the same"
                    + " threads when --wavediff-src names it.")
    String model;

    @Option(names = "--config", paramLabel = "PRESET[,KEY=VALUE...]", split = ",",
            description = "With --model: a preset (cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun: the official configurations; fmnist: Prism's), then options over it as prism info"
                    + " --model wavediff lists them (default: cifar10).")
    List<String> modelConfig;

    @Option(names = "--batch", paramLabel = "N", description = "With --model: images per sampling run (default: 100).")
    Integer batch;

    @Option(names = "--steps", paramLabel = "N", description = "With --model: sampling steps; must be the model's T (4 for cifar10,"
            + " 2 for celeba_256; default: T).")
    Integer steps;

    @Option(names = "--wavediff-src", paramLabel = "DIR", defaultValue = "${env:WAVEDIFF_SRC}",
            description = "With --model wavediff: a checkout of the official code (VinAIResearch/WaveDiff) for the PyTorch peer"
                    + " (default: $WAVEDIFF_SRC); without it the peer is not run, and the output says so.")
    Path wavediffSrc;

    /** The batch of a model run when --batch is not given: the figure, a batch of 100. */
    static final int DEFAULT_MODEL_BATCH = 100;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        BackendOptions.pinVectorWidth(vectorBits);
        PrismConfig config = PrismConfig.load();
        Size s = switch (size.toLowerCase(Locale.ROOT)) {
            case "small" -> Size.SMALL;
            case "model" -> Size.MODEL;
            default -> throw new IllegalArgumentException("--size expected small or model, found '" + size + "'");
        };
        int t = threads != null ? threads : config.effectiveThreads();
        if (t < 1 || t > JvmBackend.MAX_THREADS) {
            throw new IllegalArgumentException("--threads expected 1 to " + JvmBackend.MAX_THREADS + ", found " + t);
        }
        if (forks < 1) {
            throw new IllegalArgumentException("--forks expected 1 or more, found " + forks);
        }
        if (forks > 1 && (breakdown || model != null)) {
            throw new IllegalArgumentException("--forks applies to the timed kernel cases; expected no " + (breakdown ? "--breakdown" : "--model")
                    + " with it, found both");
        }
        if (model != null || modelConfig != null || batch != null || steps != null) {
            return modelRun(out, t, modelOptions());
        }
        // The catalog, the whole-model forward, and the sampling run (which is not one plan, so it is timed apart).
        List<KernelCase> all = new ArrayList<>(Catalog.all(s));
        all.addAll(ModelCases.cases(s));
        if (train) {
            all.addAll(ModelCases.trainingCases(s));
            if (kernels == null) {
                kernels = ModelCases.trainingCases(s).stream().map(KernelCase::name).toList();
            }
        }
        boolean sampling = kernels == null || kernels.stream().anyMatch(ModelCases.SAMPLE::startsWith);
        List<String> planPrefixes = kernels == null ? null
                : kernels.stream().filter(p -> all.stream().anyMatch(c -> c.name().startsWith(p)) || !ModelCases.SAMPLE.startsWith(p)).toList();
        List<KernelCase> cases = planPrefixes != null && planPrefixes.isEmpty() ? List.of() : Catalog.select(all, planPrefixes);
        BenchRunner runner = new BenchRunner(warmup, warmupTime, runs, budget);
        if (breakdown) {
            try (JvmBackend jvm = JvmBackend.parallel(t)) {
                for (KernelCase c : cases) {
                    printBreakdown(out, c, jvm);
                }
            }
            return 0;
        }
        List<String> ids = backends != null ? backends : defaultBackends();
        printVectorWidth(out);

        MachineLoad load = MachineLoad.start();
        Peer peerResult = null;
        if (peer) {
            Path home = Path.of(System.getProperty("prism.home", "."));
            out.println("peer: running PyTorch CPU on " + t + " threads (tools/peers/torch_peer.py) ...");
            out.flush();
            peerResult = Peer.run(python, home.resolve("tools/peers/torch_peer.py"), t, kernels == null ? List.of() : kernels);
            out.println("peer: " + peerResult.description());
        }
        Ceilings ceilings = null;
        if (!noCeilings) {
            ceilings = Ceilings.measure(t);
            out.printf(java.util.Locale.ROOT, "ceilings: copy bandwidth %.1f GB/s, FMA peak %.1f GFLOP/s (%d threads, measured now)%n",
                    ceilings.bandwidth() / 1e9, ceilings.fmaPeak() / 1e9, t);
            out.flush();
        }

        List<BenchRunner.Result> results = new ArrayList<>();
        Map<String, String> descriptions = new LinkedHashMap<>();
        Map<String, Long> jit = null;
        Map<String, double[]> forkMedians = null;
        if (forks > 1) {
            out.println("forks: timing the cases in " + forks + " fresh JVMs, one after another");
            out.flush();
            Path dir = Files.createTempDirectory("prism-bench-forks");
            try {
                Forks.Outcome o = Forks.run(forkArgs(ids, t), forks, dir, out);
                for (String id : ids) {
                    descriptions.put(id, o.backends().getOrDefault(id, id));
                    out.println("backend " + id + ": " + descriptions.get(id));
                }
                forkMedians = new LinkedHashMap<>();
                for (Forks.Merged m : o.merged()) {
                    results.add(m.result());
                    forkMedians.put(m.result().kernel() + " on " + m.result().backend(), m.forkMedians());
                }
                jit = o.jit();
            } finally {
                try (var files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(dir);
            }
        }
        for (String id : forks > 1 ? List.<String>of() : ids) {
            try (Backend b = open(id, t, config)) {
                descriptions.put(id, b.description());
                out.println("backend " + id + ": " + b.description());
                out.flush();
                for (KernelCase c : cases) {
                    BenchRunner.Result r = runner.run(c, b, seed);
                    results.add(id.startsWith("tornado") ? relabel(r, id) : r);
                }
                if (sampling) {
                    try (ModelCases.SamplingRun run = new ModelCases.SamplingRun(b, s)) {
                        ModelCases.Setup setup = ModelCases.setup(s);
                        results.add(runner.time(ModelCases.SAMPLE, setup.shape() + " DDIM " + setup.steps() + " steps", id,
                                () -> run.run(seed), run.flops(), run.bytes()));
                    }
                }
            }
        }

        if (jit == null) {
            jit = runner.jitDuringTiming();      // a copy: taken after the cases ran
        }
        if (forkOut != null) {
            Forks.write(forkOut, results, jit, descriptions);
        }
        MachineLoad.Result loadResult = load == null ? null : load.stop();
        List<String> columns = new ArrayList<>(List.of("kernel", "shape", "backend", "first ms", "median ms", "IQR ms", "device ms",
                "peer ms", "x peer", "of limit"));
        if (forkMedians != null) {
            columns.add(5, "each JVM ms");
        }
        Table table = new Table(columns.toArray(String[]::new));
        for (int c = 3; c < columns.size(); c++) {
            table.right(c);
        }
        for (BenchRunner.Result r : results) {
            Double pm = peerResult == null ? null : peerResult.medians().get(r.kernel());
            List<String> row = new ArrayList<>(List.of(r.kernel(), r.shape(), r.backend(), fmt(r.firstMillis()), fmt(r.medianMillis()),
                    fmt(r.p75Millis() - r.p25Millis()), Double.isNaN(r.kernelMillis()) ? "" : fmt(r.kernelMillis()),
                    pm == null ? "" : fmt(pm), pm == null ? "" : String.format(Locale.ROOT, "%.2f", r.medianMillis() / pm),
                    ceilings == null ? "" : ceilings.fraction(r.flops(), r.bytes(), r.medianMillis() / 1e3).toString()));
            if (forkMedians != null) {
                row.add(5, forkList(forkMedians.get(r.kernel() + " on " + r.backend())));
            }
            table.add(row.toArray(String[]::new));
        }
        table.print(out);
        if (forkMedians != null) {
            out.println("median ms = the median of the " + forks + " JVMs' medians; each JVM ms = each JVM's median, in the order they ran.");
            forkMedians.forEach((k, v) -> {
                double lo = java.util.Arrays.stream(v).min().orElse(Double.NaN), hi = java.util.Arrays.stream(v).max().orElse(Double.NaN);
                if (hi >= Forks.SPREAD * lo) {
                    out.printf(Locale.ROOT, "spread: %s took %.2f times as long in its slowest JVM as in its fastest (%s ms)%n",
                            k, hi / lo, forkList(v));
                }
            });
        }
        out.println("x peer = Prism median / PyTorch median (below 1: Prism is faster). device ms = TornadoVM profiler kernel time"
                + " (median of " + BenchRunner.PROFILED_RUNS + " profiled runs after the timed ones, which run without the profiler);"
                + " median ms includes transfers.");
        out.println("of limit = bytes moved / copy bandwidth (mem) or flops / FMA peak (fma), whichever bounds the kernel"
                + " (its flops per byte against the ridge point).");
        out.println(loadResult == null ? "machine load: not measured (no /proc on this system)" : loadResult.describe());
        printJit(out, jit);
        if (json != null) {
            writeJson(json, results, peerResult, descriptions, t, s, ceilings, loadResult, jit, forkMedians);
            out.println("wrote " + json);
        }
        return 0;
    }

    private void printVectorWidth(PrintWriter out) {
        if (VectorWidth.modulePresent()) {
            out.println("vector width: " + VectorWidth.bits() + " bits for the jvm backend's hand-vectorised kernels (this CPU's widest: "
                    + VectorWidth.preferredBits() + (VectorWidth.emulated() ? "; wider runs emulated, many times slower" : "") + ")");
        }
    }

    private void printBreakdown(PrintWriter out, KernelCase c, JvmBackend jvm) {
        var parts = BenchRunner.breakdown(c, jvm, seed, runs, Math.max(warmupTime, BREAKDOWN_WARMUP_SECONDS));
        double sum = parts.values().stream().mapToDouble(Double::doubleValue).sum();
        out.printf(Locale.ROOT, "%s (%s) on %s: %.3f ms per execution in %d kernels%n", c.name(), c.shape(), jvm.description(), sum, parts.size());
        Table tb = new Table("kernel", "ms", "share").right(1, 2);
        parts.forEach((k, v) -> tb.add(k, fmt(v), String.format(Locale.ROOT, "%.1f%%", 100 * v / sum)));
        tb.print(out);
        out.flush();
    }

    /** --config as the model's options, the typed error naming --config. */
    private Map<String, String> modelOptions() {
        try {
            return dev.prism.nn.models.Models.parseOptions(modelConfig);
        } catch (ArgumentException e) {
            throw new IllegalArgumentException(e.messageAs("--config"), e);
        }
    }

    /**
     * --model wavediff: a whole sampling run per backend, seconds per batch, next to the official code in PyTorch;
     * or, with --breakdown, where one forward of the generator spends its time.
     */
    private int modelRun(PrintWriter out, int t, Map<String, String> options) throws IOException {
        if (model == null) {
            throw new IllegalArgumentException((modelConfig != null ? "--config" : batch != null ? "--batch" : "--steps")
                    + " applies only with --model; expected --model wavediff too, found none");
        }
        if (!model.equals("wavediff")) {
            throw new IllegalArgumentException("--model expected wavediff (the model bench times whole; the kernel catalog's"
                    + " model cases: -k model), found '" + model + "'");
        }
        if (kernels != null || train) {
            throw new IllegalArgumentException((train ? "--train" : "--kernel") + " does not apply with --model, which times the"
                    + " model's sampling run; expected one of them, found both");
        }
        WaveDiffCases.Setup s;
        try {
            s = WaveDiffCases.setup(options, batch != null ? batch : DEFAULT_MODEL_BATCH, steps);
        } catch (ArgumentException e) {
            String flag = switch (e.argument()) {
                case "batch" -> "--batch";
                case "steps" -> "--steps";
                case "options" -> "--config";
                default -> null;
            };
            throw flag == null ? e : new IllegalArgumentException(e.messageAs(flag), e);
        }
        if (breakdown) {
            try (JvmBackend jvm = JvmBackend.parallel(t)) {
                printBreakdown(out, WaveDiffCases.forward(s), jvm);
            }
            return 0;
        }
        PrismConfig cfg = PrismConfig.load();
        List<String> ids = backends != null ? backends : defaultModelBackends();
        printVectorWidth(out);
        out.println("model: wavediff " + s.options().get("preset") + (s.officialPreset() == null ? " with " + s.given() : "")
                + ", batch " + s.batch() + " of " + s.colours() + "x" + s.side() + "x" + s.side() + ", " + s.steps()
                + " steps of DDGAN's posterior sampling and the image, seeded random weights");
        out.flush();
        MachineLoad load = MachineLoad.start();
        Peer peerResult = officialPeer(out, s, t);
        BenchRunner runner = new BenchRunner(warmup, warmupTime, runs, budget);
        List<BenchRunner.Result> results = new ArrayList<>();
        Map<String, String> descriptions = new LinkedHashMap<>();
        WaveDiffCases.Memory memory = null;
        for (String id : ids) {
            try (Backend b = open(id, t, cfg); WaveDiffCases.SamplingRun run = new WaveDiffCases.SamplingRun(b, s)) {
                descriptions.put(id, b.description());
                out.println("backend " + id + ": " + b.description());
                out.flush();
                BenchRunner.Result r = runner.time(WaveDiffCases.SAMPLE, s.shape(), id, () -> run.run(seed), run.flops(), run.bytes());
                results.add(r);
                memory = run.memory();
                System.gc();
                long used = java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                out.printf(Locale.ROOT, "memory on %s, measured: %s of heap in use after a full collection, the run's arrays held"
                        + " (the JVM's own objects included)%n", id, mb(used));
                out.flush();
            }
        }
        if (memory != null) {
            out.printf(Locale.ROOT, "memory for a batch of %d, computed from the plan: %s = %s of weights + %s of activations, scratch and"
                            + " the loop's arrays (%d arrays) + %s of the result and the image after the last step%n", s.batch(),
                    mb(memory.total()), mb(memory.weightBytes()), mb(memory.planBytes()), memory.arrays(), mb(memory.afterBytes()));
        }
        MachineLoad.Result loadResult = load == null ? null : load.stop();
        Table table = new Table("model", "shape", "backend", "first s", "median s", "IQR s", "runs", "peer s", "x peer", "images/s")
                .right(3, 4, 5, 6, 7, 8, 9);
        for (BenchRunner.Result r : results) {
            Double pm = peerResult == null ? null : peerResult.medians().get(r.kernel());
            table.add(r.kernel(), r.shape(), r.backend(), secs(r.firstMillis()), secs(r.medianMillis()), secs(r.p75Millis() - r.p25Millis()),
                    Integer.toString(r.runs()), pm == null ? "" : secs(pm), pm == null ? "" : String.format(Locale.ROOT, "%.2f", r.medianMillis() / pm),
                    String.format(Locale.ROOT, "%.1f", s.batch() / (r.medianMillis() / 1e3)));
        }
        table.print(out);
        out.println("seconds per batch: first = the first run (JIT warm-up included), median of the timed runs after one untimed;"
                + " x peer = Prism / PyTorch (below 1: Prism is faster).");
        out.println(loadResult == null ? "machine load: not measured (no /proc on this system)" : loadResult.describe());
        printJit(out, runner.jitDuringTiming());
        if (json != null) {
            writeJson(json, results, peerResult, descriptions, t, Size.MODEL, null, loadResult, runner.jitDuringTiming(), null);
            out.println("wrote " + json);
        }
        return 0;
    }

    /**
     * The official code's time for the same configuration, or one line saying why it is not run: no checkout
     * named, a folder that is not one, options that are not an official preset's, no interpreter.
     */
    private Peer officialPeer(PrintWriter out, WaveDiffCases.Setup s, int t) {
        String why = null;
        if (wavediffSrc == null || wavediffSrc.toString().isEmpty()) {
            why = "no checkout of the official WaveDiff code named (--wavediff-src or WAVEDIFF_SRC)";
        } else if (!Files.isDirectory(wavediffSrc.resolve("score_sde"))) {
            why = "--wavediff-src " + wavediffSrc + " expected a checkout of the official WaveDiff code (a folder with score_sde/), found none";
        } else if (s.officialPreset() == null) {
            why = "the official code is timed at its presets only (" + String.join(", ", dev.prism.nn.models.Models.WAVEDIFF_OFFICIAL)
                    + "), found options " + s.given();
        } else if (!Files.isExecutable(python)) {
            why = "--python " + python + " is not an executable";
        }
        if (why != null) {
            out.println("peer: not run: " + why);
            out.flush();
            return null;
        }
        Path script = Path.of(System.getProperty("prism.home", ".")).resolve("tools/refgen/wavediff.py");
        out.println("peer: running the official WaveDiff code (" + wavediffSrc + ") in PyTorch on " + t + " threads: tools/refgen/wavediff.py "
                + s.officialPreset() + " --time --batch " + s.batch() + " ...");
        out.flush();
        Peer p = Peer.officialWaveDiff(python, script, wavediffSrc, s.officialPreset(), s.batch(), t, 3, WaveDiffCases.SAMPLE);
        out.println("peer: " + p.description());
        out.flush();
        return p;
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static String secs(double ms) {
        return Double.isNaN(ms) ? "" : String.format(Locale.ROOT, "%.3f", ms / 1e3);
    }

    /** The backends a model run times by default: all cores, and every TornadoVM device (jvm-seq is the one-thread oracle). */
    private static List<String> defaultModelBackends() {
        List<String> ids = new ArrayList<>(List.of("jvm"));
        if (TornadoSupport.unavailableReason() == null) {
            for (DeviceInfo d : TornadoSupport.devices()) {
                ids.add(d.id());
            }
        }
        return ids;
    }

    private List<String> defaultBackends() {
        List<String> ids = new ArrayList<>(List.of("jvm-seq"));
        ids.addAll(defaultModelBackends());
        return ids;
    }

    private Backend open(String id, int threads, PrismConfig config) {
        if (id.equals("jvm")) {
            return JvmBackend.parallel(threads);
        }
        if (id.equals("jvm-plain")) {
            return JvmBackend.parallel(threads, false);
        }
        if (id.equals("jvm-seq")) {
            return JvmBackend.sequential();
        }
        if (id.startsWith("tornado:")) {
            int index;
            try {
                index = Integer.parseInt(id.substring("tornado:".length()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--backends expected jvm-seq, jvm, jvm-plain or tornado:<index>, found '" + id + "'");
            }
            TornadoSettings ts = config.tornado();
            return TornadoSupport.open(ts.with(index, allowBailout));
        }
        throw new IllegalArgumentException("--backends expected jvm-seq, jvm, jvm-plain or tornado:<index>, found '" + id + "'");
    }

    private static BenchRunner.Result relabel(BenchRunner.Result r, String id) {
        return new BenchRunner.Result(r.kernel(), r.shape(), id, r.firstMillis(), r.medianMillis(), r.p25Millis(), r.p75Millis(),
                r.runs(), r.kernelMillis(), r.compileMillis(), r.flops(), r.bytes());
    }

    private static String forkList(double[] medians) {
        StringBuilder b = new StringBuilder();
        for (double v : medians) {
            b.append(b.isEmpty() ? "" : " · ").append(fmt(v));
        }
        return b.toString();
    }

    /** The options of this run as a fork receives them: the same cases, backends and timing, no peer, no ceilings. */
    private List<String> forkArgs(List<String> ids, int threads) {
        List<String> a = new ArrayList<>();
        if (kernels != null) {
            a.add("--kernel=" + String.join(",", kernels));
        }
        a.addAll(List.of("--size=" + size, "--backends=" + String.join(",", ids), "--threads=" + threads,
                "--warmup=" + warmup, "--warmup-time=" + warmupTime, "--runs=" + runs, "--budget=" + budget, "--seed=" + seed,
                "--no-ceilings"));
        if (vectorBits != null) {
            a.add("--vector-bits=" + vectorBits);
        }
        if (allowBailout) {
            a.add("--allow-bailout");
        }
        if (train) {
            a.add("--train");
        }
        return a;
    }

    private static String fmt(double ms) {
        return Double.isNaN(ms) ? "" : String.format(Locale.ROOT, ms < 10 ? "%.3f" : "%.1f", ms);
    }

    /** One warning line naming the cases during whose timed runs the JIT was still compiling, if any. */
    private static void printJit(PrintWriter out, Map<String, Long> jit) {
        if (!jit.isEmpty()) {
            StringBuilder cases = new StringBuilder();
            jit.forEach((k, ms) -> cases.append(cases.isEmpty() ? "" : ", ").append(k).append(" (").append(ms).append(" ms)"));
            out.println("warning: the JIT was still compiling during the timed runs of " + cases
                    + "; those times may include code not compiled yet (a longer --warmup-time may help)");
        }
    }

    private void writeJson(Path file, List<BenchRunner.Result> results, Peer peerResult, Map<String, String> descriptions,
                           int threads, Size s, Ceilings ceilings, MachineLoad.Result load, Map<String, Long> jit,
                           Map<String, double[]> forkMedians) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("--json " + file + ": directory " + parent + " does not exist");
        }
        AtomicWrite.write(file, true, channel -> {
            OutputStream os = Channels.newOutputStream(channel);
            // The generator must not close the channel: AtomicWrite still forces and renames it.
            try (JsonGenerator g = new JsonFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET).createGenerator(os)) {
                g.useDefaultPrettyPrinter();
                g.writeStartObject();
                g.writeObjectFieldStart("machine");
                g.writeStringField("cpu", Machine.cpuModel());
                g.writeNumberField("processors", Runtime.getRuntime().availableProcessors());
                g.writeStringField("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
                g.writeStringField("java", System.getProperty("java.vm.name") + " " + Runtime.version());
                if (ceilings != null) {
                    g.writeNumberField("copy_bandwidth_bytes_per_s", ceilings.bandwidth());
                    g.writeNumberField("fma_peak_flops_per_s", ceilings.fmaPeak());
                }
                if (load != null) {
                    g.writeNumberField("other_processes_share_of_one_processor", load.share());
                }
                g.writeEndObject();
                g.writeStringField("git", Machine.gitRevision(Path.of(System.getProperty("prism.home", "."))));
                g.writeNumberField("threads", threads);
                if (VectorWidth.modulePresent()) {
                    g.writeNumberField("vector_bits", VectorWidth.bits());
                    g.writeNumberField("vector_bits_cpu_widest", VectorWidth.preferredBits());
                }
                g.writeStringField("size", s.name().toLowerCase(Locale.ROOT));
                if (forkMedians != null) {
                    g.writeNumberField("forks", forks);
                }
                g.writeObjectFieldStart("backends");
                for (var e : descriptions.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
                if (peerResult != null) {
                    g.writeStringField("peer", peerResult.description());
                }
                g.writeObjectFieldStart("jit_ms_during_timing");
                for (var e : jit.entrySet()) {
                    g.writeNumberField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
                g.writeArrayFieldStart("results");
                for (BenchRunner.Result r : results) {
                    g.writeStartObject();
                    g.writeStringField("kernel", r.kernel());
                    g.writeStringField("shape", r.shape());
                    g.writeStringField("backend", r.backend());
                    g.writeNumberField("first_ms", r.firstMillis());
                    g.writeNumberField("median_ms", r.medianMillis());
                    g.writeNumberField("p25_ms", r.p25Millis());
                    g.writeNumberField("p75_ms", r.p75Millis());
                    g.writeNumberField("runs", r.runs());
                    if (forkMedians != null) {
                        g.writeArrayFieldStart("jvm_medians_ms");
                        for (double v : forkMedians.get(r.kernel() + " on " + r.backend())) {
                            g.writeNumber(v);
                        }
                        g.writeEndArray();
                    }
                    if (!Double.isNaN(r.kernelMillis())) {
                        g.writeNumberField("device_kernel_ms", r.kernelMillis());
                        g.writeNumberField("compile_ms", r.compileMillis());
                    }
                    g.writeNumberField("flops", r.flops());
                    g.writeNumberField("bytes", r.bytes());
                    if (ceilings != null) {
                        Ceilings.Fraction f = ceilings.fraction(r.flops(), r.bytes(), r.medianMillis() / 1e3);
                        if (!Double.isNaN(f.value())) {
                            g.writeStringField("limit", f.limit());
                            g.writeNumberField("fraction_of_limit", f.value());
                        }
                    }
                    Double pm = peerResult == null ? null : peerResult.medians().get(r.kernel());
                    if (pm != null) {
                        g.writeNumberField("peer_median_ms", pm);
                        g.writeNumberField("ratio_to_peer", r.medianMillis() / pm);
                    }
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            os.flush();
        });
    }

    /** Facts about the machine for benchmark reports. */
    static final class Machine {
        private Machine() {
        }

        static String cpuModel() {
            try {
                return Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8).stream()
                        .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                        .findFirst().orElse(System.getProperty("os.arch"));
            } catch (IOException e) {
                return System.getProperty("os.arch");
            }
        }

        static String gitRevision(Path home) {
            try {
                Process p = new ProcessBuilder("git", "-C", home.toString(), "describe", "--always", "--dirty", "--abbrev=12")
                        .redirectErrorStream(true).start();
                String rev = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                return p.waitFor() == 0 && !rev.isEmpty() ? rev : "unknown";
            } catch (IOException e) {
                return "unknown";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "unknown";
            }
        }
    }
}
