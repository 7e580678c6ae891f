package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A kernel description is the one source of a launch: the arguments given once reach the kernel
 * method, the lane helper (with the lane decoded over grids of every rank) and the variant, and a
 * description whose helper or arguments do not fit the kernel method fails when it is made.
 */
class KernelTest {
    @BeforeAll
    static void register() {
        KernelRegistry.register("described", DescribedKernels.class);
    }

    /** Runs the launch's three forms on poisoned copies of its outputs and returns them. */
    private static float[][] runAll(Launch l, float[] out) {
        float[][] results = new float[3][];
        Runnable[] forms = {l.loops(), () -> l.body().run(0, l.lanes()), l.vector() == null ? null : () -> l.vector().run(0, l.lanes())};
        for (int f = 0; f < 3; f++) {
            if (forms[f] == null) {
                continue;
            }
            Arrays.fill(out, Float.NaN);
            forms[f].run();
            results[f] = out.clone();
        }
        return results;
    }

    @Test
    void theArgumentsGivenOnceReachTheKernelTheHelperAndTheVariant() {
        Kernel k = Kernel.of("described.flat", "flatLane").vector("DescribedKernels", "flatRange");
        float[] x = Inputs.gaussian(37, 1);
        float[] y = new float[37];
        Launch l = k.with(x, y, 37, 0.5f).writes(1).grid(37).launch(74, 8 * 37);
        assertEquals(37, l.lanes());
        assertArrayEquals(new Object[] {x, y, 37, 0.5f}, l.args());
        float[] expected = new float[37];
        for (int i = 0; i < 37; i++) {
            expected[i] = 2 * x[i] + 0.5f;
        }
        float[][] r = runAll(l, y);
        assertArrayEquals(expected, r[0]);
        assertArrayEquals(expected, r[1]);
        assertNotNull(l.vector(), "the variant is attached where the Vector API module is present (the tests add it)");
        assertArrayEquals(expected, r[2]);
        assertEquals("DescribedKernels.flatRange", k.variantName());
    }

    @Test
    void lanesDecodeToTheKernelsLoopIndicesOnTwoAndThreeDimensionalGrids() {
        Kernel k2 = Kernel.of("described.grid2", "grid2Lane");
        float[] x = Inputs.gaussian(5 * 7, 2);
        float[] y = new float[5 * 7];
        float[][] r = runAll(k2.with(x, y, 5, 7).writes(1).grid(5, 7).launch(35, 280), y);
        assertArrayEquals(r[0], r[1]);
        assertEquals(x[3 * 7 + 4] + 3004, r[1][3 * 7 + 4]);

        Kernel k3 = Kernel.of("described.grid3", "grid3Lane");
        float[] z = new float[3 * 4 * 5];
        float[][] r3 = runAll(k3.with(z, 3, 4, 5).writes(0).grid(3, 4, 5).launch(0, 240), z);
        assertArrayEquals(r3[0], r3[1]);
        assertEquals(2 * 10000 + 3 * 100 + 4, r3[1][(2 * 4 + 3) * 5 + 4]);
        assertNull(r3[2]);
    }

    @Test
    void partialRangesOnTheParallelBackendGiveTheSequentialResult() {
        Kernel k3 = Kernel.of("described.grid3", "grid3Lane");
        float[] a = new float[7 * 9 * 11];
        float[] b = new float[a.length];
        try (JvmBackend seq = JvmBackend.sequential(); JvmBackend par = JvmBackend.parallel(3)) {
            seq.run(k3.with(a, 7, 9, 11).writes(0).grid(7, 9, 11).launch(1 << 20, 1 << 20));
            par.run(k3.with(b, 7, 9, 11).writes(0).grid(7, 9, 11).launch(1 << 20, 1 << 20));
        }
        assertArrayEquals(a, b);
    }

    @Test
    void aHelperThatDoesNotTakeTheKernelsParametersFailsWhenDescribed() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Kernel.of("described.flat", "flatDrifted"));
        assertEquals("described.flat: lane helper flatDrifted[float[], float[], float, int] expected the kernel's parameters"
                + " [float[], float[], int, float] followed by 1 to 3 int loop indices", e.getMessage());
    }

    @Test
    void argumentsThatDoNotFitTheKernelMethodFail() {
        Kernel k = Kernel.of("described.flat", "flatLane");
        float[] x = new float[4];
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.with(x, x, 4));
        assertTrue(e.getMessage().contains("takes 4 arguments, the launch passes 3"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> k.with(x, x, 4, 1));
        assertTrue(e.getMessage().contains("argument 3 of") && e.getMessage().contains("is float, the launch passes Integer"), e.getMessage());
    }

    @Test
    void aGridOfTheWrongRankFails() {
        Kernel k = Kernel.of("described.grid2", "grid2Lane");
        float[] x = new float[6];
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> k.with(x, x.clone(), 2, 3).grid(6));
        assertEquals("described.grid2: grid [6] expected 2 dimension(s), one per parallel loop of the lane helper grid2Lane", e.getMessage());
    }

    @Test
    void aVariantThatDoesNotFitFailsWhenResolved() {
        Kernel k = Kernel.of("described.grid2", "grid2Lane").vector("DescribedKernels", "flatRange");
        IllegalStateException e = assertThrows(IllegalStateException.class, k::variant);
        assertTrue(e.getMessage().startsWith("described.grid2: variant DescribedKernels.flatRange["), e.getMessage());
    }
}
