package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttentionTest {

    static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    /** The parallel backend on the plain per-lane helpers (the vector variants have their own tests). */
    static void par(List<Launch> launches) {
        launches.forEach(Backends::plain);
    }

    @ParameterizedTest
    @ValueSource(strings = {"b1_h1_d3_p15", "b2_h2_d5_p6", "b1_h3_d6_p35", "b2_h1_d7_p9", "large_logits_b1_h2_d4_p12"})
    void forwardMatchesTorchSoftmaxAttention(String name) {
        Npz r = Npz.resource("attention/" + name);
        long[] d = r.get("dims").ints();
        int b = (int) d[0], heads = (int) d[1], dim = (int) d[2], p = (int) d[3];
        float[] out = Inputs.poisoned(r.f("q").length), probs = Inputs.poisoned(b * heads * p * p);
        seq(Attention.forward(r.f("q"), r.f("k"), r.f("v"), out, probs, b, heads, dim, p));
        assertClose("attention probs " + name, r.f("probs"), probs);
        assertClose("attention out " + name, r.f("out"), out);
    }

    @ParameterizedTest
    @ValueSource(strings = {"b1_h1_d3_p15", "b2_h2_d5_p6", "b1_h3_d6_p35", "b2_h1_d7_p9"})
    void backwardMatchesTorchAutograd(String name) {
        Npz r = Npz.resource("attention/" + name);
        long[] d = r.get("dims").ints();
        int b = (int) d[0], heads = (int) d[1], dim = (int) d[2], p = (int) d[3];
        int size = r.f("q").length;
        float[] probs = new float[b * heads * p * p];
        seq(Attention.forward(r.f("q"), r.f("k"), r.f("v"), new float[size], probs, b, heads, dim, p));
        float[] probsBefore = probs.clone();
        float[] gq = Inputs.poisoned(size), gk = Inputs.poisoned(size), gv = Inputs.poisoned(size);
        float[] scratch = Inputs.poisoned(probs.length);
        seq(Attention.backward(r.f("q"), r.f("k"), r.f("v"), probs, r.f("gout"), gq, gk, gv, scratch, b, heads, dim, p));
        assertClose("attention gq " + name, r.f("gq"), gq);
        assertClose("attention gk " + name, r.f("gk"), gk);
        assertClose("attention gv " + name, r.f("gv"), gv);
        assertIdentical("probs after backward", probsBefore, probs);
    }

    @Test
    void scoresNearAThousandDoNotOverflowTheSoftmax() {
        Npz r = Npz.resource("attention/large_logits_b1_h2_d4_p12");
        float[] q = r.f("q"), k = r.f("k");
        // the scores really are around 1e3: exp of them overflows even in double
        float s = 0;
        for (int c = 0; c < 4; c++) {
            s += q[c * 12] * k[c * 12];
        }
        s *= Attention.scale(4);
        assertTrue(s > 900 && s < 1100, "score " + s);
        assertTrue(Double.isInfinite(Math.exp(s)));
        float[] out = Inputs.poisoned(q.length), probs = Inputs.poisoned(2 * 12 * 12);
        seq(Attention.forward(q, k, r.f("v"), out, probs, 1, 2, 4, 12));
        for (int row = 0; row < 24; row++) {
            double sum = 0;
            for (int m = 0; m < 12; m++) {
                assertTrue(Float.isFinite(probs[row * 12 + m]), "probs[" + row + "," + m + "] = " + probs[row * 12 + m]);
                sum += probs[row * 12 + m];
            }
            assertEquals(1.0, sum, 1e-6, "row " + row + " of the probabilities");
        }
        assertClose("large-logit probs", r.f("probs"), probs);
        assertClose("large-logit out", r.f("out"), out);

        float[] gq = Inputs.poisoned(q.length), gk = Inputs.poisoned(q.length), gv = Inputs.poisoned(q.length);
        float[] ds = Inputs.poisoned(probs.length);
        seq(Attention.backward(q, k, r.f("v"), probs, r.f("gout"), gq, gk, gv, ds, 1, 2, 4, 12));
        assertClose("large-logit gk", r.f("gk"), gk);
        assertClose("large-logit gv", r.f("gv"), gv);
        // gq[c,n] = Σ_m k[c,m]·dS[n,m] where every row of dS sums to zero, so the common part of k (about 22)
        // cancels and gq is small next to the terms it sums: no fp32 computation (PyTorch's included) gets
        // 1e-5 relative here. The bound that does hold is the first-order rounding bound of the chain
        // (dP: d products, its row dot: P, dS: 3 more operations, gq: P products), (d + 2P + 3)·ε32 times
        // B = max_{c,n} Σ_m |k[c,m]·dS[n,m]|, measured with the kernel's own dS.
        double bound = 0;
        for (int h = 0; h < 2; h++) {
            for (int c = 0; c < 4; c++) {
                for (int n = 0; n < 12; n++) {
                    double t = 0;
                    for (int m = 0; m < 12; m++) {
                        t += Math.abs((double) k[(h * 4 + c) * 12 + m] * ds[(h * 12 + n) * 12 + m]);
                    }
                    bound = Math.max(bound, t);
                }
            }
        }
        double eps = Math.ulp(1f) / 2;
        assertClose("large-logit gq", r.f("gq"), gq, 0, (4 + 2 * 12 + 3) * eps * bound);
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        int b = 2, heads = 2, dim = 3, p = 5, size = b * heads * dim * p;
        float[] q = Inputs.gaussian(size, 1), k = Inputs.gaussian(size, 2), v = Inputs.gaussian(size, 3);
        float[] gout = Inputs.gaussian(size, 4);
        float[] probs = new float[b * heads * p * p];
        seq(Attention.forward(q, k, v, new float[size], probs, b, heads, dim, p));
        float[] gq = new float[size], gk = new float[size], gv = new float[size];
        seq(Attention.backward(q, k, v, probs, gout, gq, gk, gv, new float[probs.length], b, heads, dim, p));
        FiniteDifference.check("attention gq", x -> attention(x, k, v, b, heads, dim, p), q, gout, gq, 3, 15);
        FiniteDifference.check("attention gk", x -> attention(q, x, v, b, heads, dim, p), k, gout, gk, 3, 15);
        FiniteDifference.check("attention gv", x -> attention(q, k, x, b, heads, dim, p), v, gout, gv, 3, 15);
    }

    private static float[] attention(float[] q, float[] k, float[] v, int b, int heads, int dim, int p) {
        float[] out = new float[q.length];
        seq(Attention.forward(q, k, v, out, new float[b * heads * p * p], b, heads, dim, p));
        return out;
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int b = 2, heads = 3, dim = 5, p = 21, size = b * heads * dim * p, pp = b * heads * p * p;
        float[] q = Inputs.gaussian(size, 5), k = Inputs.gaussian(size, 6), v = Inputs.gaussian(size, 7);
        float[] gout = Inputs.gaussian(size, 8);
        float[][] s = {Inputs.poisoned(size), Inputs.poisoned(pp), Inputs.poisoned(size), Inputs.poisoned(size), Inputs.poisoned(size)};
        float[][] t = {Inputs.poisoned(size), Inputs.poisoned(pp), Inputs.poisoned(size), Inputs.poisoned(size), Inputs.poisoned(size)};
        seq(Attention.forward(q, k, v, s[0], s[1], b, heads, dim, p));
        seq(Attention.backward(q, k, v, s[1], gout, s[2], s[3], s[4], new float[pp], b, heads, dim, p));
        par(Attention.forward(q, k, v, t[0], t[1], b, heads, dim, p));
        par(Attention.backward(q, k, v, t[1], gout, t[2], t[3], t[4], new float[pp], b, heads, dim, p));
        for (int i = 0; i < s.length; i++) {
            assertIdentical("attention output " + i, s[i], t[i]);
        }
    }

    @Test
    void aLongerProbsBufferKeepsItsTailUntouched() {
        int b = 1, heads = 2, dim = 3, p = 4, size = b * heads * dim * p, pp = b * heads * p * p;
        float[] q = Inputs.gaussian(size, 9), k = Inputs.gaussian(size, 10), v = Inputs.gaussian(size, 11);
        float[] exact = new float[pp], longer = new float[pp + 5];
        Arrays.fill(longer, pp, pp + 5, 7f);
        seq(Attention.forward(q, k, v, new float[size], exact, b, heads, dim, p));
        seq(Attention.forward(q, k, v, new float[size], longer, b, heads, dim, p));
        assertIdentical("probs", exact, Arrays.copyOf(longer, pp));
        assertIdentical("tail", new float[] {7f, 7f, 7f, 7f, 7f}, Arrays.copyOfRange(longer, pp, pp + 5));
    }

    @Test
    void badArgumentsAreRejectedByName() {
        int size = 2 * 3 * 15;
        float[] q = new float[size], k = new float[size], v = new float[size], out = new float[size];
        var e = assertThrows(IllegalArgumentException.class,
                () -> Attention.forward(q, k, v, out, new float[2 * 15 * 15 - 1], 1, 2, 3, 15));
        assertEquals("attention.forward: argument 'probs' expected length >= 450, found 449", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Attention.forward(q, k, new float[size - 1], out, new float[450], 1, 2, 3, 15));
        assertEquals("attention.forward: argument 'v' expected length 90, found 89", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Attention.forward(q, k, v, q, new float[450], 1, 2, 3, 15));
        assertEquals("attention.forward: argument 'out' expected an array distinct from 'q' (the kernel reads one while"
                + " writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Attention.forward(q, k, v, out, new float[450], 1, 0, 3, 15));
        assertEquals("attention.forward: argument 'heads' expected > 0, found 0", e.getMessage());
        float[] probs = new float[450];
        e = assertThrows(IllegalArgumentException.class, () -> Attention.backward(q, k, v, probs, out,
                new float[size], new float[size], new float[size], new float[449], 1, 2, 3, 15));
        assertEquals("attention.backward: argument 'dprobs' expected length >= 450, found 449", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Attention.backward(q, k, v, probs, out,
                new float[size], new float[size], new float[size], probs, 1, 2, 3, 15));
        assertEquals("attention.backward: argument 'dprobs' expected an array distinct from 'probs' (the kernel reads"
                + " one while writing the other), found the same array", e.getMessage());
    }
}
