package dev.prism.bench;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelCasesTest {
    @Test
    void theModelForwardIsOnePlanAndTheSamplingRunIsReproducible() {
        Plan plan = ModelCases.cases(Size.SMALL).getFirst().build().apply(1L);
        assertTrue(plan.launches().size() > 50, "launches: " + plan.launches().size());
        float[] eps = plan.outputs().iterator().next();
        try (JvmBackend jvm = JvmBackend.parallel(2); Executable e = jvm.compile(plan)) {
            e.execute();
        }
        for (float v : eps) {
            assertTrue(Float.isFinite(v));
        }
        try (JvmBackend jvm = JvmBackend.parallel(2); ModelCases.SamplingRun run = new ModelCases.SamplingRun(jvm, Size.SMALL)) {
            float[] a = run.run(3), b = run.run(3);
            assertArrayEquals(a, b, 0f);
            assertEquals(2 * 16 * 16, a.length);
            assertTrue(run.flops() > 0);
        }
    }

    @Test
    void theCeilingsArePlausibleAndClassifyKernels() {
        Ceilings c = Ceilings.measure(1);
        assertTrue(c.bandwidth() > 1e8 && c.bandwidth() < 1e13, "bandwidth " + c.bandwidth());
        assertTrue(c.fmaPeak() > 1e8 && c.fmaPeak() < 1e14, "peak " + c.fmaPeak());
        // A copy-like kernel (0 flops per byte) is memory-bound; a GEMM (hundreds per byte) compute-bound.
        assertEquals("mem", c.fraction(0, 1 << 20, 1e-3).limit());
        assertEquals("fma", c.fraction(1L << 33, 1 << 20, 1e-1).limit());
    }
}
