package dev.prism.kernels;

import dev.prism.kernels.Approx.Basis;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.DoubleUnaryOperator;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ApproxTest {
    /** T_0 … T_8 written out as polynomials (T_{p+1} = 2x·T_p − T_{p−1}, expanded by hand). */
    private static final DoubleUnaryOperator[] CHEBYSHEV = {
            x -> 1,
            x -> x,
            x -> 2 * x * x - 1,
            x -> 4 * Math.pow(x, 3) - 3 * x,
            x -> 8 * Math.pow(x, 4) - 8 * x * x + 1,
            x -> 16 * Math.pow(x, 5) - 20 * Math.pow(x, 3) + 5 * x,
            x -> 32 * Math.pow(x, 6) - 48 * Math.pow(x, 4) + 18 * x * x - 1,
            x -> 64 * Math.pow(x, 7) - 112 * Math.pow(x, 5) + 56 * Math.pow(x, 3) - 7 * x,
            x -> 128 * Math.pow(x, 8) - 256 * Math.pow(x, 6) + 160 * Math.pow(x, 4) - 32 * x * x + 1,
    };

    private record Case(Basis basis, int cout, int cin, int n, int k, float x0, float x1, Npz r) {
        static Case of(String name) {
            Npz r = Npz.resource("approx/" + name);
            long[] d = r.get("dims").ints();
            float[] iv = r.f("interval");
            Basis b = r.i("kind") == 0 ? Basis.COSINE : Basis.CHEBYSHEV;
            return new Case(b, (int) d[0], (int) d[1], (int) d[2], (int) d[3], iv[0], iv[1], r);
        }

        float[] table() {
            float[] t = Inputs.poisoned(Approx.tableLength(n, k));
            Backends.seq(Approx.basis(t, basis, n, k, x0, x1));
            return t;
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 17, 64})
    void chebyshevBasisMatchesTheClosedFormsUpToT8(int k) {
        int n = CHEBYSHEV.length;
        float[] t = Inputs.poisoned(Approx.tableLength(n, k));
        Backends.seq(Approx.basis(t, Basis.CHEBYSHEV, n, k));
        for (int p = 0; p < n; p++) {
            for (int u = 0; u < k; u++) {
                double x = -1 + 2.0 * u / (k - 1);
                double expected = CHEBYSHEV[p].applyAsDouble(x);
                // The recurrence in double differs from the expanded polynomial by rounding only (|T_p| <= 1,
                // coefficients up to 256: ~1e-13); the float table is the value rounded once, within 2^-24.
                assertEquals(expected, t[p * k + u], 1e-7, "T_" + p + " at x_" + u + " = " + x);
                assertEquals(t[p * k + u], t[n * k + u * n + p], 0f, "transposed half, p=" + p + ", u=" + u);
            }
        }
        // The closed forms themselves: T_p(cos θ) = cos(pθ), so a wrong written-out polynomial fails here.
        for (int p = 0; p < n; p++) {
            for (double theta = 0; theta < Math.PI; theta += 0.1) {
                assertEquals(Math.cos(p * theta), CHEBYSHEV[p].applyAsDouble(Math.cos(theta)), 1e-12, "T_" + p);
            }
        }
    }

    @Test
    void cosineBasisSamplesTheAuthorsInterval() {
        int n = 4, k = 7;
        float[] t = Approx.basisTable(Basis.COSINE, n, k);
        for (int p = 0; p < n; p++) {
            for (int u = 0; u < k; u++) {
                double x = (float) (0.2 * Math.PI) + ((float) (0.8 * Math.PI) - (double) (float) (0.2 * Math.PI)) * u / (k - 1);
                assertEquals((float) Math.cos(p * x), t[p * k + u], 0f, "cos(" + p + "·x_" + u + ")");
            }
        }
        assertEquals(0.2 * Math.PI, Basis.COSINE.x0(), 1e-7);
        assertEquals(0.8 * Math.PI, Basis.COSINE.x1(), 1e-7);
    }

    @Test
    void oneSamplePointIsTheIntervalsMidpoint() {
        // K = 1 allows only N = 1, and φ_0 ≡ 1 at any point; two functions of the midpoint show where it is.
        float[] t = Inputs.poisoned(2);
        Backends.seq(Approx.basis(t, Basis.CHEBYSHEV, 1, 1, 0.25f, 0.75f));
        assertEquals(1f, t[0], 0f);
        float[] wide = Inputs.poisoned(8);
        Backends.seq(Approx.basis(wide, Basis.CHEBYSHEV, 2, 2, 0.25f, 0.75f));
        assertEquals(0.25f, wide[2], 0f, "x_0 of K = 2 is the left end");
        assertEquals(0.75f, wide[3], 0f, "x_1 of K = 2 is the right end");
        // basisLane is the per-lane helper; with K = 1 it places its point at (x0 + x1)/2 = 0.5: T_1(0.5).
        float[] probe = new float[2 * 2];
        ApproxKernels.basisLane(probe, ApproxKernels.CHEBYSHEV, 2, 1, 0.25f, 0.75f, 0);
        assertEquals(0.5f, probe[1], 0f, "the single point is the midpoint");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "cos_o3_i2_n2_k3", "cos_o2_i5_n4_k7", "cos_o3_i3_n5_k5", "cos_o2_i3_n1_k1", "cos_o2_i2_n3_k6_interval",
            "cheb_o3_i2_n2_k3", "cheb_o2_i5_n4_k7", "cheb_o3_i3_n5_k5", "cheb_o2_i3_n1_k1", "cheb_o1_i2_n9_k9",
            "cheb_o2_i2_n3_k6_interval"})
    void basisAndSynthesisMatchNumPy(String name) {
        Case c = Case.of(name);
        float[] t = c.table();
        float[] b = new float[c.n * c.k];
        System.arraycopy(t, 0, b, 0, b.length);
        assertClose("basis " + name, c.r.f("b"), b);
        float[] w = Inputs.poisoned(c.cout * c.cin * c.k * c.k);
        Backends.seq(Approx.synthesize(c.r.f("a"), t, w, c.cout, c.cin, c.n, c.k));
        assertClose("synthesis " + name, c.r.f("w"), w);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "cos_o3_i2_n2_k3", "cos_o2_i5_n4_k7", "cos_o3_i3_n5_k5", "cos_o2_i3_n1_k1", "cos_o2_i2_n3_k6_interval",
            "cheb_o3_i2_n2_k3", "cheb_o2_i5_n4_k7", "cheb_o3_i3_n5_k5", "cheb_o2_i3_n1_k1", "cheb_o1_i2_n9_k9",
            "cheb_o2_i2_n3_k6_interval"})
    void backwardMatchesPyTorchAutograd(String name) {
        Case c = Case.of(name);
        float[] ga = Inputs.poisoned(c.cout * c.cin * c.n * c.n);
        Backends.seq(Approx.synthesizeBackward(c.r.f("gw"), c.table(), ga, c.cout, c.cin, c.n, c.k));
        assertClose("synthesis backward " + name, c.r.f("ga"), ga);
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        for (Basis basis : Basis.values()) {
            for (int[] s : new int[][] {{2, 3, 2, 3}, {1, 2, 4, 4}, {2, 1, 3, 7}}) {
                int cout = s[0], cin = s[1], n = s[2], k = s[3];
                float[] t = Approx.basisTable(basis, n, k);
                // The map is linear, so the finite difference is exact but for the fp32 rounding of w: each of
                // the k² outputs of the perturbed pair carries ~2^-24·N²·max|a| of rounding, which the central
                // difference divides by 2h = 2e-2. With N(0,1) coefficients (|w| up to ~5) that noise reaches
                // ~6e-5, above the checker's 1e-3 relative allowance for coordinates whose gradient cancels
                // to ~1e-2. Coefficients of scale 1/32 cut the noise 32-fold, below 2e-6, while a wrong term
                // (an error of the size of the gradient entries, ~1) still fails by orders of magnitude.
                float[] a = scaled(Inputs.gaussian(cout * cin * n * n, 5), 1f / 32);
                float[] gw = Inputs.gaussian(cout * cin * k * k, 6);
                float[] ga = new float[a.length];
                Backends.seq(Approx.synthesizeBackward(gw, t, ga, cout, cin, n, k));
                FiniteDifference.check("synthesize " + basis + " n=" + n + " k=" + k, in -> {
                    float[] w = new float[gw.length];
                    Backends.seq(Approx.synthesize(in, t, w, cout, cin, n, k));
                    return w;
                }, a, gw, ga, 3, a.length);
            }
        }
    }

    private static float[] scaled(float[] a, float s) {
        for (int i = 0; i < a.length; i++) {
            a[i] *= s;
        }
        return a;
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int cout = 7, cin = 5, n = 4, k = 7;
        float[] t = Approx.basisTable(Basis.COSINE, n, k);
        float[] tp = Inputs.poisoned(t.length);
        Backends.par(Approx.basis(tp, Basis.COSINE, n, k));
        assertIdentical("basis", t, tp);
        float[] a = Inputs.gaussian(cout * cin * n * n, 8);
        float[] w1 = Inputs.poisoned(cout * cin * k * k), w2 = Inputs.poisoned(w1.length);
        Backends.seq(Approx.synthesize(a, t, w1, cout, cin, n, k));
        Backends.par(Approx.synthesize(a, t, w2, cout, cin, n, k));
        assertIdentical("synthesize", w1, w2);
        float[] g1 = Inputs.poisoned(a.length), g2 = Inputs.poisoned(a.length);
        Backends.seq(Approx.synthesizeBackward(w1, t, g1, cout, cin, n, k));
        Backends.par(Approx.synthesizeBackward(w1, t, g2, cout, cin, n, k));
        assertIdentical("synthesizeBackward", g1, g2);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Approx.synthesize(new float[2 * 3 * 16], new float[24], new float[2 * 3 * 9], 2, 3, 4, 3));
        assertEquals("approx.synthesize: argument 'n' expected <= k = 3, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Approx.basisTable(Basis.COSINE, 5, 3));
        assertEquals("approx.basis: argument 'n' expected <= k = 3, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Approx.synthesize(new float[2 * 3 * 4], new float[11], new float[2 * 3 * 9], 2, 3, 2, 3));
        assertEquals("approx.synthesize: argument 'table' expected length 12, found 11", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Approx.synthesize(new float[2 * 3 * 4], new float[12], new float[2 * 3 * 8], 2, 3, 2, 3));
        assertEquals("approx.synthesize: argument 'w' expected length 54, found 48", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Approx.synthesizeBackward(new float[2 * 3 * 9], new float[12], new float[5], 2, 3, 2, 3));
        assertEquals("approx.synthesizeBackward: argument 'ga' expected length 24, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Approx.basis(new float[12], Basis.CHEBYSHEV, 2, 3, 1f, 1f));
        assertEquals("approx.basis: argument 'x1' expected > x0 = 1.0, found 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Approx.basis(new float[12], Basis.COSINE, 0, 3));
        assertEquals("approx.basis: argument 'n' expected > 0, found 0", e.getMessage());
    }
}
