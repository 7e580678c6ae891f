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

import java.util.function.Function;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationTest {
    private static final JvmBackend PLAIN_PAR = JvmBackend.parallel(3, false);
    /** The relative error ActivationKernels.erfc documents (5.25e-9 measured by the generator). */
    private static final double ERFC_BOUND = 5.3e-9;
    /**
     * One float ulp relative to the value: the kernel's double result is within ~2e-8 of the exact
     * value, and the reference is the exact value rounded to float, so the two roundings differ by at
     * most one ulp, which is at most 2^-23 = 1.19e-7 of the value.
     */
    private static final double ONE_ULP = 1.2e-7;

    @Test
    void erfMatchesPythonMathAcrossMinusTenToTen() {
        Npz r = Npz.resource("activation/erf");
        float[] x = r.f("x"), hi = r.f("erf_hi"), lo = r.f("erf_lo");
        for (int i = 0; i < x.length; i++) {
            double ref = (double) hi[i] + lo[i];
            double got = ActivationKernels.erf(x[i]);
            // below 0.5 the series is accurate to 1e-12; beyond, 1 - erfc inherits erfc's bound, shrunk by erfc/erf < 1
            assertTrue(Math.abs(got - ref) <= ERFC_BOUND * Math.abs(ref),
                    "erf(" + x[i] + "): math.erf " + ref + ", found " + got);
        }
    }

    @Test
    void erfcKeepsItsRelativeAccuracyIntoTheTail() {
        Npz r = Npz.resource("activation/erf");
        float[] z = r.f("z"), hi = r.f("erfc_hi"), lo = r.f("erfc_lo");
        double worst = 0;
        for (int i = 0; i < z.length; i++) {
            double ref = (double) hi[i] + lo[i];
            double rel = Math.abs(ActivationKernels.erfc(z[i]) - ref) / ref;
            assertTrue(rel <= ERFC_BOUND, "erfc(" + z[i] + "): math.erfc " + ref + ", relative error " + rel);
            worst = Math.max(worst, rel);
        }
        // the fit is near-minimax, so the grid should come close to the bound; far below it, the test would
        // be measuring a different function
        assertTrue(worst > 1e-9, "worst relative error " + worst);
        float top = Float.NEGATIVE_INFINITY;
        for (float v : z) {
            top = Math.max(top, v);
        }
        assertEquals(9f, top, "the grid reaches erfc(9) = 4.1e-37");
    }

    @Test
    void erfIsOddAndErfcIsTwoMinusItsMirror() {
        float[] x = Inputs.uniform(257, -6, 6, 11);
        for (float v : x) {
            assertEquals(-ActivationKernels.erf(v), ActivationKernels.erf(-v), 0.0, "erf(" + v + ")");
            assertEquals(2.0 - ActivationKernels.erfc(v), ActivationKernels.erfc(-v), 4e-16, "erfc(" + v + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"silu", "gelu", "sigmoid", "leaky_relu_0p01", "leaky_relu_0p2", "leaky_relu_m0p5"})
    void elementwiseActivationsMatchPyTorch(String name) {
        Npz r = Npz.resource("activation/" + name);
        float[] x = r.f("x"), gy = r.f("gy");
        int len = x.length;
        float[] y = Inputs.poisoned(len), gx = Inputs.poisoned(len);
        Backends.seq(forward(name, r, x, y, len));
        assertClose(name + " forward", r.f("y"), y);
        Backends.seq(backward(name, r, x, y, gy, gx, len));
        assertClose(name + " backward", r.f("gx"), gx);
    }

    @Test
    void geluKeepsRelativeAccuracyInBothTails() {
        Npz r = Npz.resource("activation/gelu_tail");
        float[] x = r.f("x");
        int len = x.length;
        float[] ones = new float[len];
        java.util.Arrays.fill(ones, 1f);
        float[] y = Inputs.poisoned(len), gx = Inputs.poisoned(len);
        Backends.seq(Activation.gelu(x, y, len));
        Backends.seq(Activation.geluBackward(x, ones, gx, len));
        // atol 0: at x = -12 the value is 2e-32, and it must still be right to the last float bit
        assertClose("gelu tail", r.f("y"), y, ONE_ULP, 0);
        assertClose("gelu' tail", r.f("gx"), gx, ONE_ULP, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"softmax_r7_n13", "softmax_r4_n1"})
    void softmaxMatchesPyTorchEvenForRowsFarFromZero(String name) {
        Npz r = Npz.resource("activation/" + name);
        long[] d = r.get("dims").ints();
        int rows = (int) d[0], n = (int) d[1];
        float[] y = Inputs.poisoned(rows * n), gx = Inputs.poisoned(rows * n);
        Backends.seq(Activation.softmax(r.f("x"), y, rows, n));
        assertClose(name + " forward", r.f("y"), y);
        Backends.seq(Activation.softmaxBackward(y, r.f("gy"), gx, rows, n));
        assertClose(name + " backward", r.f("gx"), gx);
    }

    @Test
    void backwardsAgreeWithFiniteDifferences() {
        int len = 40;
        // |x| >= 0.1: leaky ReLU has a kink at 0 that a step of 1e-2 must not straddle
        float[] x = Inputs.gaussian(len, 21);
        for (int i = 0; i < len; i++) {
            x[i] = x[i] + Math.copySign(0.1f, x[i]);
        }
        float[] gy = Inputs.gaussian(len, 22);
        float[] gx = new float[len];

        Backends.seq(Activation.siluBackward(x, gy, gx, len));
        FiniteDifference.check("silu", unary(in -> Activation.silu(in, out(in), len)), x, gy, gx, 3, len);

        Backends.seq(Activation.geluBackward(x, gy, gx, len));
        FiniteDifference.check("gelu", unary(in -> Activation.gelu(in, out(in), len)), x, gy, gx, 3, len);

        Backends.seq(Activation.leakyReluBackward(x, gy, gx, len, -0.3f));
        FiniteDifference.check("leaky_relu", unary(in -> Activation.leakyRelu(in, out(in), len, -0.3f)), x, gy, gx, 3, len);

        float[] y = new float[len];
        Backends.seq(Activation.sigmoid(x, y, len));
        Backends.seq(Activation.sigmoidBackward(y, gy, gx, len));
        FiniteDifference.check("sigmoid", unary(in -> Activation.sigmoid(in, out(in), len)), x, gy, gx, 3, len);

        int rows = 5, n = 8;
        Backends.seq(Activation.softmax(x, y, rows, n));
        Backends.seq(Activation.softmaxBackward(y, gy, gx, rows, n));
        FiniteDifference.check("softmax", unary(in -> Activation.softmax(in, out(in), rows, n)), x, gy, gx, 3, len);
    }

    /** In place on the parallel backend (the vector variants where there are) gives what out of place gives. */
    @Test
    void activationsMayRunInPlace() {
        int rows = 9, n = 11, len = rows * n;
        float[] x = Inputs.gaussian(len, 31), gy = Inputs.gaussian(len, 32);
        float[] expected = new float[len];
        float[] inPlace = x.clone();
        Backends.par(Activation.gelu(x, expected, len));
        Backends.par(Activation.gelu(inPlace, inPlace, len));
        assertIdentical("gelu in place", expected, inPlace);

        inPlace = x.clone();
        Backends.par(Activation.softmax(x, expected, rows, n));
        Backends.par(Activation.softmax(inPlace, inPlace, rows, n));
        assertIdentical("softmax in place", expected, inPlace);

        float[] y = expected.clone();
        float[] gx = new float[len];
        float[] g = gy.clone();
        Backends.par(Activation.softmaxBackward(y, gy, gx, rows, n));
        Backends.par(Activation.softmaxBackward(y, g, g, rows, n));
        assertIdentical("softmax backward into gy", gx, g);

        g = gy.clone();
        Backends.par(Activation.siluBackward(x, gy, gx, len));
        Backends.par(Activation.siluBackward(x, g, g, len));
        assertIdentical("silu backward into gy", gx, g);
    }

    /** The plain loops' lanes on the parallel backend; {@link ActivationVectorTest} compares the vector variants. */
    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int rows = 211, n = 37, len = rows * n;
        float[] x = Inputs.gaussian(len, 41), gy = Inputs.gaussian(len, 42);
        float[] a = Inputs.poisoned(len), b = Inputs.poisoned(len);
        Backends.seq(Activation.gelu(x, a, len));
        PLAIN_PAR.run(Activation.gelu(x, b, len));
        assertIdentical("gelu", a, b);
        Backends.seq(Activation.siluBackward(x, gy, a, len));
        PLAIN_PAR.run(Activation.siluBackward(x, gy, b, len));
        assertIdentical("silu backward", a, b);
        Backends.seq(Activation.softmax(x, a, rows, n));
        PLAIN_PAR.run(Activation.softmax(x, b, rows, n));
        assertIdentical("softmax", a, b);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[12];
        var e = assertThrows(IllegalArgumentException.class, () -> Activation.silu(x, new float[11], 12));
        assertEquals("activation.silu: argument 'y' expected length 12, found 11", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activation.sigmoidBackward(new float[3], x, x, 12));
        assertEquals("activation.sigmoidBackward: argument 'y' expected length 12, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activation.leakyRelu(x, x, 12, Float.NaN));
        assertEquals("activation.leakyRelu: argument 'slope' expected a finite number, found NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activation.gelu(x, x, 0));
        assertEquals("activation.gelu: argument 'len' expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activation.softmax(x, x, 5, 2));
        assertEquals("activation.softmax: argument 'x' expected length 10, found 12", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Activation.softmaxBackward(x, x, x, 4, -3));
        assertEquals("activation.softmaxBackward: argument 'n' expected > 0, found -3", e.getMessage());
    }

    private static Launch forward(String name, Npz r, float[] x, float[] y, int len) {
        return switch (name) {
            case "silu" -> Activation.silu(x, y, len);
            case "gelu" -> Activation.gelu(x, y, len);
            case "sigmoid" -> Activation.sigmoid(x, y, len);
            default -> Activation.leakyRelu(x, y, len, r.scalar("slope"));
        };
    }

    /** The backward launch; sigmoid's reads the forward output {@code y} the previous launch wrote. */
    private static Launch backward(String name, Npz r, float[] x, float[] y, float[] gy, float[] gx, int len) {
        return switch (name) {
            case "silu" -> Activation.siluBackward(x, gy, gx, len);
            case "gelu" -> Activation.geluBackward(x, gy, gx, len);
            case "sigmoid" -> Activation.sigmoidBackward(y, gy, gx, len);
            default -> Activation.leakyReluBackward(x, gy, gx, len, r.scalar("slope"));
        };
    }

    private static float[] out(float[] in) {
        return new float[in.length];
    }

    /** The forward map of a launch factory: runs it on a copy of the input and returns what it wrote. */
    private static Function<float[], float[]> unary(Function<float[], Launch> launch) {
        return in -> {
            Launch l = launch.apply(in.clone());
            Backends.seq(l);
            return l.outputs()[0];
        };
    }
}
