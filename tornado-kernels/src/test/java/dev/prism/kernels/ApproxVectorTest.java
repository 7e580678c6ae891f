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

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ApproxVector}, the variant of ApproxConv's congruence (synthesis and its backward): the loop's bits on pair
 * counts that are and are not multiples of the lane count, on 1 to 7 threads (ranges that cut a pair's rows).
 */
class ApproxVectorTest {
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend[] TEAMS = {JvmBackend.parallel(1), JvmBackend.parallel(2), JvmBackend.parallel(3),
            JvmBackend.parallel(7)};

    @AfterAll
    static void close() {
        for (JvmBackend b : TEAMS) {
            b.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"64, 64, 4, 7", "5, 7, 3, 5", "1, 1, 4, 7", "33, 17, 7, 7", "16, 48, 2, 9", "9, 13, 1, 3"})
    void synthesisAndItsBackwardKeepTheLoopsBits(int cout, int cin, int n, int k) {
        float[] t = Approx.basisTable(Approx.Basis.CHEBYSHEV, n, k);
        float[] a = Inputs.gaussian(cout * cin * n * n, 91), gw = Inputs.gaussian(cout * cin * k * k, 92);
        float[] w0 = Inputs.poisoned(cout * cin * k * k), ga0 = Inputs.poisoned(cout * cin * n * n);
        Backends.SEQ.run(Approx.synthesize(a, t, w0, cout, cin, n, k));
        Backends.SEQ.run(Approx.synthesizeBackward(gw, t, ga0, cout, cin, n, k));
        for (JvmBackend b : TEAMS) {
            float[] w = Inputs.poisoned(w0.length), ga = Inputs.poisoned(ga0.length);
            Launch f = Approx.synthesize(a, t, w, cout, cin, n, k);
            assertNotNull(f.vector(), "synthesis carries a vector variant");
            b.run(f);
            b.run(Approx.synthesizeBackward(gw, t, ga, cout, cin, n, k));
            assertIdentical("synthesis on " + b.threads() + " threads", w0, w);
            assertIdentical("synthesis backward on " + b.threads() + " threads", ga0, ga);
        }
    }
}
