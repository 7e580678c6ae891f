package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * {@link TrainingVector}: the mean squared error's gradient runs its plain loop on every backend (the same bits on every
 * thread count); the reparameterised sample and its
 * backward (exp in float) are within the shared tolerance of the loops, with log-variances inside and outside the
 * clamp; every thread count gives the same bits.
 */
class TrainingVectorTest {
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
    @ValueSource(ints = {1, 5, 17, 1000, 12288})
    void gaussianSampleIsTheLoopsWithinTheTolerance(int len) {
        float[] m = Inputs.gaussian(len, 81), lv = Inputs.gaussian(len, 82), e = Inputs.gaussian(len, 83), gz = Inputs.gaussian(len, 84);
        for (int i = 0; i < len; i++) {
            lv[i] *= 40;   // beyond the clamp on both sides too
        }
        float[][] out = new float[3][];
        float[][] grad = new float[3][];
        JvmBackend[] backends = {Backends.SEQ, Backends.PAR, SEVEN};
        for (int k = 0; k < 3; k++) {
            out[k] = Inputs.poisoned(len);
            grad[k] = Inputs.poisoned(len);
            Launch f = Training.gaussianSample(m, lv, e, out[k], len);
            Launch b = Training.gaussianSampleBackward(lv, e, gz, grad[k], len);
            assertNotNull(f.vector(), "the sample carries a vector variant");
            assertNotNull(b.vector(), "its backward carries a vector variant");
            backends[k].run(f);
            backends[k].run(b);
        }
        assertClose("sample", out[0], out[1]);
        assertClose("sample backward", grad[0], grad[1]);
        assertIdentical("sample on 3 and 7 threads", out[1], out[2]);
        assertIdentical("sample backward on 3 and 7 threads", grad[1], grad[2]);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 17, 1000, 65536})
    void squaredErrorGradientKeepsTheLoopsBits(int len) {
        float[] p = Inputs.gaussian(len, 85), t = Inputs.gaussian(len, 86), gy = {0.7f};
        JvmBackend[] backends = {Backends.SEQ, Backends.PAR, SEVEN};
        float[][] g = new float[3][];
        for (int k = 0; k < 3; k++) {
            g[k] = Inputs.poisoned(len);
            Launch l = Training.meanSquaredErrorBackward(p, t, gy, g[k], len);
            assertNull(l.vector(), "the gradient runs its plain loop (once a step: see Training)");
            backends[k].run(l);
        }
        assertIdentical("mse gradient", g[0], g[1]);
        assertIdentical("mse gradient on 7 threads", g[0], g[2]);
    }
}
