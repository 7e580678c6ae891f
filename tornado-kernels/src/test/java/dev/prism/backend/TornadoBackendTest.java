package dev.prism.backend;

import dev.prism.kernels.KernelRegistry;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.KernelCheck;
import dev.prism.kernels.catalog.Size;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel as a TornadoVM task, compared with the JVM reference. Needs a TornadoVM SDK:
 * {@code TORNADOVM_HOME=... ./mvnw -Ptornado verify} (docs/BACKENDS.md, TornadoVM).
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class TornadoBackendTest {
    /** The tolerance of the PyTorch checks: max |device − JVM| ≤ 1e-5 · max |JVM|. */
    private static final double TOLERANCE = 1e-5;
    private static Backend tornado;
    private static final JvmBackend SEQ = JvmBackend.sequential();

    @BeforeAll
    static void open() {
        tornado = dev.prism.testing.Devices.tornadoOrSkip();
    }

    @AfterAll
    static void close() {
        if (tornado != null) {
            tornado.close();
        }
    }

    static Stream<String> smallCases() {
        return Catalog.names(Size.SMALL);
    }

    @ParameterizedTest
    @MethodSource("smallCases")
    void everyKernelMatchesTheJvmOnTheDevice(String name) {
        KernelCase c = Catalog.all(Size.SMALL).stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
        KernelCheck.Row row = KernelCheck.run(c, SEQ, tornado, TOLERANCE, 7);
        assertTrue(row.ok(), name + ": " + row.problem());
    }

    @Test
    void aChainOfTwelveKernelsRunsAsOnePlanAndMatchesTheJvm() {
        KernelCase chain = Catalog.select(Size.SMALL, List.of("chain.resblocks")).getFirst();
        Plan plan = chain.build().apply(3L);
        assertTrue(plan.launches().size() >= 10, "launches: " + plan.launches().size());
        KernelCheck.Row row = KernelCheck.run(chain, SEQ, tornado, TOLERANCE, 3);
        assertTrue(row.ok(), row.problem());
    }

    @Test
    void weightsMoveOnceAndActivationsStayOnTheDevice() {
        // The residual chain, then a product with a weight as large as the image, so that a weight
        // that went down again could not hide in TornadoVM's per-task accounting.
        Plan chain = Catalog.select(Size.SMALL, List.of("chain.resblocks")).getFirst().build().apply(5L);
        float[] last = chain.outputs().iterator().next();
        float[] weight = new dev.prism.kernels.catalog.Rand(9).gaussian(last.length);
        float[] out = new float[last.length];
        Plan plan = Plan.builder("weights-once").addAll(chain.launches())
                .add(dev.prism.kernels.Elementwise.mul(last, weight, out, last.length))
                .constants(chain.constants().toArray(float[][]::new)).constants(weight)
                .inputs(chain.inputs().toArray(float[][]::new)).outputs(out).build();
        long constantBytes = plan.constants().stream().mapToLong(b -> 4L * b.length).sum();
        long inputBytes = plan.inputs().stream().mapToLong(b -> 4L * b.length).sum();
        long outputBytes = 4L * out.length;
        List<ExecutionStats> stats = new ArrayList<>();
        try (Executable e = tornado.compile(plan)) {
            e.profile(true);
            for (int i = 0; i < 4; i++) {
                e.execute();
                stats.add(e.lastStats().orElseThrow());
            }
        }
        // TornadoVM's copy-in counter adds each output's size and 24 bytes per task (ExecutionStats),
        // and a 16-byte header per array; 64 bytes per buffer covers the headers.
        long accounting = outputBytes + 24L * plan.launches().size();
        long slack = 64L * (plan.constants().size() + plan.inputs().size() + plan.outputs().size());
        assertTrue(stats.get(0).copyInBytes() >= constantBytes + inputBytes, "first: " + stats.get(0));
        for (int i = 1; i < stats.size(); i++) {
            ExecutionStats s = stats.get(i);
            // Later executions move the per-step input only: not the weights, not the activations.
            assertTrue(s.copyInBytes() <= inputBytes + accounting + slack,
                    "execution " + i + " moved " + s.copyInBytes() + " bytes in; input " + inputBytes + ", weights " + constantBytes);
            assertTrue(s.copyOutBytes() >= outputBytes && s.copyOutBytes() <= outputBytes + slack,
                    "execution " + i + " moved " + s.copyOutBytes() + " bytes out; the output is " + outputBytes);
            assertTrue(s.kernelNanos() > 0, "execution " + i + " ran no kernel on the device");
        }
        assertTrue(constantBytes > slack + 24L * plan.launches().size(), "the weights must be large enough to be seen");
    }

    /**
     * Every java.lang.Math method the kernel scan lets through compiles on the device and matches the JVM
     * (KernelScanTest checks that MathKernels calls exactly those). A kernel that TornadoVM cannot compile
     * is TornadoFailureTest's.
     */
    @Test
    void everyMathMethodTheScanAllowsRunsOnTheDeviceAndMatchesTheJvm() throws ReflectiveOperationException {
        KernelRegistry.register("math", MathKernels.class);
        int n = 257;
        float[] x = Inputs.uniform(n, -1f, 1f, 11);
        float[] z = Inputs.uniform(n, -1f, 1f, 12);
        int checked = 0;
        for (java.lang.reflect.Method m : MathKernels.class.getDeclaredMethods()) {
            if (!java.lang.reflect.Modifier.isPublic(m.getModifiers())) {
                continue;
            }
            float[] expected = new float[n];
            m.invoke(null, x, z, expected, n);
            float[] y = Inputs.poisoned(n);
            Runnable loops = () -> {
                throw new AssertionError("the device runs the kernel, not the host");
            };
            tornado.run(new Launch("math." + m.getName(), new Object[] {x, z, y, n}, new int[] {2}, n, loops, (a, b) -> loops.run(), n, 12L * n));
            Arrays32.assertClose("math." + m.getName(), expected, y);
            checked++;
        }
        assertEquals(KernelScan.MATH.size(), checked);
    }

    @Test
    void aConfiguredWorkGroupSizeIsAppliedAndTheResultStillMatches() {
        // haar.dwt2 at SMALL size has the grid (n·c, h/2) = (10, 7): a 5×7 work-group divides it.
        KernelCase dwt = Catalog.select(Size.SMALL, List.of("haar.dwt2")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false,
                java.util.Map.of("haar.dwt2", new int[] {5, 7})))) {
            KernelCheck.Row row = KernelCheck.run(dwt, SEQ, b, TOLERANCE, 11);
            assertTrue(row.ok(), row.problem());
        }
    }

    @Test
    void aWorkGroupTheGridOrTheDeviceCannotTakeFailsNamingTheSetting() {
        // TornadoVM itself adjusts such sizes without a word; Prism refuses them.
        KernelCase dwt = Catalog.select(Size.SMALL, List.of("haar.dwt2")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false,
                java.util.Map.of("haar.dwt2", new int[] {4, 7})))) {
            var e = assertThrows(IllegalArgumentException.class, () -> KernelCheck.run(dwt, SEQ, b, TOLERANCE, 11));
            assertEquals("prism.tornado.workgroup.haar.dwt2=4,7: 4 does not divide the grid's dimension 0 (grid [10, 7] at these sizes);"
                    + " choose divisors of it", e.getMessage());
        }
        // SiLU at model size is one dimension of 262144 lanes: 8192 divides it but no device here runs 8192 per group.
        KernelCase big = Catalog.select(Size.MODEL, List.of("activation.silu")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false,
                java.util.Map.of("activation.silu", new int[] {8192})))) {
            var e = assertThrows(IllegalArgumentException.class, () -> KernelCheck.run(big, SEQ, b, TOLERANCE, 11));
            assertTrue(e.getMessage().startsWith("prism.tornado.workgroup.activation.silu=8192: "), e.getMessage());
            assertTrue(e.getMessage().contains("limit of"), e.getMessage());
        }
    }

    @Test
    void aKernelWhoseInnerBoundIsNotAParameterAloneRunsWithAWorkGroupAndMatches() {
        // gating.gatedSum loops over n·c planes, then h rows. Bounded by h alone, the row loop made TornadoVM 5.2 give
        // h the grid's first size (n·c) under a worker grid, and PoCL crashed the JVM writing out of bounds; bounded
        // by Math.max(h, 0) it keeps h (Parallel, "Loop bounds").
        KernelCase gated = Catalog.select(Size.SMALL, List.of("gating.gatedSum")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false,
                java.util.Map.of("gating.gatedSum", new int[] {1, 1})))) {
            KernelCheck.Row row = KernelCheck.run(gated, SEQ, b, TOLERANCE, 11);
            assertTrue(row.ok(), row.problem());
        }
    }

    /**
     * With {@code cpuWorkGroup} set, every kernel runs with a work-group along its first dimension, and every one of
     * these families still matches the reference, including those ({@code norm}, {@code gating}, {@code concat},
     * {@code prismconv}) whose inner loops a worker grid broke while they were bounded by a parameter alone.
     */
    @Test
    void theCpuWorkGroupIsAppliedWhereItIsSafeAndEveryKernelStillMatches() {
        List<KernelCase> cases = Catalog.select(Size.SMALL, List.of("conv2d", "gemm", "attention", "norm", "gating", "concat",
                "prismconv.forward", "haar", "resample", "elementwise"));
        String text = dev.prism.testing.Devices.planBuildLog(() -> {
            try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false, java.util.Map.of(), 0,
                    TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS, 8))) {
                for (KernelCase c : cases) {
                    KernelCheck.Row row = KernelCheck.run(c, SEQ, b, TOLERANCE, 11);
                    assertTrue(row.ok(), c.name() + ": " + row.problem());
                }
            }
        });
        // At SMALL size 7 is the largest divisor up to 8 of conv2d.forward's first grid dimension, 6 of norm.groupStats'.
        List<String> built = text.lines().filter(l -> l.contains("built and compiled")).toList();
        assertTrue(built.stream().anyMatch(l -> l.startsWith("prism: plan 'conv2d.forward' ") && l.contains("work-groups: conv2d.forward 7x1")), text);
        assertTrue(built.stream().anyMatch(l -> l.startsWith("prism: plan 'gating.gatedSum' ") && l.contains("work-groups: gating.gatedSum ")), text);
        assertTrue(built.stream().anyMatch(l -> l.startsWith("prism: plan 'norm.group' ") && l.contains("work-groups: norm.groupStats 6, norm.groupApply ")), text);
    }

    /**
     * TornadoVM's profiler costs time on every execution (about 1 ms for a one-kernel plan on PoCL): it is on for
     * a plan's first execution, where a bailout would show, and afterwards only when asked for.
     */
    @Test
    void theProfilerIsOnForTheFirstExecutionAndThenOnlyWhenAskedFor() {
        Plan plan = Catalog.select(Size.SMALL, List.of("haar.dwt2")).getFirst().build().apply(1L);
        try (Executable e = tornado.compile(plan)) {
            e.execute();
            assertTrue(e.lastStats().orElseThrow().kernelNanos() > 0);
            e.execute();
            assertTrue(e.lastStats().isEmpty(), "second execution profiled: " + e.lastStats());
            e.profile(true);
            e.execute();
            assertTrue(e.lastStats().orElseThrow().kernelNanos() > 0);
            e.profile(false);
            e.execute();
            assertTrue(e.lastStats().isEmpty());
        }
    }

    @Test
    void aCpuWorkGroupLargerThanTheDeviceRunsIsCappedAtItsLimit() {
        // SiLU at model size is one dimension of 262144 lanes; no device here runs a group of 262144.
        KernelCase big = Catalog.select(Size.MODEL, List.of("activation.silu")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false, java.util.Map.of(), 0,
                TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS, 262144))) {
            KernelCheck.Row row = KernelCheck.run(big, SEQ, b, TOLERANCE, 11);
            assertTrue(row.ok(), row.problem());
        }
    }

    @Test
    void aWorkGroupWithTheWrongNumberOfDimensionsIsRejected() {
        KernelCase dwt = Catalog.select(Size.SMALL, List.of("haar.dwt2")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false,
                java.util.Map.of("haar.dwt2", new int[] {8})))) {
            var e = assertThrows(IllegalArgumentException.class, () -> KernelCheck.run(dwt, SEQ, b, TOLERANCE, 11));
            assertEquals("prism.tornado.workgroup.haar.dwt2 has 1 value(s), but haar.dwt2 has 2 parallel dimension(s) (grid [10, 7])",
                    e.getMessage());
        }
    }

    @Test
    void aPlanLargerThanTheMemoryLimitFailsNamingTheBuffersAndTheSetting() {
        // The model-size residual chain needs several MB of buffers; a 1 MB limit cannot hold them.
        KernelCase chain = Catalog.select(Size.MODEL, List.of("chain.resblocks")).getFirst();
        try (Backend b = TornadoSupport.open(new TornadoSettings(0, java.util.Map.of(), false, java.util.Map.of(), 1))) {
            DeviceException e = assertThrows(DeviceException.class, () -> KernelCheck.run(chain, SEQ, b, TOLERANCE, 2));
            assertEquals(DeviceException.Phase.TRANSFER, e.phase(), e.getMessage());
            assertTrue(e.getMessage().startsWith("transfer of kernel 'norm.groupStats', "), e.getMessage());
            assertTrue(e.getMessage().contains(" on tornado:0 ("), e.getMessage());
            assertTrue(e.getMessage().contains("out of device memory"), e.getMessage());
            assertTrue(e.getMessage().contains("prism.tornado.memoryLimitMb allows 1 MB"), e.getMessage());
            assertTrue(e.getMessage().contains("MiB and the device has"), e.getMessage());
        }
    }

    @Test
    void stateStaysOnTheDeviceAcrossExecutionsAndComesBackOnlyWhenFetched() {
        // x += z three times: on the device x must keep its value between executions (a stale host
        // copy must never go down again), and the host sees it only after fetch.
        int len = 1000;
        float[] x = new float[len];
        float[] z = new dev.prism.kernels.catalog.Rand(4).gaussian(len);
        Plan plan = Plan.builder("accumulate").add(dev.prism.kernels.Elementwise.add(x, z, x, len))
                .inputs(z).state(x).fetchable(x).build();
        try (Executable e = tornado.compile(plan)) {
            for (int i = 0; i < 3; i++) {
                e.execute();
            }
            assertEquals(0f, x[0], "the host copy changed before fetch");
            e.fetch(x);
        }
        for (int i = 0; i < len; i++) {
            assertEquals(z[i] + z[i] + z[i], x[i], 0f, "x[" + i + "]");
        }
    }

    @Test
    void devicesAreListedWithNameAndMemory() {
        List<DeviceInfo> devices = TornadoSupport.devices();
        assertFalse(devices.isEmpty());
        assertEquals("tornado:0", devices.getFirst().id());
        assertFalse(devices.getFirst().name().isBlank());
    }
}
