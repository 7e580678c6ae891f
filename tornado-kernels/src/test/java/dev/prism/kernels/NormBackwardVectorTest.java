package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link NormBackwardVector}, the Vector API variants of the group-norm backward that the parallel JVM
 * backend runs, against the plain loops of {@link NormKernels} that the sequential backend runs, on every
 * shape of {@link NormTest} and {@link NormVectorTest}: the partial sums and the input gradient within the
 * shared tolerance, the input gradient without SiLU bit-identical given the same partial sums, and the
 * same bits on every thread count.
 */
class NormBackwardVectorTest {
    private static final JvmBackend SEVEN = JvmBackend.parallel(7);
    private static final JvmBackend ONE = JvmBackend.parallel(1);

    @AfterAll
    static void close() {
        SEVEN.close();
        ONE.close();
    }

    @ParameterizedTest
    @MethodSource("dev.prism.kernels.NormVectorTest#referenceCases")
    void matchesThePlainLoopOnEveryTestShape(String name) {
        Npz r = Npz.resource("norm/" + name);
        long[] d = r.get("dims").ints();
        long[] flags = r.get("flags").ints();
        boolean affine = flags[0] != 0;
        compare(name, r.f("x"), r.f("gy"), affine ? r.f("gamma") : null, affine ? r.f("beta") : null,
                (int) d[0], (int) d[1], (int) d[2], (int) d[3], (int) d[4]);
    }

    @ParameterizedTest
    @MethodSource("dev.prism.kernels.NormVectorTest#shapes")
    void matchesThePlainLoopOnLargerShapes(int[] s) {
        int n = s[0], c = s[1], h = s[2], w = s[3], g = s[4];
        float[] x = Inputs.gaussian(n * c * h * w, 91);
        for (int i = 0; i < x.length; i++) {
            x[i] += s[5];
        }
        float[] gy = Inputs.gaussian(x.length, 92);
        String what = n + "x" + c + "x" + h + "x" + w + " G" + g;
        compare(what, x, gy, Inputs.gaussian(c, 93), Inputs.gaussian(c, 94), n, c, h, w, g);
        compare(what + " without affine", x, gy, null, null, n, c, h, w, g);
    }

