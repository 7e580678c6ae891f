package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.prism.testing.Arrays32;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ActivationVector}, the Vector API variants that the parallel JVM backend runs, against the plain
 * loops of {@link ActivationKernels} that the sequential backend runs: on every input of
 * {@link ActivationTest}, on lengths around the vector width, on values beyond exp's float range,
 * infinities and NaN, and across thread counts (the same bits).
 */
class ActivationVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    interface Unary {
        Launch make(float[] x, float[] y, int len);
    }

    interface Binary {
        Launch make(float[] x, float[] gy, float[] gx, int len);
    }

    @ParameterizedTest
    @ValueSource(strings = {"silu", "gelu", "sigmoid"})  // the inputs of those ActivationTest cases
    void elementwiseMatchesThePlainLoopOnTheTestInputs(String name) {
        Npz r = Npz.resource("activation/" + name);
        check(name, r.f("x"));
        check(name, r.f("gy"));
    }

    @ParameterizedTest
    // 49157: spans of 16386 on 3 threads take SiLU's vector loop, spans of 7022 on 7 threads its scalar form
    @ValueSource(ints = {1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 47, 63, 65, 100, 129, 1000, 4099, 49157})
    void elementwiseMatchesThePlainLoopOnEveryLength(int len) {
        check("gaussian x3", scaled(Inputs.gaussian(len, 91), 3));
        float[] x = Inputs.gaussian(len, 92);
        float[] special = {-1e30f, -200f, -89f, -88f, -20f, 20f, 88f, 89f, 200f, 1e30f,
                Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f};
        for (int i = 0; i < len; i++) {
            x[i] = i % 2 == 0 ? special[(i / 2) % special.length] : x[i] * 30;
        }
        check("extremes", x);
    }

    @Test
    void geluKeepsItsRelativeAccuracyIntoTheNegativeTail() {
        // x·Φ(x) at x = −10 is −7.6e-23: the shared tolerance's absolute floor would hide any error there, so
        // each element is held to its own value; the bound is erfcOfAbs's (about 5e-6 for |x| ≤ 10) with room
        int len = 4001;
        float[] x = new float[len], gy = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = -10f + 20f * i / (len - 1);
            gy[i] = 1f;
        }
        float[] y = Inputs.poisoned(len), gx = Inputs.poisoned(len);
        Backends.par(Activation.gelu(x, y, len));
        Backends.par(Activation.geluBackward(x, gy, gx, len));
        for (int i = 0; i < len; i++) {
            double want = ActivationKernels.geluOf(x[i]);
            assertTrue(Math.abs(y[i] - want) <= 1e-5 * Math.abs(want), "gelu(" + x[i] + "): " + want + ", found " + y[i]);
            // Φ(x) + x·φ(x) crosses zero near x = −0.75, where it is a difference of two terms near 0.23: the
            // absolute floor is 1e-5 of those terms
            double grad = ActivationKernels.geluGradOf(x[i], 1f);
            assertTrue(Math.abs(gx[i] - grad) <= 1e-5 * Math.abs(grad) + 2.5e-6,
                    "gelu backward(" + x[i] + "): " + grad + ", found " + gx[i]);
        }
    }

    @Test
    void siluOnShortSpansGivesTheVectorLoopsBits() {
        int len = ActivationVector.SCALAR_BELOW + 37;
        float[] x = Inputs.gaussian(len, 96), gy = Inputs.gaussian(len, 97);
        float[] special = {-1e30f, -200f, -89f, -88.5f, -88f, -20f, 20f, 88f, 89f, 200f, 1e30f,
                Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, Float.MIN_VALUE};
        for (int i = 0; i < len; i++) {
            x[i] = i % 3 == 0 ? special[(i / 3) % special.length] : x[i] * 30;
        }
        float[] whole = Inputs.poisoned(len), pieces = Inputs.poisoned(len);
        ActivationVector.siluRange(x, whole, len, 0, len);                     // one span: the vector loop
        for (int k = 0; k < len; k += 1000) {
            ActivationVector.siluRange(x, pieces, len, k, Math.min(len, k + 1000));   // short spans: one lane at a time
        }
        assertIdentical("silu, scalar form against the vector loop", whole, pieces);
        ActivationVector.siluBackwardRange(x, gy, whole, len, 0, len);
        for (int k = 0; k < len; k += 1000) {
            ActivationVector.siluBackwardRange(x, gy, pieces, len, k, Math.min(len, k + 1000));
        }
        assertIdentical("silu backward, scalar form against the vector loop", whole, pieces);
    }

    @ParameterizedTest
    @ValueSource(strings = {"softmax_r7_n13", "softmax_r4_n1"})
    void softmaxMatchesThePlainLoopOnTheTestInputs(String name) {
        Npz r = Npz.resource("activation/" + name);
        long[] d = r.get("dims").ints();
        softmax(name, r.f("x"), (int) d[0], (int) d[1]);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 8, 9, 16, 20, 37, 47, 64, 100, 4096})
    void softmaxMatchesThePlainLoopOnEveryRowLength(int n) {
        int rows = 13;
        softmax("n=" + n, scaled(Inputs.gaussian(rows * n, 93), 5), rows, n);
        float[] far = Inputs.gaussian(rows * n, 94);
        for (int i = 0; i < far.length; i++) {
            far[i] = far[i] * 20 + (i / n % 2 == 0 ? -500 : 500);
        }
        softmax("n=" + n + " far from zero", far, rows, n);
    }

    private static float[] scaled(float[] x, float s) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= s;
        }
        return x;
    }

    private static void check(String what, float[] x) {
        unary(what + " silu", x, Activation::silu);
        unary(what + " sigmoid", x, Activation::sigmoid);
        unary(what + " gelu", x, Activation::gelu);
        float[] gy = Inputs.gaussian(x.length, 95);
        binary(what + " silu backward", x, gy, Activation::siluBackward);
        binary(what + " gelu backward", x, gy, Activation::geluBackward);
        for (float slope : new float[] {0.2f, 0.01f, -0.5f}) {
            float[] plain = Inputs.poisoned(x.length);
            Backends.seq(Activation.leakyRelu(x, plain, x.length, slope));
            assertIdentical(what + " leaky ReLU " + slope + " keeps the loop's bits",
                    plain, unary(what + " leaky ReLU " + slope, x, (in, out, len) -> Activation.leakyRelu(in, out, len, slope)));
            Backends.seq(Activation.leakyReluBackward(x, gy, plain, x.length, slope));
            assertIdentical(what + " leaky ReLU backward " + slope + " keeps the loop's bits", plain,
                    binary(what + " leaky ReLU backward " + slope, x, gy, (in, g, out, len) -> Activation.leakyReluBackward(in, g, out, len, slope)));
        }
    }

    /** Runs {@code op} on both JVM modes and 7 threads, compares, and returns the variant's output. */
    private static float[] unary(String what, float[] x, Unary op) {
        int len = x.length;
        float[] plain = Inputs.poisoned(len), vector = Inputs.poisoned(len), seven = Inputs.poisoned(len);
        Launch l = op.make(x, vector, len);
        assertNotNull(l.vector(), what + " carries a vector variant");
        Backends.seq(op.make(x, plain, len));
        Backends.par(l);
        SEVEN.run(op.make(x, seven, len));
        assertIdentical(what + " on 3 and 7 threads", vector, seven);
        compare(what + " (" + len + ")", plain, vector);
        return vector;
    }

    /** {@link #unary} for a kernel with an upstream gradient. */
    private static float[] binary(String what, float[] x, float[] gy, Binary op) {
        int len = x.length;
        float[] plain = Inputs.poisoned(len), vector = Inputs.poisoned(len), seven = Inputs.poisoned(len);
        Launch l = op.make(x, gy, vector, len);
        assertNotNull(l.vector(), what + " carries a vector variant");
        Backends.seq(op.make(x, gy, plain, len));
        Backends.par(l);
        SEVEN.run(op.make(x, gy, seven, len));
        assertIdentical(what + " on 3 and 7 threads", vector, seven);
        compare(what + " (" + len + ")", plain, vector);
        return vector;
    }

    private static void softmax(String what, float[] x, int rows, int n) {
        float[] plain = Inputs.poisoned(rows * n), vector = Inputs.poisoned(rows * n);
        Launch l = Activation.softmax(x, vector, rows, n);
        assertNotNull(l.vector(), "softmax carries a vector variant");
        Backends.seq(Activation.softmax(x, plain, rows, n));
        Backends.par(l);
        compare("softmax " + what, plain, vector);
        float[] gy = Inputs.gaussian(rows * n, 98), gPlain = Inputs.poisoned(rows * n), gVector = Inputs.poisoned(rows * n);
        float[] gSeven = Inputs.poisoned(rows * n);
        Launch b = Activation.softmaxBackward(plain, gy, gVector, rows, n);
        assertNotNull(b.vector(), "softmax backward carries a vector variant");
        Backends.seq(Activation.softmaxBackward(plain, gy, gPlain, rows, n));
        Backends.par(b);
        SEVEN.run(Activation.softmaxBackward(plain, gy, gSeven, rows, n));
        assertIdentical("softmax backward " + what + " on 3 and 7 threads", gVector, gSeven);
        compare("softmax backward " + what, gPlain, gVector);
    }

    /** Non-finite values equal (any NaN for a NaN), the rest within the shared tolerance. */
    private static void compare(String what, float[] plain, float[] vector) {
        float[] p = plain.clone(), v = vector.clone();
        for (int i = 0; i < p.length; i++) {
            if (!Float.isFinite(p[i])) {
                assertEquals(p[i], v[i], what + " element " + i);
                p[i] = 0;
                v[i] = 0;
            }
        }
        // below float's smallest normal, the float forms flush to 0 where the double helpers round to a subnormal
        assertClose(what, p, v, Arrays32.RTOL, Math.max(Arrays32.atolFor(p), Float.MIN_NORMAL));
    }
}
