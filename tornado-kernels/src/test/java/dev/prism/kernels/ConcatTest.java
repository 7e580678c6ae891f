package dev.prism.kernels;

import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConcatTest {
    static Stream<String> cases() {
        return Stream.of("n1_ca1_cb1_1x1", "n2_ca3_cb5_4x6", "n3_ca8_cb2_5x7", "n2_ca7_cb9_1x11");
    }

    private static int[] dims(Npz r) {
        return Arrays.stream(r.get("dims").ints()).mapToInt(v -> (int) v).toArray();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void concatenationAndSplitMatchTorchCatAndSplit(String name) {
        Npz r = Npz.resource("concat/" + name);
        int[] d = dims(r);
        float[] y = Inputs.poisoned(r.f("y").length);
        Backends.seq(Concat.channels(r.f("a"), r.f("b"), y, d[0], d[1], d[2], d[3], d[4]));
        assertClose("channels " + name, r.f("y"), y);

        float[] a = Inputs.poisoned(r.f("sa").length), b = Inputs.poisoned(r.f("sb").length);
        Backends.seq(Concat.split(r.f("ys"), a, b, d[0], d[1], d[2], d[3], d[4]));
        assertClose("split a " + name, r.f("sa"), a);
        assertClose("split b " + name, r.f("sb"), b);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void backwardMatchesPyTorchAutograd(String name) {
        Npz r = Npz.resource("concat/" + name);
        int[] d = dims(r);
        float[] ga = Inputs.poisoned(r.f("a").length), gb = Inputs.poisoned(r.f("b").length);
        Backends.seq(Concat.channelsBackward(r.f("gy"), ga, gb, d[0], d[1], d[2], d[3], d[4]));
        assertClose("grad a " + name, r.f("ga"), ga);
        assertClose("grad b " + name, r.f("gb"), gb);
    }

    /** {@code [a | b]} as one flat vector, and back, for the single-input finite-difference check. */
    private static float[] join(float[] a, float[] b) {
        float[] x = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, x, a.length, b.length);
        return x;
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        int n = 2, ca = 3, cb = 2, h = 3, w = 4;
        int la = n * ca * h * w, lb = n * cb * h * w;
        float[] x = Inputs.gaussian(la + lb, 5);
        float[] gy = Inputs.gaussian(la + lb, 6);
        float[] ga = new float[la], gb = new float[lb];
        Backends.seq(Concat.channelsBackward(gy, ga, gb, n, ca, cb, h, w));
        FiniteDifference.check("concat.channels", in -> {
            float[] out = new float[la + lb];
            Backends.seq(Concat.channels(Arrays.copyOf(in, la), Arrays.copyOfRange(in, la, la + lb), out, n, ca, cb, h, w));
            return out;
        }, x, gy, join(ga, gb), 3, la + lb);

        float[] gyOfSplit = Inputs.gaussian(la + lb, 7);
        float[] gx = new float[la + lb];
        Backends.seq(Concat.splitBackward(Arrays.copyOf(gyOfSplit, la), Arrays.copyOfRange(gyOfSplit, la, la + lb), gx, n, ca, cb, h, w));
        FiniteDifference.check("concat.split", in -> {
            float[] a = new float[la], b = new float[lb];
            Backends.seq(Concat.split(in, a, b, n, ca, cb, h, w));
            return join(a, b);
        }, x, gyOfSplit, gx, 3, la + lb);
    }

    @Test
    void splitUndoesTheConcatenationOnTheParallelBackendBitForBit() {
        int n = 3, ca = 5, cb = 4, h = 9, w = 13;
        float[] a = Inputs.gaussian(n * ca * h * w, 8), b = Inputs.gaussian(n * cb * h * w, 9);
        float[] seq = Inputs.poisoned(a.length + b.length), par = Inputs.poisoned(a.length + b.length);
        Backends.seq(Concat.channels(a, b, seq, n, ca, cb, h, w));
        Backends.par(Concat.channels(a, b, par, n, ca, cb, h, w));
        assertIdentical("channels seq vs par", seq, par);
        float[] a2 = Inputs.poisoned(a.length), b2 = Inputs.poisoned(b.length);
        Backends.par(Concat.split(par, a2, b2, n, ca, cb, h, w));
        assertIdentical("split(cat(a, b)) a", a, a2);
        assertIdentical("split(cat(a, b)) b", b, b2);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] a = new float[2 * 3 * 4 * 4], b = new float[2 * 5 * 4 * 4], y = new float[2 * 8 * 4 * 4];
        var e = assertThrows(IllegalArgumentException.class, () -> Concat.channels(a, b, new float[10], 2, 3, 5, 4, 4));
        assertEquals("concat.channels: argument 'y' expected length 256, found 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Concat.channels(b, a, y, 2, 3, 5, 4, 4));
        assertEquals("concat.channels: argument 'a' expected length 96, found 160", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Concat.split(y, a, b, 2, 3, 0, 4, 4));
        assertEquals("concat.split: argument 'cb' expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Concat.split(new float[192], a, a, 2, 3, 3, 4, 4));
        assertEquals("concat.split: argument 'b' expected an array distinct from 'a' (the kernel reads one while writing the other), found the same array",
                e.getMessage());
    }
}
