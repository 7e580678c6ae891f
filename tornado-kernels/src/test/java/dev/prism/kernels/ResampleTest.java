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

class ResampleTest {

    @ParameterizedTest
    @ValueSource(strings = {"upsample_n2_c3_5x7", "upsample_n1_c4_1x3", "upsample_n3_c5_2x2"})
    void nearestUpsampleAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("resample/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        float[] y = Inputs.poisoned(4 * n * c * h * w), gx = Inputs.poisoned(n * c * h * w);
        Backends.seq(Resample.upsample2x(r.f("x"), y, n, c, h, w));
        assertClose(name + " forward", r.f("y"), y);
        Backends.seq(Resample.upsample2xBackward(r.f("gy"), gx, n, c, h, w));
        assertClose(name + " backward", r.f("gx"), gx);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pool_n2_c3_6x10", "pool_n1_c5_4x2", "pool_n3_c7_2x8"})
    void averagePoolAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("resample/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        float[] y = Inputs.poisoned(n * c * h * w / 4), gx = Inputs.poisoned(n * c * h * w);
        Backends.seq(Resample.avgPool2x(r.f("x"), y, n, c, h, w));
        assertClose(name + " forward", r.f("y"), y);
        Backends.seq(Resample.avgPool2xBackward(r.f("gy"), gx, n, c, h, w));
        assertClose(name + " backward", r.f("gx"), gx);
    }

    @Test
    void backwardsAgreeWithFiniteDifferences() {
        int n = 2, c = 3, h = 4, w = 6, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 81);
        float[] gyUp = Inputs.gaussian(4 * size, 82), gyPool = Inputs.gaussian(size / 4, 83);
        float[] gx = new float[size];
        Backends.seq(Resample.upsample2xBackward(gyUp, gx, n, c, h, w));
        FiniteDifference.check("upsample2x", in -> {
            float[] out = new float[4 * size];
            Backends.seq(Resample.upsample2x(in, out, n, c, h, w));
            return out;
        }, x, gyUp, gx, 3, size);
        Backends.seq(Resample.avgPool2xBackward(gyPool, gx, n, c, h, w));
        FiniteDifference.check("avgPool2x", in -> {
            float[] out = new float[size / 4];
            Backends.seq(Resample.avgPool2x(in, out, n, c, h, w));
            return out;
        }, x, gyPool, gx, 3, size);
    }

    @Test
    void poolingUndoesUpsamplingExactly() {
        int n = 2, c = 3, h = 5, w = 7, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 84), up = new float[4 * size], back = Inputs.poisoned(size);
        Backends.seq(Resample.upsample2x(x, up, n, c, h, w));
        Backends.seq(Resample.avgPool2x(up, back, n, c, 2 * h, 2 * w));
        // (v + v) + (v + v) = 4v and 4v/4 = v are exact in binary floating point
        assertIdentical("avgPool2x(upsample2x(x))", x, back);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 7, h = 18, w = 22, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 85);
        float[] a = Inputs.poisoned(4 * size), b = Inputs.poisoned(4 * size);
        Backends.seq(Resample.upsample2x(x, a, n, c, h, w));
        Backends.par(Resample.upsample2x(x, b, n, c, h, w));
        assertIdentical("upsample2x", a, b);
        float[] p = Inputs.poisoned(size / 4), q = Inputs.poisoned(size / 4);
        Backends.seq(Resample.avgPool2x(x, p, n, c, h, w));
        Backends.par(Resample.avgPool2x(x, q, n, c, h, w));
        assertIdentical("avgPool2x", p, q);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[2 * 3 * 7 * 8];
        var e = assertThrows(IllegalArgumentException.class, () -> Resample.avgPool2x(x, new float[84], 2, 3, 7, 8));
        assertEquals("resample.avgPool2x: argument 'h' expected an even size, found 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.avgPool2x(x, new float[84], 2, 3, 8, 7));
        assertEquals("resample.avgPool2x: argument 'w' expected an even size, found 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.avgPool2xBackward(x, new float[336], 2, 3, 8, 7));
        assertEquals("resample.avgPool2xBackward: argument 'w' expected an even size, found 7", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.upsample2x(x, new float[336], 2, 3, 7, 8));
        assertEquals("resample.upsample2x: argument 'y' expected length 1344, found 336", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.upsample2xBackward(x, new float[84], 2, 3, 7, 8));
        assertEquals("resample.upsample2xBackward: argument 'gy' expected length 1344, found 336", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.upsample2x(x, new float[1344], -1, 3, 7, 8));
        assertEquals("resample.upsample2x: argument 'n' expected > 0, found -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.avgPool2x(x, x, 2, 3, 0, 8));
        assertEquals("resample.avgPool2x: argument 'h' expected > 0, found 0", e.getMessage());
    }
}
