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

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link TrainingVector}: the reparameterised sample and its backward over ranges keep the plain loops' bits, on
 * every thread count, with log-variances inside and outside the clamp.
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
    void gaussianSampleKeepsTheLoopsBits(int len) {
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
            assertNotNull(f.vector(), "the sample carries a range variant");
            assertNotNull(b.vector(), "its backward carries a range variant");
            backends[k].run(f);
            backends[k].run(b);
        }
        for (int k = 1; k < 3; k++) {
            assertIdentical("sample, " + backends[k].threads() + " threads", out[0], out[k]);
            assertIdentical("sample backward, " + backends[k].threads() + " threads", grad[0], grad[k]);
        }
    }
}