    @ParameterizedTest
    @MethodSource("dev.prism.kernels.NormVectorTest#shapes")
    void siluGradientHandlesTheExtremes(int[] s) {
        // v far beyond exp's float range on both sides, through γ = 1, β = 0 and statistics that leave x unchanged
        int n = s[0], c = s[1], h = s[2], w = s[3], g = s[4];
        float[] x = Inputs.gaussian(n * c * h * w, 95);
        float[] special = {-1e30f, -200f, -89f, -88f, -20f, 20f, 88f, 89f, 200f, 1e30f, 0f, -0f};
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 3 == 0 ? special[(i / 3) % special.length] : x[i] * 30;
        }
        float[] gy = Inputs.gaussian(x.length, 96);
        float[] stats = new float[2 * n * g];
        for (int q = 0; q < n * g; q++) {
            stats[2 * q + 1] = 1f;
        }
        float[] plain = Inputs.poisoned(2 * n * c), vector = Inputs.poisoned(2 * n * c);
        Backends.seq(Norm.groupBackwardPartials(x, gy, stats, null, null, plain, n, c, h, w, g, true));
        Backends.par(Norm.groupBackwardPartials(x, gy, stats, null, null, vector, n, c, h, w, g, true));
        assertClose("partials through silu of extremes", plain, vector);
        float[] gxPlain = Inputs.poisoned(x.length), gxVector = Inputs.poisoned(x.length);
        Backends.seq(Norm.groupBackwardInput(x, gy, stats, null, null, plain, gxPlain, n, c, h, w, g, true));
        Backends.par(Norm.groupBackwardInput(x, gy, stats, null, null, plain, gxVector, n, c, h, w, g, true));
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(gxPlain[i]) || Float.isInfinite(gxPlain[i])) {
                // any NaN for a NaN, the same infinity for an infinity
                assertEquals(gxPlain[i], gxVector[i], "element " + i + " of gx at x = " + x[i]);
                gxPlain[i] = 0;
                gxVector[i] = 0;
            }
        }
        assertClose("gx through silu of extremes", gxPlain, gxVector);
    }

    private static void compare(String what, float[] x, float[] gy, float[] gamma, float[] beta, int n, int c, int h, int w,
                                int g) {
        int size = x.length;
        float[] stats = new float[2 * n * g];
        Backends.seq(Norm.groupStats(x, stats, n, c, h, w, g, 1e-5f));
        for (boolean silu : new boolean[] {false, true}) {
            String tag = what + (silu ? " silu" : "");
            float[] plain = Inputs.poisoned(2 * n * c), vector = Inputs.poisoned(2 * n * c);
            Launch partials = Norm.groupBackwardPartials(x, gy, stats, gamma, beta, vector, n, c, h, w, g, silu);
            assertNotNull(partials.vector(), "norm.groupBackwardPartials carries a vector variant");
            Backends.seq(Norm.groupBackwardPartials(x, gy, stats, gamma, beta, plain, n, c, h, w, g, silu));
            Backends.par(partials);
            assertClose(tag + " partials", plain, vector);
            float[] seven = Inputs.poisoned(2 * n * c);
            SEVEN.run(Norm.groupBackwardPartials(x, gy, stats, gamma, beta, seven, n, c, h, w, g, silu));
            assertIdentical(tag + " partials on 7 threads", vector, seven);

            // the input gradient from the plain partials, so that only this kernel differs
            float[] gxPlain = Inputs.poisoned(size), gxVector = Inputs.poisoned(size);
            Launch input = Norm.groupBackwardInput(x, gy, stats, gamma, beta, plain, gxVector, n, c, h, w, g, silu);
            assertNotNull(input.vector(), "norm.groupBackwardInput carries a vector variant");
            Backends.seq(Norm.groupBackwardInput(x, gy, stats, gamma, beta, plain, gxPlain, n, c, h, w, g, silu));
            Backends.par(input);
            if (silu) {
                // g' differs from the loop's by a few float ulps (float exp against double), so gx = a·g' + k2·d + k3
                // may differ by about 1e-6·|a·g'| where its three terms cancel (one pixel per group member: gx ≈ 0);
                // |silu'| <= 1.1, so 1e-5·max|γ_c·r·gy| bounds that
                double terms = 0;
                for (int i = 0; i < size; i++) {
                    int p = i / (h * w);
                    float gam = gamma == null ? 1f : gamma[p % c];
                    terms = Math.max(terms, Math.abs((double) gam * stats[2 * (p / (c / g)) + 1] * gy[i]));
                }
                assertClose(tag + " gx", gxPlain, gxVector, 1e-5, Math.max(Arrays32.atolFor(gxPlain), 1e-5 * terms));
            } else {
                assertIdentical(tag + " gx", gxPlain, gxVector);
            }
            for (JvmBackend team : new JvmBackend[] {ONE, SEVEN}) {
                float[] other = Inputs.poisoned(size);
                team.run(Norm.groupBackwardInput(x, gy, stats, gamma, beta, plain, other, n, c, h, w, g, silu));
                assertIdentical(tag + " gx on " + team.threads() + " threads", gxVector, other);
            }

            // the one launch that runs both per group of a batch item: the two launches' bits, on the loops and on the variant
            // (whose input gradient then reads the variant's partial sums), on every thread count
            float[] fusedPartials = Inputs.poisoned(2 * n * c), fusedGx = Inputs.poisoned(size);
            Backends.seq(Norm.groupBackward(x, gy, stats, gamma, beta, fusedPartials, fusedGx, n, c, h, w, g, silu));
            assertIdentical(tag + " partials of the one launch, loops", plain, fusedPartials);
            assertIdentical(tag + " gx of the one launch, loops", gxPlain, fusedGx);
            float[] gxOfVector = Inputs.poisoned(size);
            Backends.par(Norm.groupBackwardInput(x, gy, stats, gamma, beta, vector, gxOfVector, n, c, h, w, g, silu));
            for (JvmBackend team : new JvmBackend[] {Backends.PAR, ONE, SEVEN}) {
                Launch fused = Norm.groupBackward(x, gy, stats, gamma, beta, fusedPartials, fusedGx, n, c, h, w, g, silu);
                assertNotNull(fused.vector(), "norm.groupBackward carries a vector variant");
                java.util.Arrays.fill(fusedPartials, Float.NaN);
                java.util.Arrays.fill(fusedGx, Float.NaN);
                team.run(fused);
                assertIdentical(tag + " partials of the one launch on " + team.threads() + " threads", vector, fusedPartials);
                assertIdentical(tag + " gx of the one launch on " + team.threads() + " threads", gxOfVector, fusedGx);
            }

            // with a gradient that already reached x added in the launch: the bits of the launch without it and an
            // elementwise.add after it, on the loops and on the variant at every thread count
            float[] addend = Inputs.gaussian(size, 95);
            float[] expectPlain = Inputs.poisoned(size), expectVector = Inputs.poisoned(size);
            Backends.seq(Elementwise.add(addend, gxPlain, expectPlain, size));
            Backends.seq(Elementwise.add(addend, gxOfVector, expectVector, size));
            float[] added = Inputs.poisoned(size);
            Backends.seq(Norm.groupBackward(x, gy, stats, gamma, beta, fusedPartials, added, addend, n, c, h, w, g, silu));
            assertIdentical(tag + " gx with the addend, loops", expectPlain, added);
            for (JvmBackend team : new JvmBackend[] {Backends.PAR, ONE, SEVEN}) {
                java.util.Arrays.fill(added, Float.NaN);
                team.run(Norm.groupBackward(x, gy, stats, gamma, beta, fusedPartials, added, addend, n, c, h, w, g, silu));
                assertIdentical(tag + " gx with the addend on " + team.threads() + " threads", expectVector, added);
            }
        }
    }
}
