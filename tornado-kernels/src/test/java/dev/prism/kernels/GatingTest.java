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

class GatingTest {

    private static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    private static void par(List<Launch> launches) {
        launches.forEach(Backends::par);
    }

    private record Case(int n, int c, int h, int w, int gates, Npz r) {
        static Case of(String name) {
            Npz r = Npz.resource("gating/" + name);
            long[] d = r.get("dims").ints();
            return new Case((int) d[0], (int) d[1], (int) d[2], (int) d[3], (int) d[4], r);
        }

        int band() {
            return n * c * h * w;
        }

        /** Scratch for the per-channel partial sums: needed only when one gate serves all channels. */
        float[] partial() {
            return gates == c ? null : Inputs.poisoned(Gating.partialLength(n, c));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"n2_c3_5x7_g1", "n2_c3_5x7_g3", "n1_c5_4x6_g1", "n1_c5_4x6_g5", "n3_c1_1x1_g1", "n1_c6_3x1_g6"})
    void averagePoolAndItsBackwardMatchPyTorch(String name) {
        Case t = Case.of(name);
        int h = 2 * t.h + 1; // the pooled image of the reference is (2h+1) × w
        float[] m = Inputs.poisoned(t.n * t.c);
        Backends.seq(Gating.avgPool(t.r.f("x"), m, t.n, t.c, h, t.w));
        assertClose("avgPool " + name, t.r.f("m"), m);
        float[] gx = Inputs.poisoned(t.r.f("x").length);
        Backends.seq(Gating.avgPoolBackward(t.r.f("gm"), gx, t.n, t.c, h, t.w));
        assertClose("avgPool backward " + name, t.r.f("gx_pool"), gx);
    }

    @ParameterizedTest
    @ValueSource(strings = {"n2_c3_5x7_g1", "n2_c3_5x7_g3", "n1_c5_4x6_g1", "n1_c5_4x6_g5", "n3_c1_1x1_g1", "n1_c6_3x1_g6"})
    void gatedSumAndItsBackwardMatchPyTorch(String name) {
        Case t = Case.of(name);
        float[] out = Inputs.poisoned(t.band());
        Backends.seq(Gating.gatedSum(t.r.f("y"), t.r.f("g"), out, t.n, t.c, t.h, t.w, t.gates));
        assertClose("gatedSum " + name, t.r.f("out"), out);
        float[] gy = Inputs.poisoned(4 * t.band()), gg = Inputs.poisoned(4 * t.n * t.gates);
        seq(Gating.gatedSumBackward(t.r.f("y"), t.r.f("g"), t.r.f("gout"), gy, t.partial(), gg, t.n, t.c, t.h, t.w, t.gates));
        assertClose("gatedSum backward gy " + name, t.r.f("gy"), gy);
        assertClose("gatedSum backward gg " + name, t.r.f("gg_sum"), gg);
    }

    @ParameterizedTest
    @ValueSource(strings = {"n2_c3_5x7_g1", "n2_c3_5x7_g3", "n1_c5_4x6_g1", "n1_c5_4x6_g5", "n3_c1_1x1_g1", "n1_c6_3x1_g6"})
    void bandGateAndItsBackwardMatchPyTorch(String name) {
        Case t = Case.of(name);
        float[] z = Inputs.poisoned(4 * t.band());
        Backends.seq(Gating.bandGate(t.r.f("xb"), t.r.f("g"), z, t.n, t.c, t.h, t.w, t.gates));
        assertClose("bandGate " + name, t.r.f("z"), z);
        float[] gx = Inputs.poisoned(4 * t.band()), gg = Inputs.poisoned(4 * t.n * t.gates);
        seq(Gating.bandGateBackward(t.r.f("xb"), t.r.f("g"), t.r.f("gz"), gx, t.partial(), gg, t.n, t.c, t.h, t.w, t.gates));
        assertClose("bandGate backward gx " + name, t.r.f("gxb"), gx);
        assertClose("bandGate backward gg " + name, t.r.f("gg_gate"), gg);
    }

