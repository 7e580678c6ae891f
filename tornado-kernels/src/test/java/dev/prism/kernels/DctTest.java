package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Arrays32;
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

class DctTest {
    private static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    private static void par(List<Launch> launches) {
        launches.forEach(Backends::par);
    }

    /** A transform of fresh buffers on the sequential oracle, with poisoned scratch and output. */
    private static float[] dct(float[] x, int n, int c, int h, int w, boolean inverse) {
        float[] out = Inputs.poisoned(x.length), scratch = Inputs.poisoned(x.length);
        float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w);
        seq(inverse ? Dct.idct2(x, th, tw, scratch, out, n, c, h, w) : Dct.dct2(x, th, tw, scratch, out, n, c, h, w));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c5_9x6", "n1_c2_8x8"})
    void dct2AndIdct2MatchScipy(String name) {
        Npz r = Npz.resource("dct/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        assertClose("dct2 " + name, r.f("y"), dct(r.f("x"), n, c, h, w, false));
        assertClose("idct2 " + name, r.f("xi"), dct(r.f("yc"), n, c, h, w, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c5_9x6", "n1_c2_8x8"})
    void backwardMatchesPyTorchAutograd(String name) {
        Npz r = Npz.resource("dct/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w);
        float[] gx = Inputs.poisoned(r.f("x").length), scratch = Inputs.poisoned(gx.length);
        seq(Dct.dct2Backward(r.f("gy"), th, tw, scratch, gx, n, c, h, w));
        assertClose("dct2 backward " + name, r.f("gx_dct"), gx);
        float[] gy = Inputs.poisoned(gx.length);
        seq(Dct.idct2Backward(r.f("gx"), th, tw, Inputs.poison(scratch), gy, n, c, h, w));
        assertClose("idct2 backward " + name, r.f("gy_idct"), gy);
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c5_9x6", "n1_c2_8x8"})
    void tableHoldsScipysDctMatrixAndItsTranspose(String name) {
        Npz r = Npz.resource("dct/" + name);
        long[] d = r.get("dims").ints();
        for (int axis = 2; axis <= 3; axis++) {
            int size = (int) d[axis];
            float[] m = r.f(axis == 2 ? "dh" : "dw");
            float[] expected = new float[2 * size * size];
            for (int k = 0; k < size; k++) {
                for (int j = 0; j < size; j++) {
                    expected[k * size + j] = m[k * size + j];
                    expected[size * size + j * size + k] = m[k * size + j];
                }
            }
            float[] t = Inputs.poisoned(2 * size * size);
            Backends.seq(Dct.table(t, size));
            assertClose("table " + size, expected, t);
            assertIdentical("cosineTable(" + size + ") against the table kernel", t, Dct.cosineTable(size));
        }
    }

    @Test
    void tableRowsAreOrthonormalForEverySizeUpTo64() {
        for (int size = 1; size <= 64; size++) {
            float[] t = Dct.cosineTable(size);
            for (int a = 0; a < size; a++) {
                for (int b = 0; b < size; b++) {
                    double dot = 0;
                    for (int j = 0; j < size; j++) {
                        dot += (double) t[a * size + j] * t[b * size + j];
                    }
                    // Each entry is the exact value rounded once to float (relative error <= 2^-24), so a
                    // dot product of n terms of total weight <= 1 is within n·2^-23 of 0 or 1.
                    assertEquals(a == b ? 1.0 : 0.0, dot, size * 0x1p-23, "size " + size + " rows " + a + "·" + b);
                }
            }
        }
    }

    @Test
    void inverseRestoresTheInput() {
        for (int[] s : new int[][] {{2, 3, 5, 7}, {1, 2, 1, 4}, {3, 1, 1, 1}, {2, 2, 17, 31}, {1, 4, 64, 64}}) {
            int n = s[0], c = s[1], h = s[2], w = s[3];
            float[] x = Inputs.gaussian(n * c * h * w, h * 100 + w);
            float[] back = dct(dct(x, n, c, h, w, false), n, c, h, w, true);
            // Bound 1e-6·max|x|. Each of the four passes is an fp32 sum of at most 64 products with
            // orthonormal weights (each rounded once, relative error 2^-24 ≈ 6e-8); rounding errors of such
            // sums grow like √64·6e-8 ≈ 5e-7 times the size of the data, so four passes give ~2e-6·rms; for
            // N(0,1) data max|x| ≈ 4·rms, so the bound (~4e-6·rms) is twice that estimate. Measured on these inputs: 3.6e-7·max|x| at 1×4×64×64 (the model
            // size), 1.6e-7 at 5×7. A wrong coefficient or index breaks the round trip by ~1e-1 or more.
            assertClose("idct2(dct2(x)) " + n + "x" + c + "x" + h + "x" + w, x, back, 0, 1e-6 * Arrays32.maxAbs(x));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c5_9x6", "n1_c2_8x8"})
    void lowpassKeepsOnlyTheLowestFrequencyBlock(String name) {
        Npz r = Npz.resource("dct/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], k = r.i("k");
        float[] y = Inputs.poisoned(r.f("x").length);
        Backends.seq(Dct.lowpass(r.f("x"), y, n, c, h, w, k));
        assertClose("lowpass " + name + " k=" + k, r.f("low"), y);
        float[] gx = Inputs.poisoned(y.length);
        Backends.seq(Dct.lowpassBackward(r.f("gy"), gx, n, c, h, w, k));
        assertClose("lowpass backward " + name + " k=" + k, r.f("glow"), gx);
    }

    @Test
    void lowpassAtEveryKZeroesExactlyTheHighFrequencies() {
        int n = 2, c = 3, h = 5, w = 7;
        float[] x = Inputs.gaussian(n * c * h * w, 11);
        for (int k = 0; k <= 5; k++) {
            float[] y = Inputs.poisoned(x.length);
            Backends.par(Dct.lowpass(x, y, n, c, h, w, k));
            for (int i = 0; i < x.length; i++) {
                int u = (i / w) % h, v = i % w;
                float expected = u < k && v < k ? x[i] : 0f;
                assertEquals(expected, y[i], 0f, "k=" + k + " at [" + i + "] (u=" + u + ", v=" + v + ")");
            }
        }
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        int n = 2, c = 1, h = 3, w = 5, size = n * c * h * w, k = 2;
        float[] x = Inputs.gaussian(size, 2);
        float[] gy = Inputs.gaussian(size, 3);
        float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w), scratch = new float[size], gx = new float[size];
        seq(Dct.dct2Backward(gy, th, tw, scratch, gx, n, c, h, w));
        FiniteDifference.check("dct2", in -> dct(in, n, c, h, w, false), x, gy, gx, 3, size);

        seq(Dct.idct2Backward(gy, th, tw, scratch, gx, n, c, h, w));
        FiniteDifference.check("idct2", in -> dct(in, n, c, h, w, true), x, gy, gx, 3, size);

        Backends.seq(Dct.lowpassBackward(gy, gx, n, c, h, w, k));
        FiniteDifference.check("lowpass", in -> {
            float[] out = new float[size];
            Backends.seq(Dct.lowpass(in, out, n, c, h, w, k));
            return out;
        }, x, gy, gx, 3, size);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 5, h = 13, w = 22, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 4);
        float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w);
        float[] a = Inputs.poisoned(size), b = Inputs.poisoned(size), s = new float[size];
        seq(Dct.dct2(x, th, tw, s, a, n, c, h, w));
        par(Dct.dct2(x, th, tw, s, b, n, c, h, w));
        assertIdentical("dct2", a, b);
        seq(Dct.idct2(x, th, tw, s, a, n, c, h, w));
        par(Dct.idct2(x, th, tw, s, b, n, c, h, w));
        assertIdentical("idct2", a, b);
        float[] t = Inputs.poisoned(2 * 40 * 40);
        Backends.par(Dct.table(t, 40));
        assertIdentical("table 40", Dct.cosineTable(40), t);
    }

    @Test
    void inputAndOutputMayBeOneArray() {
        int n = 2, c = 3, h = 5, w = 7, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 9);
        float[] expected = dct(x, n, c, h, w, false);
        float[] inPlace = x.clone();
        seq(Dct.dct2(inPlace, Dct.cosineTable(h), Dct.cosineTable(w), new float[size], inPlace, n, c, h, w));
        assertIdentical("in-place dct2", expected, inPlace);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[2 * 3 * 5 * 7];
        var e = assertThrows(IllegalArgumentException.class, () -> Dct.lowpass(x, new float[x.length], 2, 3, 5, 7, 6));
        assertEquals("dct.lowpass: argument 'k' expected in [0, 5], found 6", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dct.lowpass(x, new float[x.length], 2, 3, 5, 7, -1));
        assertEquals("dct.lowpass: argument 'k' expected in [0, 5], found -1", e.getMessage());
        float[] th = Dct.cosineTable(5), tw = Dct.cosineTable(7);
        e = assertThrows(IllegalArgumentException.class,
                () -> Dct.dct2(x, tw, tw, new float[x.length], new float[x.length], 2, 3, 5, 7));
        assertEquals("dct.dct2: argument 'tableH' expected length 50, found 98", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Dct.idct2(x, th, tw, new float[x.length], new float[3], 2, 3, 5, 7));
        assertEquals("dct.idct2: argument 'x' expected length 210, found 3", e.getMessage());
        float[] s = new float[x.length];
        e = assertThrows(IllegalArgumentException.class, () -> Dct.dct2(x, th, tw, s, s, 2, 3, 5, 7));
        assertEquals("dct.dct2: argument 'y' expected an array distinct from 'scratch' (the kernel reads one while writing the other), found the same array",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dct.dct2(x, th, tw, s, new float[x.length], 2, 3, 0, 7));
        assertEquals("dct.dct2: argument 'h' expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Dct.table(new float[8], 3));
        assertEquals("dct.table: argument 't' expected length 18, found 8", e.getMessage());
    }
}
