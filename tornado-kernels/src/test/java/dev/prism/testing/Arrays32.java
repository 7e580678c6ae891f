package dev.prism.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one assertion for float arrays in Prism's tests, and the shared tolerances.
 *
 * <p>An element passes when {@code |actual - expected| <= atol + rtol·|expected|}. On failure the
 * message names the first bad index with both values, the worst index, and how many failed.
 */
public final class Arrays32 {
    /** Relative tolerance of fp32 results against a peer (the brief's "about 1e-5 relative"). */
    public static final double RTOL = 1e-5;

    private Arrays32() {
    }

    /**
     * The absolute floor used with {@link #RTOL}: an element that cancels to nearly zero can only be
     * as exact as the terms that cancelled, so the floor is {@code RTOL × max|expected|}.
     */
    public static double atolFor(float[] expected) {
        return RTOL * maxAbs(expected);
    }

    /** Asserts {@code actual} equals the peer's {@code expected} within {@link #RTOL} and {@link #atolFor}. */
    public static void assertClose(String what, float[] expected, float[] actual) {
        assertClose(what, expected, actual, RTOL, atolFor(expected));
    }

    public static void assertClose(String what, float[] expected, float[] actual, double rtol, double atol) {
        if (expected.length != actual.length) {
            fail(what + ": expected length " + expected.length + ", found " + actual.length);
        }
        int first = -1;
        int worst = -1;
        double worstExcess = 0;
        int bad = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            double err = Math.abs(a - e);
            double allowed = atol + rtol * Math.abs(e);
            if (!(err <= allowed)) {
                bad++;
                if (first < 0) {
                    first = i;
                }
                double excess = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / Math.max(allowed, Double.MIN_VALUE);
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements differ (rtol %.1e, atol %.1e); first at [%d]: expected %s, found %s;"
                            + " worst at [%d]: expected %s, found %s",
                    what, bad, expected.length, rtol, atol, first, expected[first], actual[first],
                    worst, expected[worst], actual[worst]));
        }
    }

    /** Asserts bit-identical contents (deterministic kernels). */
    public static void assertIdentical(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": expected length " + expected.length + ", found " + actual.length);
        }
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": not bit-identical at [" + i + "]: expected " + expected[i] + ", found " + actual[i]);
            }
        }
    }

    public static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
