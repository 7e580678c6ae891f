package dev.prism.backend;

import dev.prism.kernels.Conv2d;
import dev.prism.kernels.Gemm;
import dev.prism.kernels.Norm;
import dev.prism.kernels.PrismConv;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.KernelCheck;
import dev.prism.kernels.catalog.Rand;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The kernels written for a device through TornadoVM's kernel API ({@code DeviceKernels} in the {@code tornado}
 * profile) against the plain loops they stand in for, on the TornadoVM device, with
 * {@code prism.tornado.deviceKernels=on} so that they run on PoCL's CPU device too. Shapes that are not whole
 * tiles or work-groups, every transposition, accumulation, batch strides, strided, dilated and grouped
 * convolutions, and every channel padding. Needs a TornadoVM SDK ({@code -Ptornado}).
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class TornadoDeviceKernelsTest {
    /** As TornadoBackendTest: max |device − JVM| ≤ 1e-5 · max |JVM|. */
    private static final double TOLERANCE = 1e-5;
    private static final JvmBackend SEQ = JvmBackend.sequential();

    private static TornadoSettings settings(TornadoSettings.DeviceKernels choice, Map<String, int[]> workGroups) {
        return new TornadoSettings(0, Map.of(), false, workGroups, 0, TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS,
                TornadoSettings.DEFAULT_CPU_WORK_GROUP, choice);
    }

    private static Backend open(TornadoSettings s) {
        String reason = TornadoSupport.unavailableReason();
        assumeTrue(reason == null, () -> "TornadoVM is not usable in this JVM: " + reason + " (run with -Ptornado)");
        return TornadoSupport.open(s);
    }

    @Test
    void theCatalogCasesOfEveryKernelWithAVariantMatchTheJvmAndRunTheVariant() {
        List<KernelCase> cases = Catalog.select(Size.SMALL, List.of("gemm", "attention", "norm.group", "conv2d.forward", "prismconv.forward"));
        String log = dev.prism.testing.Devices.planBuildLog(() -> {
            try (Backend b = open(settings(TornadoSettings.DeviceKernels.ON, Map.of()))) {
                assertTrue(b.description().endsWith("; device kernels on (used)"), b.description());
                for (KernelCase c : cases) {
                    KernelCheck.Row row = KernelCheck.run(c, SEQ, b, TOLERANCE, 13);
                    assertTrue(row.ok(), c.name() + ": " + row.problem());
                }
            }
        });
        for (String method : List.of("matmul", "groupStats", "groupApply", "conv2dForward", "prismConvForward")) {
            assertTrue(log.contains("(DeviceKernels." + method + ", work-group "), method + " never ran:\n" + log);
        }
    }

    @Test
    void onACpuDeviceAutoRunsThePlainLoopsAndSoDoesAKernelWithItsOwnWorkGroup() {
        KernelCase norm = Catalog.select(Size.SMALL, List.of("norm.group")).getFirst();
        String auto = dev.prism.testing.Devices.planBuildLog(() -> {
            try (Backend b = open(settings(TornadoSettings.DeviceKernels.AUTO, Map.of()))) {
                assumeTrue(b.description().toUpperCase(java.util.Locale.ROOT).contains("CPU")
                        || b.description().contains("Portable Computing Language"), "device 0 is not a CPU: " + b.description());
                assertTrue(KernelCheck.run(norm, SEQ, b, TOLERANCE, 13).ok());
                assertTrue(b.description().endsWith("; device kernels auto (not used on this device)"), b.description());
            }
        });
        assertTrue(auto.contains("prism: plan 'norm.group' ") && !auto.contains("DeviceKernels."), auto);
        KernelCase gemm = Catalog.select(Size.SMALL, List.of("gemm.matmul")).getFirst();
        String own = dev.prism.testing.Devices.planBuildLog(() -> {
            try (Backend b = open(settings(TornadoSettings.DeviceKernels.ON, Map.of("gemm.matmul", new int[] {1, 1})))) {
                assertTrue(KernelCheck.run(gemm, SEQ, b, TOLERANCE, 13).ok());
            }
        });
        assertTrue(own.contains("work-groups: gemm.matmul 1x1") && !own.contains("DeviceKernels.matmul"), own);
    }

    @Test
    void matmulMatchesAtPartialTilesEveryTranspositionAccumulationAndBatchStride() {
        List<String> problems = new ArrayList<>();
        try (Backend b = open(settings(TornadoSettings.DeviceKernels.ON, Map.of()))) {
            int[][] shapes = {{1, 17, 33, 20}, {3, 16, 16, 16}, {2, 5, 40, 3}, {1, 1, 7, 50}};
            for (int[] s : shapes) {
                int batch = s[0], m = s[1], n = s[2], k = s[3];
                for (int ta = 0; ta < 2; ta++) {
                    for (int tb = 0; tb < 2; tb++) {
                        for (int acc = 0; acc < 2; acc++) {
                            boolean shareB = batch > 1 && (ta + tb + acc) % 2 == 0;
                            int strideA = m * k, strideB = shareB ? 0 : k * n, strideC = m * n + 3;
                            Rand r = new Rand(31L * m + 7L * n + k + 2L * ta + tb + 5L * acc);
                            float[] a = r.gaussian(batch * strideA);
                            float[] bm = r.gaussian(shareB ? k * n : batch * strideB);
                            float[] c0 = r.gaussian((batch - 1) * strideC + m * n);
                            boolean transA = ta == 1, transB = tb == 1, accumulate = acc == 1;
                            String what = "batch " + batch + " m " + m + " n " + n + " k " + k + " transA " + transA + " transB " + transB
                                    + " accumulate " + accumulate + (shareB ? " B shared" : "");
                            compare(b, what, c0, c -> Gemm.matmul(a, bm, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate),
                                    problems, a, bm);
                        }
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void theConvolutionsMatchAtStridesDilationsGroupsAndEveryChannelPadding() {
        List<String> problems = new ArrayList<>();
        try (Backend b = open(settings(TornadoSettings.DeviceKernels.ON, Map.of()))) {
            // n, cin, h, w, cout, k, stride, padding, dilation, groups
            int[][] geometries = {{2, 3, 9, 13, 5, 3, 1, 1, 1, 1}, {1, 4, 11, 10, 6, 3, 2, 1, 1, 2}, {1, 2, 12, 12, 3, 3, 1, 2, 2, 1},
                    {2, 3, 7, 5, 4, 5, 1, 0, 1, 1}};
            for (int[] v : geometries) {
                Conv2d.Geometry g = Conv2d.Geometry.of(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
                Rand r = new Rand(v[2] * 100L + v[3]);
                float[] x = r.gaussian(g.xSize());
                float[] w = r.gaussian(g.cout() * (g.cin() / v[9]) * g.kh() * g.kw());
                float[] y0 = new float[g.ySize()];
                compare(b, "conv2d " + java.util.Arrays.toString(v), y0, y -> Conv2d.forwardDirect(x, w, null, y, g).getFirst(), problems, x, w);
            }
            int[][] prisms = {{2, 5, 9, 13, 3, 3, 3}, {1, 3, 6, 7, 5, 3, 5}, {1, 1, 8, 8, 3, 5, 3}};
            for (int[] v : prisms) {
                for (PrismConv.ChannelPadding mode : PrismConv.ChannelPadding.values()) {
                    Rand r = new Rand(v[1] * 1000L + v[2] * 10L + mode.ordinal());
                    int n = v[0], c = v[1], h = v[2], wd = v[3];
                    float[] x = r.gaussian(n * c * h * wd);
                    float[] f = r.gaussian(v[4] * v[5] * v[6]);
                    float[] bias = r.gaussian(1);
                    float[] y0 = new float[x.length];
                    compare(b, "prismconv " + java.util.Arrays.toString(v) + " " + mode, y0,
                            y -> PrismConv.forward(x, f, bias, y, n, c, h, wd, v[4], v[5], v[6], mode), problems, x, f, bias);
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void groupNormMatchesWithGroupsLargerThanTheWorkGroupAndElementsNotAWholeGroup() {
        List<String> problems = new ArrayList<>();
        try (Backend b = open(settings(TornadoSettings.DeviceKernels.ON, Map.of()))) {
            // n, c, h, w, groups: 5·7·3 = 105 elements per group (not a multiple of 64), a group of 3 elements, one group.
            int[][] shapes = {{2, 6, 7, 5, 2}, {3, 4, 1, 3, 4}, {1, 8, 16, 16, 1}};
            for (int[] v : shapes) {
                int n = v[0], c = v[1], h = v[2], w = v[3], groups = v[4];
                Rand r = new Rand(v[1] * 17L + v[2]);
                float[] x = r.gaussian(n * c * h * w, 3f);
                for (int i = 0; i < x.length; i++) {
                    x[i] += 20f;
                }
                float[] gamma = r.gaussian(c);
                float[] beta = r.gaussian(c);
                float[] stats0 = new float[2 * n * groups];
                compare(b, "groupStats " + java.util.Arrays.toString(v), stats0, s -> Norm.groupStats(x, s, n, c, h, w, groups, 1e-5f), problems, x);
                float[] stats = stats0.clone();
                Norm.groupStats(x, stats, n, c, h, w, groups, 1e-5f).loops().run();
                for (int silu = 0; silu < 2; silu++) {
                    boolean act = silu == 1;
                    float[] y0 = new float[x.length];
                    compare(b, "groupApply " + java.util.Arrays.toString(v) + " silu " + act, y0,
                            y -> Norm.groupApply(x, stats, gamma, beta, y, n, c, h, w, groups, act), problems, x, stats, gamma, beta);
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /**
     * Runs the launch {@code make} builds on an output initialised to {@code out0} on the device, and on a copy
     * through the kernel's own loops on the JVM, and records a difference beyond {@link #TOLERANCE}.
     */
    private static void compare(Backend device, String what, float[] out0, java.util.function.Function<float[], Launch> make,
                                List<String> problems, float[]... readOnly) {
        float[] expected = out0.clone();
        make.apply(expected).loops().run();
        float[] actual = out0.clone();
        Plan plan = Plan.builder("device-variant").add(make.apply(actual)).constants(readOnly).inputs(actual).outputs(actual).build();
        try (Executable e = device.compile(plan)) {
            e.execute();
        }
        double scale = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        if (!(worst <= TOLERANCE * Math.max(scale, 1e-30))) {
            problems.add(what + ": max |device − JVM| = " + worst + " against max |JVM| = " + scale);
        }
    }
}
