package dev.prism.kernels;

import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The summation helpers against exact sums ({@link BigDecimal}): every result within the bound of a double
 * sum, {@code (n − 1)·2⁻⁵³·Σ|t|} (Higham, §4.2), on lengths that leave every tail size, and the pair of
 * floats that carries a partial sum between kernels.
 */
class SumsTest {
    private static void assertWithinDoubleSumBound(String what, BigDecimal exact, double abs, int n, double actual) {
        double err = Math.abs(new BigDecimal(actual).subtract(exact).doubleValue());
        double bound = Math.max(n - 1, 0) * 0x1p-53 * abs;
        assertTrue(err <= bound, what + ": off by " + err + ", bound " + bound);
    }

    @Test
    void sumsAndDotProductsAreWithinTheDoubleSumBound() {
        // a non-zero mean, so that a float sum of the same terms would be off by far more
        float[] a = Inputs.uniform(70_001, 0.5f, 1.5f, 1), b = Inputs.gaussian(70_001, 2);
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 64, 1023, 70_000}) {
            for (int from : new int[] {0, 1}) {
                BigDecimal s = BigDecimal.ZERO, d = BigDecimal.ZERO, st = BigDecimal.ZERO, ds = BigDecimal.ZERO;
                double abs = 0, dabs = 0, sabs = 0, dsabs = 0;
                int count = (n + 1) / 2;
                for (int i = 0; i < n; i++) {
                    s = s.add(new BigDecimal(a[from + i]));
                    abs += Math.abs(a[from + i]);
                    double p = (double) a[from + i] * b[from + i];
                    d = d.add(new BigDecimal(p));
                    dabs += Math.abs(p);
                }
                for (int i = 0; i < count; i++) {
                    st = st.add(new BigDecimal(a[from + 2 * i]));
                    sabs += Math.abs(a[from + 2 * i]);
                    double p = (double) a[from + i] * b[from + 2 * i];
                    ds = ds.add(new BigDecimal(p));
                    dsabs += Math.abs(p);
                }
                String at = " n=" + n + " from=" + from;
                assertWithinDoubleSumBound("sum" + at, s, abs, n, Sums.sum(a, from, n));
                assertWithinDoubleSumBound("dot" + at, d, dabs, n, Sums.dot(a, from, b, from, n));
                assertWithinDoubleSumBound("sumStrided" + at, st, sabs, count, Sums.sumStrided(a, from, 2, count));
                assertWithinDoubleSumBound("dotStrided" + at, ds, dsabs, count, Sums.dotStrided(a, from, 1, b, from, 2, count));
            }
        }
    }

    @Test
    void squaredDeviationsAreWithinTheDoubleSumBound() {
        float[] a = Inputs.uniform(10_007, 39f, 41f, 3);
        double mean = Sums.sum(a, 0, a.length) / a.length;
        BigDecimal exact = BigDecimal.ZERO;
        double abs = 0;
        for (float v : a) {
            BigDecimal dev = new BigDecimal(v).subtract(new BigDecimal(mean));
            exact = exact.add(dev.multiply(dev));
            abs += (v - mean) * (v - mean);
        }
        // each term also rounds its deviation and its square: 3 more roundings of at most 2⁻⁵³ each
        double err = Math.abs(new BigDecimal(Sums.squaredDeviations(a, 0, a.length, mean)).subtract(exact).doubleValue());
        assertTrue(err <= (a.length + 3) * 0x1p-53 * abs, "off by " + err);
    }

    @Test
    void aLengthOfZeroOrLessSumsNothing() {
        float[] a = {1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f};
        for (int n : new int[] {0, -1, -2, -3, -4, -5, -6}) {
            assertEquals(0.0, Sums.sum(a, 4, n), "sum " + n);
            assertEquals(0.0, Sums.dot(a, 4, a, 0, n), "dot " + n);
            assertEquals(0.0, Sums.sumStrided(a, 4, 2, n), "sumStrided " + n);
            assertEquals(0.0, Sums.dotStrided(a, 4, 1, a, 0, 1, n), "dotStrided " + n);
        }
    }

    @Test
    void aSplitPartialKeepsItsLowBits() {
        double[] partials = {1.0 / 3, -12345.678901234567, 0x1p-30 + 0x1p-60, 7.0};
        float[] pairs = Inputs.poisoned(2 * partials.length);
        for (int i = 0; i < partials.length; i++) {
            Sums.storeSplit(pairs, 2 * i, partials[i]);
            double back = (double) pairs[2 * i] + pairs[2 * i + 1];
            assertTrue(Math.abs(back - partials[i]) <= 0x1p-48 * Math.abs(partials[i]), partials[i] + " came back as " + back);
            assertEquals((float) partials[i], pairs[2 * i], "the high part is the float rounding");
        }
        double exact = 0;
        for (double p : partials) {
            exact += p;
        }
        assertEquals(exact, Sums.sumSplit(pairs, 0, 2, partials.length), 0x1p-46 * 12346);
        // the low parts matter: the highs alone lose 1/3's rounding error
        assertTrue(Math.abs(pairs[0] - 1.0 / 3) > 1e-9);
    }
}
