package dev.prism.kernels;

import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class HaarTest {

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_2x2", "n2_c3_6x8", "n2_c5_10x4", "n1_c7_12x14"})
    void dwtAndIdwtMatchPyWavelets(String name) {
        Npz r = Npz.resource("haar/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];

        float[] y = Inputs.poisoned(r.f("y").length);
        Backends.seq(Haar.dwt2(r.f("x"), y, n, c, h, w));
        assertClose("dwt2 " + name, r.f("y"), y);

        float[] xi = Inputs.poisoned(r.f("xi").length);
        Backends.seq(Haar.idwt2(r.f("yc"), xi, n, c, h, w));
        assertClose("idwt2 " + name, r.f("xi"), xi);
    }

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_2x2", "n2_c3_6x8", "n2_c5_10x4", "n1_c7_12x14"})
    void backwardMatchesPyTorchAutograd(String name) {
        Npz r = Npz.resource("haar/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];

        float[] gx = Inputs.poisoned(r.f("x").length);
        Backends.seq(Haar.dwt2Backward(r.f("gy"), gx, n, c, h, w));
        assertClose("dwt2 backward " + name, r.f("gx_dwt"), gx);

        float[] gy = Inputs.poisoned(r.f("yc").length);
        Backends.seq(Haar.idwt2Backward(r.f("gx"), gy, n, c, h, w));
        assertClose("idwt2 backward " + name, r.f("gy_idwt"), gy);
    }

    @Test
    void inverseDwtRestoresTheInputExactly() {
        int n = 2, c = 3, h = 16, w = 10;
        float[] x = Inputs.gaussian(n * c * h * w, 1);
        float[] y = new float[x.length];
        float[] back = Inputs.poisoned(x.length);
        Backends.par(Haar.dwt2(x, y, n, c, h, w));
        Backends.par(Haar.idwt2(y, back, n, c, h, w));
        assertClose("idwt2(dwt2(x))", x, back, 0, 1e-6);
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        int n = 1, c = 2, h = 4, w = 6, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 2);
        float[] gy = Inputs.gaussian(size, 3);
        float[] gx = new float[size];
        Backends.seq(Haar.dwt2Backward(gy, gx, n, c, h, w));
        FiniteDifference.check("dwt2", in -> {
            float[] out = new float[size];
            Backends.seq(Haar.dwt2(in, out, n, c, h, w));
            return out;
        }, x, gy, gx, 3, size);

        Backends.seq(Haar.idwt2Backward(gy, gx, n, c, h, w));
        FiniteDifference.check("idwt2", in -> {
            float[] out = new float[size];
            Backends.seq(Haar.idwt2(in, out, n, c, h, w));
            return out;
        }, x, gy, gx, 3, size);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 5, h = 18, w = 22, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 4);
        float[] a = Inputs.poisoned(size), b = Inputs.poisoned(size);
        Backends.seq(Haar.dwt2(x, a, n, c, h, w));
        Backends.par(Haar.dwt2(x, b, n, c, h, w));
        assertIdentical("dwt2", a, b);
        Backends.seq(Haar.idwt2(x, a, n, c, h, w));
        Backends.par(Haar.idwt2(x, b, n, c, h, w));
        assertIdentical("idwt2", a, b);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[2 * 3 * 7 * 8];
        var e = assertThrows(IllegalArgumentException.class, () -> Haar.dwt2(x, new float[x.length], 2, 3, 7, 8));
        assertEquals("haar.dwt2: argument 'h' expected an even size, found 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Haar.dwt2(x, new float[5], 2, 3, 8, 7));
        assertEquals("haar.dwt2: argument 'w' expected an even size, found 7", e.getMessage());
        float[] x2 = new float[2 * 3 * 8 * 8];
        e = assertThrows(IllegalArgumentException.class, () -> Haar.idwt2(x2, new float[5], 2, 3, 8, 8));
        assertEquals("haar.idwt2: argument 'x' expected length 384, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Haar.dwt2(x2, x2, 2, 3, 8, 8));
        assertEquals("haar.dwt2: argument 'y' expected an array distinct from 'x' (the kernel reads one while writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Haar.dwt2(x2, new float[384], -2, 3, 8, 8));
        assertEquals("haar.dwt2: argument 'n' expected > 0, found -2", e.getMessage());
    }
}
