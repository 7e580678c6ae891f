package dev.prism.kernels;

import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

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

    /** The channel order a reference case was written with: {@code cp1p2} is einops' {@code (c p1 p2)}. */
    private static boolean channelMajor(String name) {
        return name.contains("_cp1p2_");
    }

    @ParameterizedTest
    @ValueSource(strings = {"patchify_p1p2c_n2_c3_4x6_p2", "patchify_p1p2c_n1_c5_6x9_p3", "patchify_p1p2c_n3_c2_6x3_p3",
            "patchify_p1p2c_n2_c4_2x8_p2", "patchify_cp1p2_n2_c3_4x6_p2", "patchify_cp1p2_n1_c5_6x9_p3",
            "patchify_cp1p2_n3_c2_6x3_p3", "patchify_cp1p2_n2_c4_2x8_p2"})
    void patchifyAndItsBackwardMatchTheEinopsRearrangeBitForBit(String name) {
        Npz r = Npz.resource("resample/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], p = (int) d[4];
        boolean cm = channelMajor(name);
        float[] y = Inputs.poisoned(n * c * h * w), gx = Inputs.poisoned(n * c * h * w);
        Backends.seq(Resample.patchify(r.f("x"), y, n, c, h, w, p, cm));
        assertIdentical(name + " forward", r.f("y"), y);
        Backends.seq(Resample.patchifyBackward(r.f("gy"), gx, n, c, h, w, p, cm));
        assertIdentical(name + " backward", r.f("gx"), gx);
    }

    @ParameterizedTest
    @ValueSource(strings = {"unpatchify_p1p2c_n2_c3_4x6_p2", "unpatchify_p1p2c_n1_c5_6x9_p3", "unpatchify_p1p2c_n3_c2_6x3_p3",
            "unpatchify_p1p2c_n2_c4_2x8_p2", "unpatchify_cp1p2_n2_c3_4x6_p2", "unpatchify_cp1p2_n1_c5_6x9_p3",
            "unpatchify_cp1p2_n3_c2_6x3_p3", "unpatchify_cp1p2_n2_c4_2x8_p2"})
    void unpatchifyAndItsBackwardMatchTheEinopsRearrangeBitForBit(String name) {
        Npz r = Npz.resource("resample/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], p = (int) d[4];
        boolean cm = channelMajor(name);
        float[] x = Inputs.poisoned(n * c * h * w), gy = Inputs.poisoned(n * c * h * w);
        Backends.seq(Resample.unpatchify(r.f("y"), x, n, c, h, w, p, cm));
        assertIdentical(name + " forward", r.f("x"), x);
        Backends.seq(Resample.unpatchifyBackward(r.f("gx"), gy, n, c, h, w, p, cm));
        assertIdentical(name + " backward", r.f("gy"), gy);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void unpatchifyUndoesPatchifyOfTheSameOrderExactly(boolean channelMajor) {
        int n = 2, c = 3, h = 12, w = 8, size = n * c * h * w;
        for (int p : new int[] {1, 2, 4}) {
            float[] x = Inputs.gaussian(size, 86), y = Inputs.poisoned(size), back = Inputs.poisoned(size);
            Backends.seq(Resample.patchify(x, y, n, c, h, w, p, channelMajor));
            Backends.seq(Resample.unpatchify(y, back, n, c, h, w, p, channelMajor));
            assertIdentical("unpatchify(patchify(x)) p " + p, x, back);
            if (p == 1) {
                assertIdentical("patchify with p 1 copies", x, y);
            }
        }
    }

    @Test
    void theTwoChannelOrdersDifferOnlyWhenThereIsMoreThanOneChannel() {
        int n = 1, h = 4, w = 6, p = 2;
        for (int c : new int[] {1, 3}) {
            float[] x = Inputs.gaussian(n * c * h * w, 87), a = Inputs.poisoned(x.length), b = Inputs.poisoned(x.length);
            Backends.seq(Resample.patchify(x, a, n, c, h, w, p, false));
            Backends.seq(Resample.patchify(x, b, n, c, h, w, p, true));
            assertEquals(c == 1, Arrays.equals(a, b), "C = " + c);
        }
    }

    @Test
    void patchifyBackwardsAgreeWithFiniteDifferences() {
        int n = 2, c = 3, h = 6, w = 9, p = 3, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 88), gy = Inputs.gaussian(size, 89);
        for (boolean cm : new boolean[] {false, true}) {
            float[] gx = new float[size];
            Backends.seq(Resample.patchifyBackward(gy, gx, n, c, h, w, p, cm));
            FiniteDifference.check("patchify " + cm, in -> {
                float[] out = new float[size];
                Backends.seq(Resample.patchify(in, out, n, c, h, w, p, cm));
                return out;
            }, x, gy, gx, 3, size);
            Backends.seq(Resample.unpatchifyBackward(gy, gx, n, c, h, w, p, cm));
            FiniteDifference.check("unpatchify " + cm, in -> {
                float[] out = new float[size];
                Backends.seq(Resample.unpatchify(in, out, n, c, h, w, p, cm));
                return out;
            }, x, gy, gx, 3, size);
        }
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
        for (boolean cm : new boolean[] {false, true}) {
            float[] e = Inputs.poisoned(size), f = Inputs.poisoned(size);
            Backends.seq(Resample.patchify(x, e, n, c, h, w, 2, cm));
            Backends.par(Resample.patchify(x, f, n, c, h, w, 2, cm));
            assertIdentical("patchify " + cm, e, f);
            Backends.seq(Resample.unpatchify(x, e, n, c, h, w, 2, cm));
            Backends.par(Resample.unpatchify(x, f, n, c, h, w, 2, cm));
            assertIdentical("unpatchify " + cm, e, f);
        }
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

    @Test
    void badPatchArgumentsAreRejectedByName() {
        float[] x = new float[2 * 3 * 6 * 9], y = new float[2 * 3 * 6 * 9];
        var e = assertThrows(IllegalArgumentException.class, () -> Resample.patchify(x, y, 2, 3, 6, 9, 0, false));
        assertEquals("resample.patchify: argument 'p' expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.patchify(x, y, 2, 3, 6, 9, 2, false));
        assertEquals("resample.patchify: argument 'w' expected a multiple of p = 2, found 9", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.unpatchify(y, x, 2, 3, 9, 6, 2, true));
        assertEquals("resample.unpatchify: argument 'h' expected a multiple of p = 2, found 9", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.patchify(x, new float[36], 2, 3, 6, 9, 3, false));
        assertEquals("resample.patchify: argument 'y' expected length 324, found 36", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.unpatchify(new float[36], x, 2, 3, 6, 9, 3, true));
        assertEquals("resample.unpatchify: argument 'y' expected length 324, found 36", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.patchifyBackward(y, null, 2, 3, 6, 9, 3, false));
        assertEquals("resample.patchifyBackward: argument 'gx' expected an array of length 324, found null", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.unpatchifyBackward(new float[323], y, 2, 3, 6, 9, 3, false));
        assertEquals("resample.unpatchifyBackward: argument 'gx' expected length 324, found 323", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.patchify(x, x, 2, 3, 6, 9, 3, false));
        assertEquals("resample.patchify: argument 'y' expected an array distinct from 'x' (the kernel reads one while writing the other),"
                + " found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.unpatchify(x, x, 2, 3, 6, 9, 3, true));
        assertEquals("resample.unpatchify: argument 'x' expected an array distinct from 'y' (the kernel reads one while writing the other),"
                + " found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Resample.unpatchify(y, x, 2, 0, 6, 9, 3, true));
        assertEquals("resample.unpatchify: argument 'c' expected > 0, found 0", e.getMessage());
    }
}
