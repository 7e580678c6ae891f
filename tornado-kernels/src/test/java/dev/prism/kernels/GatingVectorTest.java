package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GatingVector}, the variant of the gates' per-plane dot products, against the plain loop: both sum the
 * same exact products in double and round once, so each gate gradient is the loop's float or one ulp from it;
 * the input gradients (no variant) keep the loop's bits; every thread count gives the same bits. Planes smaller
 * than a vector, planes that are no multiple of it, and the model's 32×32.
 */
class GatingVectorTest {
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    @AfterAll
    static void close() {
        SEVEN.close();
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,3,7", "3,7,9,13", "1,64,32,32", "2,4,5,40"})
    void gateGradientsAreTheLoopsWithinAnUlp(int n, int c, int h, int w) {
        int band = n * c * h * w;
        for (int gates : new int[] {1, c}) {
            float[] y = Inputs.gaussian(4 * band, 41), g = Inputs.uniform(4 * n * gates, 0f, 1f, 42);
            float[] gout = Inputs.gaussian(band, 43), x = Inputs.gaussian(4 * band, 44), gz = Inputs.gaussian(4 * band, 45);
            for (int op = 0; op < 2; op++) {
                String what = (op == 0 ? "gatedSumBackward " : "bandGateBackward ") + n + "x" + c + "x" + h + "x" + w
                        + " G=" + gates;
                float[][] loop = run(op, Backends.SEQ, y, g, gout, x, gz, n, c, h, w, gates);
                float[][] vec = run(op, Backends.PAR, y, g, gout, x, gz, n, c, h, w, gates);
                float[][] seven = run(op, SEVEN, y, g, gout, x, gz, n, c, h, w, gates);
                assertIdentical(what + " input gradient", loop[0], vec[0]);
                assertIdentical(what + " gate gradient on 3 and 7 threads", vec[1], seven[1]);
                for (int i = 0; i < loop[1].length; i++) {
                    assertTrue(Math.abs(loop[1][i] - vec[1][i]) <= Math.ulp(loop[1][i]),
                            what + " gate gradient [" + i + "]: loop " + loop[1][i] + ", vector " + vec[1][i]);
                }
            }
        }
    }

    private static float[][] run(int op, JvmBackend backend, float[] y, float[] g, float[] gout, float[] x, float[] gz,
                                 int n, int c, int h, int w, int gates) {
        int band = n * c * h * w;
        float[] gin = Inputs.poisoned(4 * band), gg = Inputs.poisoned(4 * n * gates);
        float[] partial = new float[Gating.partialLength(n, c)];
        List<Launch> launches = op == 0
                ? Gating.gatedSumBackward(y, g, gout, gin, partial, gg, n, c, h, w, gates)
                : Gating.bandGateBackward(x, g, gz, gin, partial, gg, n, c, h, w, gates);
        assertNotNull(launches.get(1).vector(), "the dot products carry a vector variant");
        launches.forEach(backend::run);
        return new float[][] {gin, gg};
    }
}
