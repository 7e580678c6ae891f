package dev.prism.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code prism bench --forks N}: the same cases timed in N fresh JVMs, one after another, and per case the
 * median of the JVMs' medians with each JVM's own median beside it. One JVM's JIT can compile a kernel into
 * slower code than another JVM's (a vector kept in memory instead of a register, measured in
 * docs/BENCHMARKS.md), so one JVM's row can be 1.3 to 4.6 times its usual time; with N ≥ 3 a comparison
 * between two runs no longer rests on one JVM's compilation, and the spread shows when one differed.
 *
 * <p>A fork is the same JVM (executable, options, class path) running {@code bench} with the options the
 * caller passes and {@code --fork-out FILE}; it writes its results to that file as tab-separated lines
 * ({@link #write}), which the parent reads back ({@link #read}).
 */
public final class Forks {
    /** A JVM's median this many times another's, in one case, is named as a spread. */
    public static final double SPREAD = 1.3;

    private Forks() {
    }

    /** One case over the forks: the median of the forks' medians (and of their other figures), and each fork's median. */
    public record Merged(BenchRunner.Result result, double[] forkMedians) {
        /** The slowest fork's median over the fastest's. */
        public double spread() {
            double lo = Arrays.stream(forkMedians).min().orElse(Double.NaN);
            double hi = Arrays.stream(forkMedians).max().orElse(Double.NaN);
            return hi / lo;
        }
    }

    /**
     * What one fork measured: its results in order, the JIT's compilation time during each case's timed runs,
     * and each backend's description as the fork opened it.
     */
    public record Fork(List<BenchRunner.Result> results, Map<String, Long> jit, Map<String, String> backends) {
    }

    /** Every fork's results merged, the JIT times summed over the forks, and the first fork's backend descriptions. */
    public record Outcome(List<Merged> merged, Map<String, Long> jit, Map<String, String> backends) {
    }

    /**
     * Runs {@code n} forks of this JVM with {@code benchArgs} (the arguments after {@code bench}, without
     * {@code --fork-out}), one after another, each writing into {@code dir}; prints one progress line per fork.
     */
    public static Outcome run(List<String> benchArgs, int n, Path dir, PrintWriter progress) throws IOException {
        if (n < 2) {
            throw new IllegalArgumentException("--forks: expected at least 2 to fork, found " + n);
        }
        List<Fork> forks = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            Path file = dir.resolve("fork-" + i + ".tsv");
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.add("bench");
            cmd.addAll(benchArgs);
            cmd.add("--fork-out");
            cmd.add(file.toString());
            long t0 = System.nanoTime();
            Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int rc;
            try {
                rc = p.waitFor();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("--forks: interrupted while fork " + i + " of " + n + " ran", e);
            }
            if (rc != 0) {
                throw new IOException("--forks: fork " + i + " of " + n + " ended with exit code " + rc
                        + " (its errors are above); command: " + String.join(" ", cmd));
            }
            Fork f = read(file);
            forks.add(f);
            progress.printf(Locale.ROOT, "fork %d of %d: %d cases in %.0f s%n", i, n, f.results().size(),
                    (System.nanoTime() - t0) / 1e9);
            progress.flush();
        }
        Map<String, Long> jit = new LinkedHashMap<>();
        for (Fork f : forks) {
            f.jit().forEach((k, v) -> jit.merge(k, v, Long::sum));
        }
        return new Outcome(merge(forks.stream().map(Fork::results).toList()), jit, forks.get(0).backends());
    }

    /** This JVM's executable, its options (a debugger's agent left out: its port is taken) and its class path. */
    static List<String> javaCommand() {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.prism.cli.Main");
        return cmd;
    }

    /**
     * Per case (kernel and backend, in the first fork's order), the median over the forks of each figure; a
     * case missing from a fork is an error naming it.
     */
    public static List<Merged> merge(List<List<BenchRunner.Result>> forks) {
        if (forks.isEmpty()) {
            throw new IllegalArgumentException("no forks to merge");
        }
        List<Merged> out = new ArrayList<>();
        for (BenchRunner.Result first : forks.get(0)) {
            List<BenchRunner.Result> same = new ArrayList<>();
            for (int i = 0; i < forks.size(); i++) {
                BenchRunner.Result r = forks.get(i).stream()
                        .filter(x -> x.kernel().equals(first.kernel()) && x.backend().equals(first.backend()))
                        .findFirst().orElse(null);
                if (r == null) {
                    throw new IllegalStateException("fork " + (i + 1) + " has no result for " + first.kernel() + " on "
                            + first.backend() + ", which fork 1 has");
                }
                same.add(r);
            }
            double[] medians = same.stream().mapToDouble(BenchRunner.Result::medianMillis).toArray();
            BenchRunner.Result m = new BenchRunner.Result(first.kernel(), first.shape(), first.backend(),
                    median(same.stream().mapToDouble(BenchRunner.Result::firstMillis).toArray()), median(medians),
                    median(same.stream().mapToDouble(BenchRunner.Result::p25Millis).toArray()),
                    median(same.stream().mapToDouble(BenchRunner.Result::p75Millis).toArray()),
                    same.stream().mapToInt(BenchRunner.Result::runs).sum(),
                    median(same.stream().mapToDouble(BenchRunner.Result::kernelMillis).toArray()),
                    median(same.stream().mapToDouble(BenchRunner.Result::compileMillis).toArray()),
                    first.flops(), first.bytes());
            out.add(new Merged(m, medians));
        }
        return out;
    }

    /** The median; the mean of the middle two for an even count; NaN when any value is NaN (a figure a backend has not). */
    static double median(double[] v) {
        double[] s = v.clone();
        for (double x : s) {
            if (Double.isNaN(x)) {
                return Double.NaN;
            }
        }
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Writes a fork's results: one tab-separated line per backend, per case and per JIT figure, each led by
     * its kind ({@code backend}, {@code result}, {@code jit}).
     */
    public static void write(Path file, List<BenchRunner.Result> results, Map<String, Long> jit, Map<String, String> backends)
            throws IOException {
        StringBuilder b = new StringBuilder();
        backends.forEach((k, v) -> b.append("backend\t").append(k).append('\t').append(v.replace('\t', ' ').replace('\n', ' ')).append('\n'));
        for (BenchRunner.Result r : results) {
            b.append(String.join("\t", "result", r.kernel(), r.shape(), r.backend(), hex(r.firstMillis()), hex(r.medianMillis()),
                    hex(r.p25Millis()), hex(r.p75Millis()), Integer.toString(r.runs()), hex(r.kernelMillis()),
                    hex(r.compileMillis()), Long.toString(r.flops()), Long.toString(r.bytes()))).append('\n');
        }
        jit.forEach((k, v) -> b.append("jit\t").append(k).append('\t').append(v).append('\n'));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, b, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** Reads what {@link #write} wrote; a line of another form is an error naming the file and the line. */
    public static Fork read(Path file) throws IOException {
        List<BenchRunner.Result> results = new ArrayList<>();
        Map<String, Long> jit = new LinkedHashMap<>();
        Map<String, String> backends = new LinkedHashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String[] f = lines.get(i).split("\t", -1);
            try {
                if (f[0].equals("result") && f.length == 13) {
                    results.add(new BenchRunner.Result(f[1], f[2], f[3], unhex(f[4]), unhex(f[5]), unhex(f[6]), unhex(f[7]),
                            Integer.parseInt(f[8]), unhex(f[9]), unhex(f[10]), Long.parseLong(f[11]), Long.parseLong(f[12])));
                    continue;
                }
                if (f[0].equals("jit") && f.length == 3) {
                    jit.put(f[1], Long.parseLong(f[2]));
                    continue;
                }
                if (f[0].equals("backend") && f.length == 3) {
                    backends.put(f[1], f[2]);
                    continue;
                }
            } catch (NumberFormatException e) {
                // reported below with the line
            }
            throw new IOException(file + " line " + (i + 1) + ": expected a 'result' line of 13 fields, or a 'jit' or 'backend'"
                    + " line of 3, found '" + lines.get(i) + "'");
        }
        return new Fork(results, jit, backends);
    }

    /** A double exactly, as Java's hexadecimal floating-point text (NaN as NaN). */
    private static String hex(double v) {
        return Double.toHexString(v);
    }

    private static double unhex(String s) {
        return Double.parseDouble(s);
    }
}
