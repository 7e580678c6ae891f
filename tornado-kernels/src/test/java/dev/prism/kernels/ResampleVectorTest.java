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
 * {@link ResampleVector}, upfirdn along vectors of output columns, against the plain loop: the same bits (the inputs
 * hold no negative zero, whose sign the variant may lose), forward and backward, for WaveDiff's up2, down2 and blur
 * and for other rates, pads and filter lengths, on planes narrower and wider than a vector, on 3 and 7 threads.
 */
class ResampleVectorTest {
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
    @CsvSource({"1,3,32,32,4,2,1,2,1", "1,3,64,64,4,1,2,1,1", "1,3,64,64,4,1,1,2,2", "2,2,5,7,4,2,1,2,1", "2,2,9,6,4,1,2,1,1",
            "1,1,3,3,4,1,1,2,2", "1,2,17,40,3,2,2,1,2", "1,1,8,8,1,1,1,0,0", "1,2,11,13,6,3,2,4,3"})
    void upfirdnAndItsBackwardKeepTheLoopsBits(int n, int c, int h, int w, int kt, int up, int down, int pad0, int pad1) {
        float[] taps = new float[kt];
        for (int i = 0; i < kt; i++) {
            taps[i] = (i + 1) * (kt - i) / (float) (kt * kt);
        }
        int oh = Resample.upfirdnSize(h, up, down, pad0, pad1, kt), ow = Resample.upfirdnSize(w, up, down, pad0, pad1, kt);
        float[] x = Inputs.gaussian(n * c * h * w, 91), gy = Inputs.gaussian(n * c * oh * ow, 92);
        JvmBackend[] backends = {Backends.SEQ, Backends.PAR, SEVEN};
        float[][] y = new float[3][], gx = new float[3][];
        for (int b = 0; b < 3; b++) {
            y[b] = Inputs.poisoned(n * c * oh * ow);
            gx[b] = Inputs.poisoned(n * c * h * w);
            Launch f = Resample.upfirdn(x, taps, y[b], n, c, h, w, up, down, pad0, pad1);
            assertNotNull(f.vector(), "upfirdn carries a vector variant");
            backends[b].run(f);
            backends[b].run(Resample.upfirdnBackward(gy, taps, gx[b], n, c, h, w, up, down, pad0, pad1));
        }
        String what = n + "x" + c + "x" + h + "x" + w + " kt" + kt + " up" + up + " down" + down + " pad" + pad0 + "," + pad1;
        for (int b = 1; b < 3; b++) {
            assertIdentical(what + " on " + backends[b].threads() + " threads", y[0], y[b]);
            assertIdentical(what + " backward on " + backends[b].threads() + " threads", gx[0], gx[b]);
        }
    }
}
