package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.backend.TornadoSettings;
import dev.prism.backend.TornadoSupport;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The JMH harness over the kernel catalog: one subclass per kernel family names its cases in a
 * {@code kernel} parameter; this class sets the case up (seeded inputs) on the chosen backend and
 * times one execution of its plan. Run through the launcher, e.g.
 * {@code ./prism jmh -p size=MODEL -p backend=jvm HaarBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class CatalogBench {

    /**
     * jvm: all processors through the per-lane helpers; jvm-seq: the kernels' own loops on one thread;
     * tornado:&lt;i&gt;: TornadoVM device i (run JMH through the launcher with TORNADOVM_HOME set, and pass
     * {@code -p backend=jvm,jvm-seq,tornado:0}). JMH measures end to end, transfers included; the device
     * kernel time and the compile time are in {@code prism bench}.
     */
    @Param({"jvm", "jvm-seq"})
    public String backend;

    /** MODEL: batch 1, C 64, 64x64 (attention N 1024); SMALL: the odd shapes of the tests. */
    @Param({"MODEL", "SMALL"})
    public String size;

    private Backend b;
    private Executable exec;
    private float[] firstOutput;

    /** The catalog case this benchmark runs (the subclass's {@code kernel} parameter). */
    protected abstract String kernel();

    @Setup(Level.Trial)
    public void setUp() {
        Size s = Size.valueOf(size);
        KernelCase c = Catalog.select(s, List.of(kernel())).stream()
                .filter(k -> k.name().equals(kernel())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no catalog case named '" + kernel() + "'"));
        if (backend.startsWith("tornado:")) {
            int device = Integer.parseInt(backend.substring("tornado:".length()));
            b = TornadoSupport.open(new TornadoSettings(device, java.util.Map.of(), false, java.util.Map.of()));
        } else {
            b = switch (backend) {
                case "jvm" -> JvmBackend.parallel();
                case "jvm-plain" -> JvmBackend.parallel(Runtime.getRuntime().availableProcessors(), false);
                case "jvm-seq" -> JvmBackend.sequential();
                default -> throw new IllegalArgumentException("backend expected jvm, jvm-plain, jvm-seq or tornado:<index>, found '" + backend + "'");
            };
        }
        Plan plan = c.build().apply(1L);
        exec = b.compile(plan);
        firstOutput = plan.outputs().iterator().next();
    }

    @Benchmark
    public float run() {
        exec.execute();
        return firstOutput[0];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        exec.close();
        b.close();
    }
}
