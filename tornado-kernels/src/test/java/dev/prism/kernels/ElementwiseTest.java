package dev.prism.kernels;

import dev.prism.backend.Executable;
import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
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

class ElementwiseTest {

    @ParameterizedTest
    @ValueSource(strings = {"n2_c3_5x7", "n1_c5_4x1", "n3_c2_1x6"})
    void operationsAndGradientsMatchPyTorch(String name) {
        Npz r = Npz.resource("elementwise/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], len = n * c * h * w;
        float[] a = r.f("a"), b = r.f("b"), gy = r.f("gy"), s = r.f("s");

        float[] out = Inputs.poisoned(len);
        Backends.seq(Elementwise.add(a, b, out, len));
        assertClose(name + " add", r.f("add"), out);
        Backends.seq(Elementwise.mul(a, b, Inputs.poison(out), len));
        assertClose(name + " mul", r.f("mul"), out);
        Backends.seq(Elementwise.scale(a, s, Inputs.poison(out), len));
        assertClose(name + " scale", r.f("scale"), out);
        Backends.seq(Elementwise.axpy(a, b, s, Inputs.poison(out), len));
        assertClose(name + " axpy", r.f("axpy"), out);
        Backends.seq(Elementwise.addPlanes(a, r.f("v"), Inputs.poison(out), n, c, h, w));
        assertClose(name + " addPlanes", r.f("planes"), out);
        Backends.seq(Elementwise.addBias(a, r.f("bias"), Inputs.poison(out), n, c, h, w));
        assertClose(name + " addBias", r.f("biased"), out);

        float[] ga = Inputs.poisoned(len), gb = Inputs.poisoned(len);
        Elementwise.mulBackward(a, b, gy, ga, gb, len).forEach(Backends::seq);
        assertClose(name + " mul: grad a", r.f("ga_mul"), ga);
        assertClose(name + " mul: grad b", r.f("gb_mul"), gb);
        Backends.seq(Elementwise.scaleBackward(gy, s, Inputs.poison(ga), len));
        assertClose(name + " scale: grad a", r.f("ga_scale"), ga);
        Backends.seq(Elementwise.axpyBackward(gy, s, Inputs.poison(gb), len));
        assertClose(name + " axpy: grad b", r.f("gb_axpy"), gb);
        assertClose(name + " axpy: grad a is gy", r.f("ga_axpy"), gy);
        float[] gv = Inputs.poisoned(n * c), gbias = Inputs.poisoned(c);
        Backends.seq(Elementwise.addPlanesBackward(gy, gv, n, c, h, w));
        assertClose(name + " addPlanes: grad v", r.f("gv"), gv);
        Backends.seq(Elementwise.addBiasBackward(gy, gbias, n, c, h, w));
        assertClose(name + " addBias: grad bias", r.f("gbias"), gbias);
    }

    @Test
    void backwardsAgreeWithFiniteDifferences() {
        int n = 2, c = 3, h = 2, w = 5, len = n * c * h * w;
        float[] a = Inputs.gaussian(len, 101), b = Inputs.gaussian(len, 102), gy = Inputs.gaussian(len, 103);
        float[] s = {-0.75f};
        float[] ga = new float[len], gb = new float[len];
        Elementwise.mulBackward(a, b, gy, ga, gb, len).forEach(Backends::seq);
        FiniteDifference.check("mul wrt a", in -> run(Elementwise.mul(in, b, new float[len], len)), a, gy, ga, 3, len);
        FiniteDifference.check("mul wrt b", in -> run(Elementwise.mul(a, in, new float[len], len)), b, gy, gb, 3, len);
        Backends.seq(Elementwise.axpyBackward(gy, s, gb, len));
        FiniteDifference.check("axpy wrt b", in -> run(Elementwise.axpy(a, in, s, new float[len], len)), b, gy, gb, 3, len);
        Backends.seq(Elementwise.scaleBackward(gy, s, ga, len));
        FiniteDifference.check("scale", in -> run(Elementwise.scale(in, s, new float[len], len)), a, gy, ga, 3, len);

        float[] v = Inputs.gaussian(n * c, 104), gv = new float[n * c];
        Backends.seq(Elementwise.addPlanesBackward(gy, gv, n, c, h, w));
        FiniteDifference.check("addPlanes wrt v", in -> run(Elementwise.addPlanes(a, in, new float[len], n, c, h, w)),
                v, gy, gv, 3, n * c);
        float[] bias = Inputs.gaussian(c, 105), gbias = new float[c];
        Backends.seq(Elementwise.addBiasBackward(gy, gbias, n, c, h, w));
        FiniteDifference.check("addBias wrt bias", in -> run(Elementwise.addBias(a, in, new float[len], n, c, h, w)),
                bias, gy, gbias, 3, c);
    }

    @Test
    void outputMayBeAnInput() {
        int n = 2, c = 5, h = 3, w = 7, len = n * c * h * w;
        float[] a = Inputs.gaussian(len, 111), b = Inputs.gaussian(len, 112), v = Inputs.gaussian(n * c, 113);
        float[] s = {1.375f};
        List<String> names = List.of("add into a", "mul into b", "axpy into a", "scale into a", "addPlanes into x");
        for (String what : names) {
            float[] expected = new float[len], inA = a.clone(), inB = b.clone();
            switch (what) {
                case "add into a" -> {
                    Backends.seq(Elementwise.add(a, b, expected, len));
                    Backends.par(Elementwise.add(inA, inB, inA, len));
                }
                case "mul into b" -> {
                    Backends.seq(Elementwise.mul(a, b, expected, len));
                    Backends.par(Elementwise.mul(inA, inB, inB, len));
                    inA = inB;
                }
                case "axpy into a" -> {
                    Backends.seq(Elementwise.axpy(a, b, s, expected, len));
                    Backends.par(Elementwise.axpy(inA, inB, s, inA, len));
                }
                case "scale into a" -> {
                    Backends.seq(Elementwise.scale(a, s, expected, len));
                    Backends.par(Elementwise.scale(inA, s, inA, len));
                }
                default -> {
                    Backends.seq(Elementwise.addPlanes(a, v, expected, n, c, h, w));
                    Backends.par(Elementwise.addPlanes(inA, v, inA, n, c, h, w));
                }
            }
            assertIdentical(what, expected, inA);
        }
    }

    @Test
    void aCompiledPlanReadsTheScaleAnewOnEveryExecution() {
        int len = 64;
        float[] a = Inputs.gaussian(len, 121), b = Inputs.gaussian(len, 122), s = {0.5f}, out = Inputs.poisoned(len);
        Plan plan = Plan.builder("axpy").add(Elementwise.axpy(a, b, s, out, len)).inputs(s).outputs(out).build();
        try (Executable e = Backends.PAR.compile(plan)) {
            e.execute();
            s[0] = -3f;
            e.execute();
        }
        float[] expected = new float[len];
        Backends.seq(Elementwise.axpy(a, b, new float[] {-3f}, expected, len));
        assertIdentical("axpy after the scale changed", expected, out);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 7, h = 30, w = 31, len = n * c * h * w;
        float[] x = Inputs.gaussian(len, 131), v = Inputs.gaussian(n * c, 132);
        float[] a = Inputs.poisoned(len), b = Inputs.poisoned(len);
        Backends.seq(Elementwise.addPlanes(x, v, a, n, c, h, w));
        Backends.par(Elementwise.addPlanes(x, v, b, n, c, h, w));
        assertIdentical("addPlanes", a, b);
        float[] p = Inputs.poisoned(c), q = Inputs.poisoned(c);
        Backends.seq(Elementwise.addBiasBackward(x, p, n, c, h, w));
        Backends.par(Elementwise.addBiasBackward(x, q, n, c, h, w));
        assertIdentical("addBiasBackward", p, q);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] a = new float[30];
        var e = assertThrows(IllegalArgumentException.class, () -> Elementwise.add(a, new float[29], a, 30));
        assertEquals("elementwise.add: argument 'b' expected length 30, found 29", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.scale(a, new float[2], a, 30));
        assertEquals("elementwise.scale: argument 's' expected length 1, found 2", e.getMessage());
        float[] one = new float[1];
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.scale(one, one, one, 1));
        assertEquals("elementwise.scale: argument 'out' expected an array distinct from 's' (the kernel reads one while"
                + " writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.addBias(a, new float[2], a, 1, 3, 2, 5));
        assertEquals("elementwise.addBias: argument 'bias' expected length 3, found 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.addPlanes(a, new float[3], a, 2, 3, 1, 5));
        assertEquals("elementwise.addPlanes: argument 'v' expected length 6, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.addPlanesBackward(a, new float[6], 2, 3, 1, 4));
        assertEquals("elementwise.addPlanesBackward: argument 'gy' expected length 24, found 30", e.getMessage());
        float[] gy = new float[30];
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.mulBackward(a, a, gy, gy, new float[30], 30));
        assertEquals("elementwise.mulBackward: argument 'ga' expected an array distinct from 'gy' (the kernel reads one"
                + " while writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.axpy(a, a, new float[1], a, -1));
        assertEquals("elementwise.axpy: argument 'len' expected > 0, found -1", e.getMessage());
    }

    private static float[] run(Launch launch) {
        Backends.seq(launch);
        return launch.outputs()[0];
    }
}
