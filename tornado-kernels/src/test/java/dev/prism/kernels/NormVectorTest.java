package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link NormVector}, the Vector API variant that the parallel JVM backend runs, against the plain loops
 * of {@link NormKernels} that the sequential backend runs, on every shape of {@link NormTest} and on
 * larger ones (spans with and without a scalar tail, groups of one and of all channels, a large mean):
 * the statistics and the SiLU output within the shared tolerance, the output without SiLU bit-identical
 * given the same statistics.
 */
class NormVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    static Stream<String> referenceCases() {
        return Stream.of("n2_c6_5x7_g3_affine", "n2_c6_5x7_g3_affine_silu", "n1_c5_3x9_g1", "n1_c5_3x9_g1_affine_silu",
                "n3_c5_4x3_g5_affine_silu", "n3_c5_4x3_g5", "n2_c12_6x5_g4_silu", "n2_c6_4x4_g2_affine_offset");
    }

    /** n, c, h, w, groups, offset of the mean. */
    static Stream<int[]> shapes() {
        return Stream.of(new int[] {1, 64, 64, 64, 32, 0}, new int[] {2, 32, 16, 16, 8, 0}, new int[] {1, 64, 9, 7, 32, 0},
                new int[] {2, 10, 12, 14, 5, 0}, new int[] {1, 6, 5, 33, 1, 0}, new int[] {1, 6, 3, 17, 6, 0},
                new int[] {2, 8, 8, 8, 4, 1000}, new int[] {1, 4, 1, 1, 2, 0}, new int[] {1, 3, 20, 24, 3, -30},
                new int[] {1, 4, 3, 11, 2, 0}, new int[] {1, 2, 1, 47, 1, 0}, new int[] {2, 4, 4, 16, 2, 0});
    }

    @ParameterizedTest
    @MethodSource("referenceCases")
    void matchesThePlainLoopOnEveryTestShape(String name) {
        Npz r = Npz.resource("norm/" + name);
        long[] d = r.get("dims").ints();
        long[] flags = r.get("flags").ints();
        boolean affine = flags[0] != 0;
        compare(name, r.f("x"), affine ? r.f("gamma") : null, affine ? r.f("beta") : null,
                (int) d[0], (int) d[1], (int) d[2], (int) d[3], (int) d[4], r.scalar("eps"));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void matchesThePlainLoopOnLargerShapes(int[] s) {
        int n = s[0], c = s[1], h = s[2], w = s[3], g = s[4];
        float[] x = Inputs.gaussian(n * c * h * w, 81);
        for (int i = 0; i < x.length; i++) {
            x[i] += s[5];
        }
        compare(n + "x" + c + "x" + h + "x" + w + " G" + g, x, Inputs.gaussian(c, 82), Inputs.gaussian(c, 83),
                n, c, h, w, g, 1e-5f);
        compare(n + "x" + c + "x" + h + "x" + w + " G" + g + " without affine", x, null, null, n, c, h, w, g, 1e-5f);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void siluHandlesTheExtremes(int[] s) {
        // Values far beyond exp's float range on both sides, infinities and NaN, through γ = 1, β = 0
        // and statistics that leave x unchanged.
        int n = s[0], c = s[1], h = s[2], w = s[3], g = s[4];
        float[] x = Inputs.gaussian(n * c * h * w, 84);
        float[] special = {-1e30f, -200f, -89f, -88f, -20f, 20f, 88f, 89f, 200f, 1e30f,
                Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f};
        for (int i = 0; i < x.length; i++) {
            x[i] = i % 3 == 0 ? special[(i / 3) % special.length] : x[i] * 30;
        }
        float[] stats = new float[2 * n * g];
        for (int q = 0; q < n * g; q++) {
            stats[2 * q + 1] = 1f;
        }
        float[] plain = Inputs.poisoned(x.length), vector = Inputs.poisoned(x.length);
        Backends.seq(Norm.groupApply(x, stats, null, null, plain, n, c, h, w, g, true));
        Backends.par(Norm.groupApply(x, stats, null, null, vector, n, c, h, w, g, true));
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(plain[i]) || Float.isInfinite(plain[i])) {
                // any NaN for a NaN (its sign bit may differ), the same infinity for an infinity
                assertEquals(plain[i], vector[i], "element " + i + " of silu(" + x[i] + ")");
                plain[i] = 0;
                vector[i] = 0;
            }
        }
        assertClose("silu of extremes", plain, vector);
    }

    private static void compare(String what, float[] x, float[] gamma, float[] beta, int n, int c, int h, int w, int g,
                                float eps) {
        int size = x.length;
        float[] statsPlain = Inputs.poisoned(2 * n * g), statsVector = Inputs.poisoned(2 * n * g);
        Launch stats = Norm.groupStats(x, statsVector, n, c, h, w, g, eps);
        assertNotNull(stats.vector(), "norm.groupStats carries a vector variant");
        Backends.seq(Norm.groupStats(x, statsPlain, n, c, h, w, g, eps));
        Backends.par(stats);
        assertClose(what + " stats", statsPlain, statsVector, 1e-6, 0);
        for (boolean silu : new boolean[] {false, true}) {
            float[] plain = Inputs.poisoned(size), vector = Inputs.poisoned(size);
            Launch apply = Norm.groupApply(x, statsPlain, gamma, beta, vector, n, c, h, w, g, silu);
            assertNotNull(apply.vector(), "norm.groupApply carries a vector variant");
            Backends.seq(Norm.groupApply(x, statsPlain, gamma, beta, plain, n, c, h, w, g, silu));
            Backends.par(apply);
            if (silu) {
                assertClose(what + " silu", plain, vector);
            } else {
                assertIdentical(what + " without silu", plain, vector);
            }
            // the same bits on another thread count (spans end elsewhere)
            float[] seven = Inputs.poisoned(size);
            SEVEN.run(Norm.groupApply(x, statsPlain, gamma, beta, seven, n, c, h, w, g, silu));
            assertIdentical(what + " silu " + silu + " on 7 threads", vector, seven);
            // and through the variant's own statistics
            Backends.par(Norm.groupApply(x, statsVector, gamma, beta, vector, n, c, h, w, g, silu));
            assertClose(what + " silu " + silu + " with the variant's statistics", plain, vector);
        }
    }
}
