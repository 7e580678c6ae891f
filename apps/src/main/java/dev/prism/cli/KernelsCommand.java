package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.KernelCheck;
import dev.prism.kernels.catalog.Size;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code prism kernels}: list the kernels, or run each once and compare it with the sequential reference. */
@Command(name = "kernels", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "List Prism's kernels, or (--check) run every kernel once on fresh random data on the selected "
        + "backend and compare each output with the sequential reference (the kernels' own loops).")
final class KernelsCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.BACKEND;
    }

    @Spec
    CommandSpec spec;

    @Mixin
    BackendOptions backend;

    @Option(names = "--check", description = "Run every selected kernel and compare it with the reference.")
    boolean check;

    @Option(names = "--size", paramLabel = "small|model", defaultValue = "model",
            description = "Problem sizes: model = batch 1, C 64, 64x64 (the models' sizes); small = odd shapes. Default: ${DEFAULT-VALUE}.")
    String size;

    @Option(names = {"-k", "--kernel"}, paramLabel = "PREFIX", split = ",",
            description = "Only kernels whose name starts with PREFIX (repeatable, comma-separated), e.g. haar,prismconv.forward.")
    List<String> kernels;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random inputs. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--tolerance", paramLabel = "REL",
            description = "Largest max-relative error accepted (default: 0 — bit-identical — for jvm-seq, else 1e-5: hand-vectorised"
                    + " JVM kernels and devices may round differently).")
    Double tolerance;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Size s = switch (size.toLowerCase(Locale.ROOT)) {
            case "small" -> Size.SMALL;
            case "model" -> Size.MODEL;
            default -> throw new IllegalArgumentException("--size expected small or model, found '" + size + "'");
        };
        List<KernelCase> cases = Catalog.select(s, kernels);
        if (!check) {
            Table t = new Table("kernel", "shape");
            cases.forEach(c -> t.add(c.name(), c.shape()));
            t.print(out);
            out.println(cases.size() + " kernels; run with --check to execute them.");
            return 0;
        }
        PrismConfig config = PrismConfig.load();
        try (Backend test = backend.open(config); JvmBackend reference = JvmBackend.sequential()) {
            double tol = tolerance != null ? tolerance : test instanceof JvmBackend j && j.isSequential() ? 0.0 : 1e-5;
            if (tol < 0) {
                throw new IllegalArgumentException("--tolerance expected >= 0, found " + tol);
            }
            out.println("backend: " + test.id() + " — " + test.description());
            out.println("reference: " + reference.description());
            out.println("checking " + cases.size() + " kernels at " + s.name().toLowerCase(Locale.ROOT)
                    + " size, seed " + seed + ", tolerance " + (tol == 0 ? "bit-identical" : tol + " relative"));
            out.flush();
            Table t = new Table("kernel", "shape", "ms", "max abs err", "max rel err", "result").right(2, 3, 4);
            PrintWriter progress = System.console() != null ? spec.commandLine().getErr() : null;
            int failed = 0;
            int i = 0;
            for (KernelCase c : cases) {
                i++;
                if (progress != null) {
                    progress.printf("\r[%d/%d] %-48s", i, cases.size(), c.name());
                    progress.flush();
                }
                KernelCheck.Row r = KernelCheck.run(c, reference, test, tol, seed);
                if (!r.ok()) {
                    failed++;
                }
                t.add(r.kernel(), r.shape(), String.format(Locale.ROOT, "%.3f", r.millis()),
                        String.format(Locale.ROOT, "%.2e", r.maxAbsError()), String.format(Locale.ROOT, "%.2e", r.maxRelError()),
                        r.ok() ? (r.maxAbsError() == 0 ? "ok (identical)" : "ok") : "FAIL: " + r.problem());
            }
            if (progress != null) {
                progress.printf("\r%-60s\r", "");
                progress.flush();
            }
            t.print(out);
            out.println(failed == 0 ? "all " + cases.size() + " kernels match the reference"
                    : failed + " of " + cases.size() + " kernels FAILED");
            return failed == 0 ? 0 : Main.EXIT_FAILED;
        }
    }
}
