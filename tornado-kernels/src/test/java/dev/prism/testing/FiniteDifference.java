package dev.prism.testing;

import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks a backward kernel against finite differences of its forward kernel.
 *
 * <p>For a forward map {@code y = f(x)} and an upstream gradient {@code gy}, the scalar
 * {@code L(x) = Σ gy·f(x)} is accumulated in double, and its derivative along a direction {@code v}
 * is estimated by central differences with Richardson extrapolation,
 * {@code D = (4·D(h/2) − D(h)) / 3}, whose truncation error is O(h⁴). The kernels themselves are fp32,
 * so each evaluation of L carries a rounding error of about {@code ε32·Σ|gy·y|}; divided by the step
 * {@code h = 1e-2} it stays near {@code 1e-5·Σ|gy·y|}. The check therefore allows
 * {@code 1e-3·(|D| + 1e-3·Σ|gy·y|)}: tight enough that a wrong term (an error of order one) fails,
 * loose enough for fp32 rounding. Directions are random (every coordinate at once) and unit vectors
 * (single coordinates).
 */
public final class FiniteDifference {
    private static final double H = 1e-2;
    private static final double RTOL = 1e-3;

    private FiniteDifference() {
    }

    /**
     * @param what       name for failure messages
     * @param f          the forward map; must not modify its argument
     * @param x          the point of evaluation
     * @param gy         the upstream gradient, as long as {@code f(x)}
     * @param gx         the analytic gradient with respect to {@code x} to check
     * @param directions how many random directions to try
     * @param coords     how many single coordinates to try (all of them if at least {@code x.length})
     */
    public static void check(String what, Function<float[], float[]> f, float[] x, float[] gy, float[] gx,
                             int directions, int coords) {
        if (gx.length != x.length) {
            fail(what + ": gradient length " + gx.length + " differs from input length " + x.length);
        }
        double scale = magnitude(f.apply(x), gy);
        SplittableRandom r = new SplittableRandom(Inputs.SEED + what.hashCode());
        for (int d = 0; d < directions; d++) {
            double[] v = new double[x.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextDouble(-1, 1);
            }
            compare(what + " along random direction " + d, f, x, gy, gx, v, scale);
        }
        int n = Math.min(coords, x.length);
        for (int k = 0; k < n; k++) {
            int i = coords >= x.length ? k : r.nextInt(x.length);
            double[] v = new double[x.length];
            v[i] = 1;
            compare(what + " at coordinate " + i, f, x, gy, gx, v, scale);
        }
    }

    private static void compare(String what, Function<float[], float[]> f, float[] x, float[] gy, float[] gx,
                                double[] v, double scale) {
        double analytic = 0;
        for (int i = 0; i < x.length; i++) {
            analytic += gx[i] * v[i];
        }
        double d1 = central(f, x, gy, v, H);
        double d2 = central(f, x, gy, v, H / 2);
        double numeric = (4 * d2 - d1) / 3;
        double allowed = RTOL * (Math.abs(numeric) + 1e-3 * scale);
        if (!(Math.abs(numeric - analytic) <= allowed)) {
            fail(String.format("%s: finite difference %.8g, backward kernel %.8g (allowed %.2g)", what, numeric, analytic, allowed));
        }
    }

    private static double central(Function<float[], float[]> f, float[] x, float[] gy, double[] v, double h) {
        return (loss(f, step(x, v, h), gy) - loss(f, step(x, v, -h), gy)) / (2 * h);
    }

    private static float[] step(float[] x, double[] v, double h) {
        float[] s = x.clone();
        for (int i = 0; i < s.length; i++) {
            if (v[i] != 0) {
                s[i] = (float) (x[i] + h * v[i]);
            }
        }
        return s;
    }

    private static double loss(Function<float[], float[]> f, float[] x, float[] gy) {
        float[] y = f.apply(x);
        if (y.length != gy.length) {
            fail("upstream gradient length " + gy.length + " differs from output length " + y.length);
        }
        double l = 0;
        for (int i = 0; i < y.length; i++) {
            l += (double) gy[i] * y[i];
        }
        return l;
    }

    private static double magnitude(float[] y, float[] gy) {
        double m = 0;
        for (int i = 0; i < y.length; i++) {
            m += Math.abs((double) gy[i] * y[i]);
        }
        return m;
    }
}
