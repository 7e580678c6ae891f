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

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link DftVector}, the 2-D DFT's pass along frequency vectors, against the plain loop, on rows narrower than a vector,
 * as wide, twice as wide, wider and no multiple of it: the pass over real input (the forward's first) with the loop's
 * bits; the transform and its backward, whose complex-input passes take fused multiply-adds, within the shared tolerance
 * of the loop; and the same bits on 2, 3 and 7 threads.
 */
class DftVectorTest {
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
    @CsvSource({"1,1,1,1", "2,3,5,6", "1,1,8,8", "3,1,16,16", "2,1,32,32", "1,2,7,37", "1,1,64,20", "1,1,3,64",
            "2,1,5,48", "1,1,4,24"})
    void fft2AndItsBackwardFollowTheLoops(int n, int c, int h, int w) {
        int len = n * c * h * w;
        float[] x = Inputs.gaussian(len, 61), gy = Inputs.gaussian(2 * len, 62);
        float[] th = Dft.twiddleTable(h), tw = Dft.twiddleTable(w);
        JvmBackend[] backends = {Backends.SEQ, Backends.PAR, SEVEN};
        float[][] first = new float[3][], y = new float[3][], gx = new float[3][];
        for (int k = 0; k < 3; k++) {
            first[k] = Inputs.poisoned(2 * len);
            y[k] = Inputs.poisoned(2 * len);
            gx[k] = Inputs.poisoned(len);
            List<Launch> f = Dft.fft2(x, th, tw, first[k], y[k], n, c, h, w);
            List<Launch> b = Dft.fft2Backward(gy, th, tw, Inputs.poisoned(2 * len), gx[k], n, c, h, w);
            assertNotNull(f.get(0).vector(), "the DFT pass carries a vector variant");
            JvmBackend backend = backends[k];
            f.forEach(backend::run);
            b.forEach(backend::run);
        }
        String what = n + "x" + c + "x" + h + "x" + w;
        // the forward's first pass (real input) keeps the loop's operations; the complex passes differ by rounding only
        assertIdentical("fft2's first pass " + what, first[0], first[1]);
        assertClose("fft2 " + what, y[0], y[1]);
        assertClose("fft2 backward " + what, gx[0], gx[1]);
        assertIdentical("fft2 " + what + " on 7 threads", y[1], y[2]);
        assertIdentical("fft2 backward " + what + " on 7 threads", gx[1], gx[2]);
    }
}
