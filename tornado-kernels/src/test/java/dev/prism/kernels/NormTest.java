package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
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

class NormTest {
    private static final JvmBackend PLAIN_PAR = JvmBackend.parallel(3, false);

    @ParameterizedTest
    @ValueSource(strings = {
            "n2_c6_5x7_g3_affine", "n2_c6_5x7_g3_affine_silu", "n1_c5_3x9_g1", "n1_c5_3x9_g1_affine_silu",
            "n3_c5_4x3_g5_affine_silu", "n3_c5_4x3_g5", "n2_c12_6x5_g4_silu", "n2_c6_4x4_g2_affine_offset"})
    void groupNormAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("norm/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], g = (int) d[4];
        long[] flags = r.get("flags").ints();
        boolean affine = flags[0] != 0, silu = flags[1] != 0;
        float[] x = r.f("x"), gy = r.f("gy");
        float[] gamma = affine ? r.f("gamma") : null, beta = affine ? r.f("beta") : null;
        int size = x.length;

        float[] stats = Inputs.poisoned(2 * n * g), y = Inputs.poisoned(size);
        run(Norm.groupNorm(x, gamma, beta, stats, y, n, c, h, w, g, r.scalar("eps"), silu));
        assertClose(name + " stats", r.f("stats"), stats);
        assertClose(name + " forward", r.f("y"), y);

        float[] partials = Inputs.poisoned(2 * n * c), gx = Inputs.poisoned(size);
        float[] gGamma = affine ? Inputs.poisoned(c) : null, gBeta = affine ? Inputs.poisoned(c) : null;
        List<Launch> back = Norm.groupNormBackward(x, gy, stats, gamma, beta, partials, gx, gGamma, gBeta,
                n, c, h, w, g, silu);
        assertEquals(affine ? 2 : 1, back.size(), name + ": launches of the backward");
        run(back);
        assertClose(name + " gx", r.f("gx"), gx);
        if (affine) {
            assertClose(name + " gamma gradient", r.f("ggamma"), gGamma);
            assertClose(name + " beta gradient", r.f("gbeta"), gBeta);
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void backwardAgreesWithFiniteDifferences(boolean silu) {
        int n = 2, c = 6, h = 3, w = 5, g = 2, size = n * c * h * w;
        float eps = 1e-5f;
        float[] x = Inputs.gaussian(size, 51), gy = Inputs.gaussian(size, 52);
        float[] gamma = Inputs.uniform(c, 0.5f, 1.5f, 53), beta = Inputs.gaussian(c, 54);
        float[] stats = new float[2 * n * g], y = new float[size];
        run(Norm.groupNorm(x, gamma, beta, stats, y, n, c, h, w, g, eps, silu));
        float[] partials = new float[2 * n * c], gx = new float[size], gGamma = new float[c], gBeta = new float[c];
        run(Norm.groupNormBackward(x, gy, stats, gamma, beta, partials, gx, gGamma, gBeta, n, c, h, w, g, silu));

        String tag = silu ? "group norm + silu" : "group norm";
        FiniteDifference.check(tag + " wrt x", in -> forward(in, gamma, beta, n, c, h, w, g, eps, silu), x, gy, gx, 3, 24);
        FiniteDifference.check(tag + " wrt gamma", in -> forward(x, in, beta, n, c, h, w, g, eps, silu), gamma, gy, gGamma, 2, c);
        FiniteDifference.check(tag + " wrt beta", in -> forward(x, gamma, in, n, c, h, w, g, eps, silu), beta, gy, gBeta, 2, c);

        // without affine parameters: G = 1 and G = C
        for (int groups : new int[] {1, c}) {
            float[] st = new float[2 * n * groups];
            run(Norm.groupNorm(x, null, null, st, y, n, c, h, w, groups, eps, silu));
            run(Norm.groupNormBackward(x, gy, st, null, null, partials, gx, null, null, n, c, h, w, groups, silu));
            FiniteDifference.check(tag + " G=" + groups + " without affine",
                    in -> forward(in, null, null, n, c, h, w, groups, eps, silu), x, gy, gx, 3, 24);
        }
    }

    @Test
    void withoutAffineIsExactlyUnitGammaAndZeroBeta() {
        int n = 2, c = 9, h = 4, w = 7, g = 3, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 61), gy = Inputs.gaussian(size, 62);
        float[] ones = new float[c];
        java.util.Arrays.fill(ones, 1f);
        for (boolean silu : new boolean[] {false, true}) {
            float[] s1 = new float[2 * n * g], s2 = new float[2 * n * g];
            float[] y1 = Inputs.poisoned(size), y2 = Inputs.poisoned(size);
            run(Norm.groupNorm(x, null, null, s1, y1, n, c, h, w, g, 1e-5f, silu));
            run(Norm.groupNorm(x, ones, new float[c], s2, y2, n, c, h, w, g, 1e-5f, silu));
            assertIdentical("forward, silu " + silu, y2, y1);
            float[] gx1 = Inputs.poisoned(size), gx2 = Inputs.poisoned(size);
            run(Norm.groupNormBackward(x, gy, s1, null, null, new float[2 * n * c], gx1, null, null, n, c, h, w, g, silu));
            run(Norm.groupNormBackward(x, gy, s2, ones, new float[c], new float[2 * n * c], gx2, new float[c], new float[c],
                    n, c, h, w, g, silu));
            assertIdentical("backward, silu " + silu, gx2, gx1);
        }
    }

    /** The plain loops' lanes on the parallel backend; {@link NormVectorTest} compares the vector variant. */
    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 3, c = 10, h = 12, w = 14, g = 5, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 71), gy = Inputs.gaussian(size, 72);
        float[] gamma = Inputs.gaussian(c, 73), beta = Inputs.gaussian(c, 74);
        float[][] seq = forwardAndBackward(true, x, gy, gamma, beta, n, c, h, w, g);
        float[][] par = forwardAndBackward(false, x, gy, gamma, beta, n, c, h, w, g);
        String[] what = {"stats", "y", "partials", "gx", "gGamma", "gBeta"};
        for (int i = 0; i < what.length; i++) {
            assertIdentical(what[i], seq[i], par[i]);
        }
    }

    @Test
    void badArgumentsAreRejectedByName() {
        int n = 2, c = 6, h = 3, w = 5, size = n * c * h * w;
        float[] x = new float[size], y = new float[size], gamma = new float[c], beta = new float[c];
        var e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupNorm(x, gamma, beta, new float[16], y, n, c, h, w, 4, 1e-5f, false));
        assertEquals("norm.groupStats: argument 'groups' expected a divisor of c = 6, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupNorm(x, gamma, beta, new float[12], y, n, c, h, w, 3, 0f, false));
        assertEquals("norm.groupStats: argument 'eps' expected a finite number > 0, found 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupStats(x, new float[12], n, c, h, w, 3, -1e-5f));
        assertEquals("norm.groupStats: argument 'eps' expected a finite number > 0, found -1.0E-5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupStats(x, new float[6], n, c, h, w, 3, 1e-5f));
        assertEquals("norm.groupStats: argument 'stats' expected length 12, found 6", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupApply(x, new float[12], gamma, null, y, n, c, h, w, 3, true));
        assertEquals("norm.groupApply: argument 'beta' expected an array when 'gamma' is given, found null", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupApply(x, new float[12], new float[5], beta, y, n, c, h, w, 3, true));
        assertEquals("norm.groupApply: argument 'gamma' expected length 6, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupApply(x, new float[12], gamma, beta, x, n, c, h, w, 3, false));
        assertEquals("norm.groupApply: argument 'y' expected an array distinct from 'x' (the kernel reads one while"
                + " writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupNormBackward(x, y, new float[12], null, null, new float[24], new float[size],
                        new float[c], null, n, c, h, w, 3, false));
        assertEquals("norm.groupNormBackward: argument 'gGamma' expected null when 'gamma' is null, found an array",
                e.getMessage());
        float[] gx = new float[size];
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupBackward(x, y, new float[12], gamma, beta, new float[24], gx, new float[size - 1], n, c, h, w, 3,
                        false));
        assertEquals("norm.groupBackward: argument 'addend' expected length " + size + ", found " + (size - 1), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupBackward(x, y, new float[12], gamma, beta, new float[24], gx, gx, n, c, h, w, 3, false));
        assertEquals("norm.groupBackward: argument 'gx' expected an array distinct from 'addend' (the kernel reads one while"
                + " writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupBackwardPartials(x, y, new float[12], gamma, beta, new float[12], n, c, h, w, 3, false));
        assertEquals("norm.groupBackwardPartials: argument 'partials' expected length 24, found 12", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Norm.groupStats(x, new float[0], n, c, h, w, 0, 1e-5f));
        assertEquals("norm.groupStats: argument 'groups' expected > 0, found 0", e.getMessage());
    }

    private static float[][] forwardAndBackward(boolean sequential, float[] x, float[] gy, float[] gamma, float[] beta,
                                                int n, int c, int h, int w, int g) {
        int size = x.length;
        float[] stats = Inputs.poisoned(2 * n * g), y = Inputs.poisoned(size), partials = Inputs.poisoned(2 * n * c);
        float[] gx = Inputs.poisoned(size), gGamma = Inputs.poisoned(c), gBeta = Inputs.poisoned(c);
        List<Launch> all = new java.util.ArrayList<>(Norm.groupNorm(x, gamma, beta, stats, y, n, c, h, w, g, 1e-5f, true));
        all.addAll(Norm.groupNormBackward(x, gy, stats, gamma, beta, partials, gx, gGamma, gBeta, n, c, h, w, g, true));
        for (Launch l : all) {
            if (sequential) {
                Backends.seq(l);
            } else {
                PLAIN_PAR.run(l);
            }
        }
        return new float[][] {stats, y, partials, gx, gGamma, gBeta};
    }

    private static float[] forward(float[] x, float[] gamma, float[] beta, int n, int c, int h, int w, int g,
                                   float eps, boolean silu) {
        float[] y = new float[x.length];
        run(Norm.groupNorm(x, gamma, beta, new float[2 * n * g], y, n, c, h, w, g, eps, silu));
        return y;
    }

    private static void run(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }
}
