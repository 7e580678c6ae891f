package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The 2-D DFT against torch.fft.fft2 (tools/refgen/families/dft.py). */
class DftTest {
    private static float[] fft2(float[] x, int n, int c, int h, int w, boolean parallel) {
        float[] y = Inputs.poisoned(2 * x.length), scratch = Inputs.poisoned(2 * x.length);
        List<Launch> l = Dft.fft2(x, Dft.twiddleTable(h), Dft.twiddleTable(w), scratch, y, n, c, h, w);
        l.forEach(parallel ? Backends::par : Backends::seq);
        return y;
    }

    private static float[] backward(float[] gy, int n, int c, int h, int w, boolean parallel) {
        float[] gx = Inputs.poisoned(gy.length / 2), scratch = Inputs.poisoned(gy.length);
        List<Launch> l = Dft.fft2Backward(gy, Dft.twiddleTable(h), Dft.twiddleTable(w), scratch, gx, n, c, h, w);
        l.forEach(parallel ? Backends::par : Backends::seq);
        return gx;
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c2_9x6", "n1_c1_32x32"})
    void fft2AndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("dft/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        // A coefficient sums H·W products of N(0,1) values with unit weights, so its rounding grows with √(HW)
        // while its size does too: the shared tolerance relative to max|ref| holds (measured below 1e-6 at 32×32).
        assertClose("fft2 " + name, r.f("y"), fft2(r.f("x"), n, c, h, w, false));
        assertClose("fft2 backward " + name, r.f("gx"), backward(r.f("gy"), n, c, h, w, false));
        // the parallel backend's vector variant (fused multiply-adds on complex input): the same tolerance
        assertClose("fft2 " + name + " (parallel)", r.f("y"), fft2(r.f("x"), n, c, h, w, true));
        assertClose("fft2 backward " + name + " (parallel)", r.f("gx"), backward(r.f("gy"), n, c, h, w, true));
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        int n = 2, c = 1, h = 3, w = 5, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 2);
        float[] gy = Inputs.gaussian(2 * size, 3);
        float[] gx = backward(gy, n, c, h, w, false);
        FiniteDifference.check("fft2", in -> fft2(in, n, c, h, w, false), x, gy, gx, 3, size);
    }

    @Test
    void parallelBackendFollowsTheLoops() {
        int n = 3, c = 2, h = 13, w = 22, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 4), g = Inputs.gaussian(2 * size, 5);
        // the vector variant's complex-input passes round differently (DftVectorTest); the table is the loop's bit for bit
        assertClose("fft2", fft2(x, n, c, h, w, false), fft2(x, n, c, h, w, true));
        assertClose("fft2 backward", backward(g, n, c, h, w, false), backward(g, n, c, h, w, true));
        float[] t = Inputs.poisoned(2 * 40 * 40);
        Backends.par(Dft.table(t, 40));
        assertIdentical("table 40", Dft.twiddleTable(40), t);
    }

    @Test
    void tableHoldsTheUnitRootsReducedExactly() {
        int size = 48;
        float[] t = Dft.twiddleTable(size);
        for (int k = 0; k < size; k++) {
            for (int j = 0; j < size; j++) {
                double a = 2 * Math.PI * k * j / size;
                assertEquals((float) Math.cos(a), t[k * size + j], 1e-6f, "cos " + k + "," + j);
                assertEquals((float) Math.sin(a), t[size * size + k * size + j], 1e-6f, "sin " + k + "," + j);
            }
        }
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[2 * 3 * 5 * 7], y = new float[2 * x.length], s = new float[2 * x.length];
        float[] th = Dft.twiddleTable(5), tw = Dft.twiddleTable(7);
        var e = assertThrows(IllegalArgumentException.class, () -> Dft.fft2(x, th, tw, s, new float[x.length], 2, 3, 5, 7));
        assertEquals("dft.fft2: argument 'y' expected length " + y.length + ", found " + x.length, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dft.fft2(x, tw, th, s, y, 2, 3, 5, 7));
        assertEquals("dft.fft2: argument 'tableH' expected length 50, found 98", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dft.fft2Backward(y, th, tw, y, x, 2, 3, 5, 7));
        assertEquals("dft.fft2Backward: argument 'scratch' expected an array distinct from 'gy' (the kernel reads one while writing the other), "
                + "found the same array", e.getMessage());
    }
}
