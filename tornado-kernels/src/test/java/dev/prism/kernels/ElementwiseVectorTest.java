package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ElementwiseVector}, the variant of WaveDiff's adaptive-norm modulation that the parallel JVM backend runs,
 * against the plain loop of {@link ElementwiseKernels#modulatePlanes}: on the inputs of {@link WaveDiffOpsTest}, on
 * planes narrower and wider than a vector (rows of 1 to 33, planes that are no multiple of 4, 8 or 16), in place,
 * and across thread counts (the same bits).
 */
class ElementwiseVectorTest {
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    @ParameterizedTest
    @ValueSource(strings = {"modulate_silu0", "modulate_silu1"})
    void modulationMatchesThePlainLoopOnTheTestInputs(String name) {
        Npz r = Npz.resource("wavediff_ops/" + name);
        long[] d = r.get("dims").ints();
        check(name, r.f("x"), r.f("s"), (int) d[0], (int) d[1], (int) d[2], (int) d[3]);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,1,7", "3,2,5,3", "2,7,8,8", "1,4,16,16", "2,3,9,17", "1,2,33,31", "4,9,4,4", "100,3,2,2"})
    void modulationMatchesThePlainLoopOnEveryPlaneSize(int n, int c, int h, int w) {
        float[] x = Inputs.gaussian(n * c * h * w, 71);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 4;
        }
        float[] s = Inputs.gaussian(2 * n * c, 72);
        check(n + "x" + c + "x" + h + "x" + w, x, s, n, c, h, w);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,1,7", "3,2,5,3", "2,7,8,8", "1,4,16,16", "2,3,9,17", "1,64,64,64", "4,9,4,4"})
    void planeSumsMatchThePlainLoop(int n, int c, int h, int w) {
        float[] gy = Inputs.gaussian(n * c * h * w, 73);
        for (int i = 0; i < gy.length; i++) {
            gy[i] += 0.5f;   // a mean away from 0, so that the sums do not cancel to their rounding
        }
        String what = n + "x" + c + "x" + h + "x" + w;
        sums(what + " bias", n, c, (in, out) -> Elementwise.addBiasBackward(in, out, n, c, h, w), gy, c);
        sums(what + " planes", n, c, (in, out) -> Elementwise.addPlanesBackward(in, out, n, c, h, w), gy, n * c);
        sums(what + " gemm bias", n, c, (in, out) -> Gemm.biasGrad(in, out, n, c, h * w), gy, c);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,1,7", "3,2,5,3", "1,64,64,64", "4,9,4,4"})
    void broadcastAddsKeepTheLoopsBits(int n, int c, int h, int w) {
        int len = n * c * h * w;
        float[] x = Inputs.gaussian(len, 74), v = Inputs.gaussian(n * c, 75), bias = Inputs.gaussian(c, 76);
        for (int which = 0; which < 2; which++) {
            String what = (which == 0 ? "addPlanes " : "addBias ") + n + "x" + c + "x" + h + "x" + w;
            float[] plain = Inputs.poisoned(len), vector = Inputs.poisoned(len), seven = Inputs.poisoned(len);
            Launch l = which == 0 ? Elementwise.addPlanes(x, v, vector, n, c, h, w) : Elementwise.addBias(x, bias, vector, n, c, h, w);
            assertNotNull(l.vector(), what + " carries a vector variant");
            Backends.seq(which == 0 ? Elementwise.addPlanes(x, v, plain, n, c, h, w) : Elementwise.addBias(x, bias, plain, n, c, h, w));
            Backends.par(l);
            SEVEN.run(which == 0 ? Elementwise.addPlanes(x, v, seven, n, c, h, w) : Elementwise.addBias(x, bias, seven, n, c, h, w));
            assertIdentical(what, plain, vector);
            assertIdentical(what + " on 7 threads", plain, seven);
            float[] inPlace = x.clone();
            Backends.par(which == 0 ? Elementwise.addPlanes(inPlace, v, inPlace, n, c, h, w) : Elementwise.addBias(inPlace, bias, inPlace, n, c, h, w));
            assertIdentical(what + " in place", plain, inPlace);
        }
    }

    /** {@code gemm.addBias} (in place, rows of {@code inner}: the 1×1 convolutions' planes, a linear layer's 1). */
    @ParameterizedTest
    @CsvSource({"1,1,1", "3,5,1", "2,3,7", "2,9,16", "3,4,33", "2,32,1024"})
    void gemmBiasAddKeepsTheLoopsBits(int outer, int channels, int inner) {
        float[] y = Inputs.gaussian(outer * channels * inner, 77), bias = Inputs.gaussian(channels, 78);
        String what = "gemm.addBias " + outer + "x" + channels + "x" + inner;
        float[] plain = y.clone(), vector = y.clone(), seven = y.clone();
        Launch l = Gemm.addBias(vector, bias, outer, channels, inner);
        assertNotNull(l.vector(), what + " carries a vector variant");
        Backends.seq(Gemm.addBias(plain, bias, outer, channels, inner));
        Backends.par(l);
        SEVEN.run(Gemm.addBias(seven, bias, outer, channels, inner));
        assertIdentical(what, plain, vector);
        assertIdentical(what + " on 7 threads", plain, seven);
    }

    private interface Sum {
        Launch make(float[] gy, float[] out);
    }

    private static void sums(String what, int n, int c, Sum op, float[] gy, int count) {
        float[] plain = Inputs.poisoned(count), vector = Inputs.poisoned(count), seven = Inputs.poisoned(count);
        Launch l = op.make(gy, vector);
        assertNotNull(l.vector(), what + " carries a vector variant");
        Backends.seq(op.make(gy, plain));
        Backends.par(l);
        SEVEN.run(op.make(gy, seven));
        assertIdentical(what + " on 3 and 7 threads", vector, seven);
        // both sum in double and round once: at most one float ulp apart
        assertClose(what, plain, vector, 1.2e-7, 0);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,1,7", "3,2,5,3", "2,7,8,8", "1,4,16,16", "2,3,9,17", "1,64,64,64", "100,3,2,2"})
    void modulationBackwardMatchesThePlainLoop(int n, int c, int h, int w) {
        int size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 77), gy = Inputs.gaussian(size, 78), s = Inputs.gaussian(2 * n * c, 79);
        for (int i = 0; i < size; i++) {
            x[i] *= 3;
        }
        for (boolean silu : new boolean[] {false, true}) {
            String what = n + "x" + c + "x" + h + "x" + w + (silu ? " with SiLU" : "");
            float[][] plain = modulationBackward(Backends.SEQ, x, s, gy, n, c, h, w, silu);
            float[][] vector = modulationBackward(Backends.PAR, x, s, gy, n, c, h, w, silu);
            float[][] seven = modulationBackward(SEVEN, x, s, gy, n, c, h, w, silu);
            assertIdentical(what + " gx on 3 and 7 threads", vector[0], seven[0]);
            assertIdentical(what + " gs on 3 and 7 threads", vector[1], seven[1]);
            if (silu) {
                assertClose(what + " gx", plain[0], vector[0]);
            } else {
                assertIdentical(what + " gx keeps the loop's bits", plain[0], vector[0]);
            }
            // double sums in another order (and, with SiLU, float gradients a few ulps apart)
            assertClose(what + " gs", plain[1], vector[1]);
        }
    }

    private static float[][] modulationBackward(dev.prism.backend.JvmBackend backend, float[] x, float[] s, float[] gy,
                                                int n, int c, int h, int w, boolean silu) {
        float[] gx = Inputs.poisoned(x.length), gs = Inputs.poisoned(s.length);
        Launch l = Elementwise.modulatePlanesBackward(x, s, gy, gx, gs, n, c, h, w, silu);
        assertNotNull(l.vector(), "the modulation's backward carries a vector variant");
        backend.run(l);
        return new float[][] {gx, gs};
    }

    private static void check(String what, float[] x, float[] s, int n, int c, int h, int w) {
        int size = n * c * h * w;
        for (boolean silu : new boolean[] {false, true}) {
            String name = what + (silu ? " with SiLU" : "");
            float[] plain = Inputs.poisoned(size), vector = Inputs.poisoned(size), seven = Inputs.poisoned(size);
            Launch l = Elementwise.modulatePlanes(x, s, vector, n, c, h, w, silu);
            assertNotNull(l.vector(), name + " carries a vector variant");
            Backends.seq(Elementwise.modulatePlanes(x, s, plain, n, c, h, w, silu));
            Backends.par(l);
            SEVEN.run(Elementwise.modulatePlanes(x, s, seven, n, c, h, w, silu));
            assertIdentical(name + " on 3 and 7 threads", vector, seven);
            if (silu) {
                assertClose(name, plain, vector);
            } else {
                assertIdentical(name + " keeps the loop's bits", plain, vector);
            }
            float[] inPlace = x.clone();
            Backends.par(Elementwise.modulatePlanes(inPlace, s, inPlace, n, c, h, w, silu));
            assertIdentical(name + " in place", vector, inPlace);
        }
    }
}
