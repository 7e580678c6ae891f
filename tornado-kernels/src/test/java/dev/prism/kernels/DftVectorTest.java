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
 * of the loop, and bit for bit the same fused sums written out one lane at a time (so the same bits at every width);
 * and the same bits on 2, 3 and 7 threads.
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

    /**
     * The complex-input passes equal, bit for bit, one lane's arithmetic written out with {@link Math#fma} (every width
     * runs the same operations in each lane, so this holds at 128, 256 and 512 bits alike): the forward's second pass
     * ({@code sign = −1}) and both passes of the backward ({@code +1}).
     */
    @ParameterizedTest
    @CsvSource({"2,3,5,6", "1,1,8,8", "2,1,32,32", "1,2,7,37", "1,1,3,64", "2,1,5,48"})
    void complexPassesAreTheirScalarFusedSums(int n, int c, int h, int w) {
        int len = n * c * h * w, planes = n * c;
        float[] x = Inputs.gaussian(len, 71), gy = Inputs.gaussian(2 * len, 72);
        float[] th = Dft.twiddleTable(h), tw = Dft.twiddleTable(w);
        float[] first = Inputs.poisoned(2 * len), y = Inputs.poisoned(2 * len), gx = Inputs.poisoned(len);
        Dft.fft2(x, th, tw, first, y, n, c, h, w).forEach(Backends.PAR::run);
        Dft.fft2Backward(gy, th, tw, Inputs.poisoned(2 * len), gx, n, c, h, w).forEach(Backends.PAR::run);
        String what = n + "x" + c + "x" + h + "x" + w;
        assertIdentical("fft2 " + what, fusedPass(first, th, planes, w, h, -1, true), y);
        float[] mid = fusedPass(gy, tw, planes, h, w, 1, true);
        assertIdentical("fft2 backward " + what, fusedPass(mid, th, planes, w, h, 1, false), gx);
    }

    /** {@link DftKernels#passRow} for complex input with each term as two fused multiply-adds, one output at a time. */
    private static float[] fusedPass(float[] in, float[] table, int planes, int h, int w, int sign, boolean complexOut) {
        float[] out = new float[(complexOut ? 2 : 1) * planes * h * w];
        int w2 = w * w;
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < h; i++) {
                int row = (p * h + i) * w;
                for (int k = 0; k < w; k++) {
                    float re = 0f, im = 0f;
                    for (int j = 0; j < w; j++) {
                        float cs = table[k * w + j], sn = table[w2 + k * w + j];
                        float a = in[2 * (row + j)], b = in[2 * (row + j) + 1];
                        if (sign > 0) {
                            re = Math.fma(-sn, b, Math.fma(cs, a, re));
                            im = Math.fma(cs, b, Math.fma(sn, a, im));
                        } else {
                            re = Math.fma(sn, b, Math.fma(cs, a, re));
                            im = Math.fma(-sn, a, Math.fma(cs, b, im));
                        }
                    }
                    int o = (p * w + k) * h + i;
                    if (complexOut) {
                        out[2 * o] = re;
                        out[2 * o + 1] = im;
                    } else {
                        out[o] = re;
                    }
                }
            }
        }
        return out;
    }
}
