package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AttentionVector}, the hand-vectorised softmax, with {@link GemmVector} for the products, against
 * the plain loops on every attention shape {@link AttentionTest} uses, the models' (1024 positions, 1 and
 * 4 heads), column counts with a tail, and scores large enough to push the exponent below its clamp: the
 * variants (run by {@code JvmBackend.parallel(3)}) within the shared tolerance of {@link Backends#SEQ}, and
 * the same bits on every thread count.
 */
class AttentionVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final List<JvmBackend> TEAMS = List.of(JvmBackend.parallel(1), JvmBackend.parallel(2),
            JvmBackend.parallel(3), JvmBackend.parallel(7));

    @AfterAll
    static void close() {
        TEAMS.forEach(JvmBackend::close);
    }

    /** {@code batch, heads, dim, positions}, and a factor on the inputs (large factors: large logits). */
    private record Shape(int b, int heads, int dim, int p, float gain) {
        int size() {
            return b * heads * dim * p;
        }

        int pp() {
            return b * heads * p * p;
        }
    }

    private static List<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        for (String name : new String[] {"b1_h1_d3_p15", "b2_h2_d5_p6", "b1_h3_d6_p35", "b2_h1_d7_p9", "large_logits_b1_h2_d4_p12"}) {
            long[] d = Npz.resource("attention/" + name).get("dims").ints();
            s.add(new Shape((int) d[0], (int) d[1], (int) d[2], (int) d[3], 1f));
        }
        s.add(new Shape(1, 2, 4, 12, 30f));
        s.add(new Shape(2, 2, 3, 5, 1f));
        s.add(new Shape(2, 3, 5, 21, 1f));
        s.add(new Shape(1, 2, 3, 4, 1f));
        s.add(new Shape(1, 1, 64, 1024, 1f));
        s.add(new Shape(1, 4, 16, 1024, 1f));
        s.add(new Shape(2, 1, 8, 70, 12f));
        return s;
    }

    /** Forward then backward: out, probs, gq, gk, gv, and the backward's dS scratch, and k. */
    private static float[][] run(JvmBackend backend, Shape s, long stream) {
        float[] q = scaled(Inputs.gaussian(s.size(), stream), s.gain()), k = scaled(Inputs.gaussian(s.size(), stream + 1), s.gain());
        float[] v = Inputs.gaussian(s.size(), stream + 2), gout = Inputs.gaussian(s.size(), stream + 3);
        float[][] o = {Inputs.poisoned(s.size()), Inputs.poisoned(s.pp()), Inputs.poisoned(s.size()), Inputs.poisoned(s.size()),
                Inputs.poisoned(s.size()), new float[s.pp()], k};
        for (Launch l : Attention.forward(q, k, v, o[0], o[1], s.b(), s.heads(), s.dim(), s.p())) {
            backend.run(l);
        }
        for (Launch l : Attention.backward(q, k, v, o[1], gout, o[2], o[3], o[4], o[5], s.b(), s.heads(), s.dim(), s.p())) {
            backend.run(l);
        }
        return o;
    }

    /** {@code max_{bh,c,n} Σ_m |k[bh,c,m]·dS[bh,n,m]|}. */
    private static double cancellation(Shape s, float[] k, float[] ds) {
        double bound = 0;
        int p = s.p();
        for (int bh = 0; bh < s.b() * s.heads(); bh++) {
            for (int c = 0; c < s.dim(); c++) {
                for (int n = 0; n < p; n++) {
                    double t = 0;
                    for (int m = 0; m < p; m++) {
                        t += Math.abs((double) k[(bh * s.dim() + c) * p + m] * ds[(bh * p + n) * p + m]);
                    }
                    bound = Math.max(bound, t);
                }
            }
        }
        return bound;
    }

    private static float[] scaled(float[] a, float gain) {
        for (int i = 0; i < a.length; i++) {
            a[i] *= gain;
        }
        return a;
    }

    @Test
    void theSoftmaxLaunchCarriesTheVariant() {
        List<Launch> ls = Attention.forward(new float[12], new float[12], new float[12], new float[12], new float[16], 1, 1, 3, 4);
        assertEquals("attention.softmax", ls.get(1).kernel());
        assertNotNull(ls.get(1).vector());
    }

    @Test
    void variantsAgreeWithTheLoopsOnEveryShape() {
        String[] names = {"out", "probs", "gq", "gk", "gv"};
        long stream = 100;
        for (Shape s : shapes()) {
            float[][] ref = run(Backends.SEQ, s, stream);
            float[][] vec = run(Backends.PAR, s, stream);
            for (int i = 0; i < names.length; i++) {
                if (i == 2 && s.gain() > 1) {
                    // large logits: gq = Σ_m k·dS with rows of dS summing to zero cancels, and no fp32 order gets
                    // 1e-5 relative (AttentionTest says the same against PyTorch); both sides are within the
                    // first-order rounding bound of the chain, (d + 2P + 3)·ε32·max Σ_m |k·dS|, of the exact
                    // value, 4 more ε for the exponential's extra ulps, so within twice that of each other
                    double bound = 2 * (s.dim() + 2 * s.p() + 7) * (Math.ulp(1f) / 2) * cancellation(s, ref[6], ref[5]);
                    assertClose("attention vector gq " + s, ref[i], vec[i], 0, bound);
                } else {
                    assertClose("attention vector " + names[i] + " " + s, ref[i], vec[i]);
                }
            }
            stream += 4;
        }
    }

    @Test
    void variantsGiveTheSameBitsOnEveryThreadCount() {
        long stream = 500;
        for (Shape s : shapes()) {
            float[][] first = run(TEAMS.getFirst(), s, stream);
            for (JvmBackend team : TEAMS.subList(1, TEAMS.size())) {
                float[][] other = run(team, s, stream);
                for (int i = 0; i < first.length; i++) {
                    assertIdentical("attention vector output " + i + " " + s + " on " + team.threads() + " threads", first[i], other[i]);
                }
            }
            stream += 4;
        }
    }
}