    @Test
    void oneGatePerBandIsSharedByEveryChannel() {
        int n = 1, c = 3, h = 2, w = 2, plane = h * w;
        float[] y = new float[4 * c * plane];
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < c * plane; i++) {
                y[k * c * plane + i] = k + 1; // band k holds k + 1 everywhere
            }
        }
        float[] g = {0.5f, 0.25f, 2f, -1f};
        float[] out = Inputs.poisoned(c * plane);
        Backends.seq(Gating.gatedSum(y, g, out, n, c, h, w, 1));
        // 0.5·1 + 0.25·2 + 2·3 − 1·4 = 3 in every channel
        for (float v : out) {
            assertEquals(3f, v, 0f);
        }
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        for (int gates : new int[] {1, 3}) {
            int n = 2, c = 3, h = 2, w = 3, band = n * c * h * w, ng = 4 * n * gates;
            float[] y = Inputs.gaussian(4 * band, 21), g = Inputs.uniform(ng, 0.1f, 0.9f, 22);
            float[] gout = Inputs.gaussian(band, 23), gz = Inputs.gaussian(4 * band, 24);
            float[] partial = new float[Gating.partialLength(n, c)], gy = new float[4 * band], gg = new float[ng];
            seq(Gating.gatedSumBackward(y, g, gout, gy, partial, gg, n, c, h, w, gates));
            FiniteDifference.check("gatedSum gy, G=" + gates, in -> {
                float[] o = new float[band];
                Backends.seq(Gating.gatedSum(in, g, o, n, c, h, w, gates));
                return o;
            }, y, gout, gy, 3, 20);
            FiniteDifference.check("gatedSum gg, G=" + gates, in -> {
                float[] o = new float[band];
                Backends.seq(Gating.gatedSum(y, in, o, n, c, h, w, gates));
                return o;
            }, g, gout, gg, 3, ng);

            float[] gx = new float[4 * band];
            seq(Gating.bandGateBackward(y, g, gz, gx, partial, gg, n, c, h, w, gates));
            FiniteDifference.check("bandGate gx, G=" + gates, in -> {
                float[] o = new float[4 * band];
                Backends.seq(Gating.bandGate(in, g, o, n, c, h, w, gates));
                return o;
            }, y, gz, gx, 3, 20);
            FiniteDifference.check("bandGate gg, G=" + gates, in -> {
                float[] o = new float[4 * band];
                Backends.seq(Gating.bandGate(y, in, o, n, c, h, w, gates));
                return o;
            }, g, gz, gg, 3, ng);
        }
        int n = 2, c = 3, h = 5, w = 4;
        float[] x = Inputs.gaussian(n * c * h * w, 25), gm = Inputs.gaussian(n * c, 26), gx = new float[x.length];
        Backends.seq(Gating.avgPoolBackward(gm, gx, n, c, h, w));
        FiniteDifference.check("avgPool", in -> {
            float[] m = new float[n * c];
            Backends.seq(Gating.avgPool(in, m, n, c, h, w));
            return m;
        }, x, gm, gx, 3, 20);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 7, h = 9, w = 13, band = n * c * h * w;
        for (int gates : new int[] {1, c}) {
            float[] y = Inputs.gaussian(4 * band, 31), g = Inputs.uniform(4 * n * gates, 0f, 1f, 32);
            float[] gout = Inputs.gaussian(band, 33);
            float[] a = Inputs.poisoned(band), b = Inputs.poisoned(band);
            Backends.seq(Gating.gatedSum(y, g, a, n, c, h, w, gates));
            Backends.par(Gating.gatedSum(y, g, b, n, c, h, w, gates));
            assertIdentical("gatedSum G=" + gates, a, b);
            float[] gy1 = Inputs.poisoned(4 * band), gy2 = Inputs.poisoned(4 * band);
            float[] gg1 = Inputs.poisoned(4 * n * gates), gg2 = Inputs.poisoned(4 * n * gates);
            seq(Gating.gatedSumBackward(y, g, gout, gy1, new float[Gating.partialLength(n, c)], gg1, n, c, h, w, gates));
            // the plain per-lane helpers; the dot products' vector variant is GatingVectorTest's
            Gating.gatedSumBackward(y, g, gout, gy2, new float[Gating.partialLength(n, c)], gg2, n, c, h, w, gates).forEach(Backends::plain);
            assertIdentical("gatedSumBackward gy G=" + gates, gy1, gy2);
            assertIdentical("gatedSumBackward gg G=" + gates, gg1, gg2);
        }
        float[] m1 = Inputs.poisoned(n * c), m2 = Inputs.poisoned(n * c), x = Inputs.gaussian(band, 34);
        Backends.seq(Gating.avgPool(x, m1, n, c, h, w));
        Backends.par(Gating.avgPool(x, m2, n, c, h, w));
        assertIdentical("avgPool", m1, m2);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        int n = 2, c = 3, h = 4, w = 5, band = n * c * h * w;
        float[] y = new float[4 * band], out = new float[band];
        var e = assertThrows(IllegalArgumentException.class, () -> Gating.gatedSum(y, new float[16], out, n, c, h, w, 2));
        assertEquals("gating.gatedSum: argument 'gates' expected 1 or c = 3, found 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gating.gatedSum(y, new float[24], out, n, c, h, w, 1));
        assertEquals("gating.gatedSum: argument 'g' expected length 8, found 24", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gating.bandGate(y, new float[24], new float[band], n, c, h, w, 3));
        assertEquals("gating.bandGate: argument 'z' expected length 480, found 120", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gating.gatedSumBackward(y, new float[8], out, new float[4 * band], null, new float[8], n, c, h, w, 1));
        assertEquals("gating.gatedSumBackward: argument 'partial' expected an array of length 48, found null", e.getMessage());
        float[] same = new float[4 * band];
        e = assertThrows(IllegalArgumentException.class,
                () -> Gating.bandGateBackward(y, new float[24], same, same, null, new float[24], n, c, h, w, 3));
        assertEquals("gating.bandGateBackward: argument 'gx' expected an array distinct from 'gz'"
                + " (the kernel reads one while writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gating.avgPool(out, new float[5], n, c, h, w));
        assertEquals("gating.avgPool: argument 'm' expected length 6, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gating.avgPoolBackward(new float[6], out, n, c, 0, w));
        assertEquals("gating.avgPoolBackward: argument 'h' expected > 0, found 0", e.getMessage());
    }
}
