package dev.prism.kernels;

import dev.prism.testing.VectorWidths;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link VectorMath}: the exponential within 2 ulp of the exact value over the whole normal range, the
 * vector and the scalar form the same bits on every input (specials included), at the width of the run
 * (the poms run this test at 128, 256 and 512 bits); and the lane sum in its documented order.
 */
class VectorMathTest {
    /** Every float in [-87.3, 88.3] at a step of about 1e-4 relative, then the specials. */
    private static float[] inputs() {
        List<Float> xs = new ArrayList<>();
        for (float v = -87.3f; v < 88.3f; v += Math.max(1e-4f * Math.abs(v), 1e-6f)) {
            xs.add(v);
        }
        for (float v : new float[] {-1e30f, -1000f, -100f, -87.34f, -87.33f, 88.37f, 88.38f, 88.4f, 89f, 1e30f,
                0f, -0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, Float.MIN_VALUE}) {
            xs.add(v);
        }
        float[] x = new float[xs.size() - xs.size() % 16];
        for (int i = 0; i < x.length; i++) {
            x[i] = xs.get(i);
        }
        return x;
    }

    @Test
    void expIsWithinTwoUlpOfTheExactValue() {
        float[] x = inputs();
        double worst = 0;
        for (float v : x) {
            if (v >= -87.3f && v <= 88.3f) {
                double exact = Math.exp(v);
                worst = Math.max(worst, Math.abs(VectorMath.exp(v) - exact) / Math.ulp((float) exact));
            }
        }
        assertTrue(worst <= 2, "worst error " + worst + " ulp");
        assertEquals(1f, VectorMath.exp(0f));
        assertEquals(1f, VectorMath.exp(-0f));
        assertEquals(0f, VectorMath.exp(-1000f));
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(89f));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.exp(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
    }

    @Test
    void vectorAndScalarExpGiveTheSameBitsAtThePinnedWidth() {
        float[] x = inputs();
        VectorSpecies<Float> species = VectorMath.FLOAT;
        assertEquals(VectorWidths.assertPinned(), species.vectorBitSize());
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += species.length()) {
            VectorMath.exp(FloatVector.fromArray(species, x, i)).intoArray(y, i);
        }
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VectorMath.exp(x[i])), Float.floatToIntBits(y[i]), "exp(" + x[i] + ") on " + species);
        }
    }

    @Test
    void lanesAreSummedLeftToRight() {
        // 1 + 1e-16 + 1e-16 + ... is 1 left to right (each tiny term is lost), more than 1 in a tree.
        int n = VectorMath.DOUBLE.length();
        double[] first = new double[n], last = new double[n];
        java.util.Arrays.fill(first, 1e-16);
        java.util.Arrays.fill(last, 1e-16);
        first[0] = 1;
        last[n - 1] = 1;
        assertEquals(1.0, VectorMath.sumLanes(first));
        double expected = 0;
        for (double v : last) {
            expected += v;
        }
        assertEquals(expected, VectorMath.sumLanes(last));
        // with three lanes or more, the tiny terms add up when they come first (two lanes have one order only)
        assertEquals(n > 2, expected > 1.0);
    }
}
