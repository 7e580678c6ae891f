package dev.prism.diffusion.eval;

import dev.prism.testing.Npz;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Fréchet distance against SciPy's sqrtm-based value (tools/refgen/frechet.py). */
class FrechetDistanceTest {

    private static float[] flat(DMatrixRMaj m) {
        float[] out = new float[m.data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) m.data[i];
        }
        return out;
    }

    private static float[] asFloat(double[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) v[i];
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"separated", "close", "wide"})
    void statisticsAndDistanceMatchScipy(String name) {
        Npz r = Npz.resource("frechet/" + name);
        int d = r.shape("a")[1];
        FeatureStatistics a = FeatureStatistics.of(r.f("a"), r.shape("a")[0], d);
        FeatureStatistics b = FeatureStatistics.of(r.f("b"), r.shape("b")[0], d);
        // The references are float64 rounded once to float32 by the file: 1e-6 relative covers that
        // rounding; the sums themselves are double on both sides.
        dev.prism.testing.Arrays32.assertClose(name + " mean a", r.f("mean_a"), asFloat(a.mean()), 1e-6, 1e-6);
        dev.prism.testing.Arrays32.assertClose(name + " cov b", r.f("cov_b"), flat(b.covariance()), 1e-6, 1e-6);
        double fd = FrechetDistance.between(a, b);
        double ref = r.f("fd")[0];
        assertEquals(ref, fd, 1e-6 * Math.abs(ref) + 1e-7, name + ": FD");
        assertEquals(fd, FrechetDistance.between(b, a), 1e-9 * fd + 1e-9, name + ": the distance is symmetric");
    }

    @Test
    void aSetIsAtDistanceZeroFromItselfEvenWhenItsCovarianceIsSingular() {
        SplittableRandom r = new SplittableRandom(5);
        // 10 vectors in 24 dimensions: a covariance of rank 9.
        float[] f = new float[10 * 24];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
        }
        FeatureStatistics s = FeatureStatistics.of(f, 10, 24);
        double trace = CommonOps_DDRM.trace(s.covariance());
        double fd = FrechetDistance.between(s, s);
        // tr Σ + tr Σ − 2 Σ √λ(Σ²): rounding of the eigenvalues leaves ~1e-15 of the trace; the square roots
        // of the zero eigenvalues' rounding (~1e-15·λ_max each, 15 of them) add ~1e-7·√λ_max.
        assertTrue(Math.abs(fd) < 1e-6 * trace, "FD of a set with itself: " + fd + " (trace " + trace + ")");
    }

    @Test
    void shiftingEveryVectorAddsTheSquaredShift() {
        SplittableRandom r = new SplittableRandom(6);
        int n = 50, d = 5;
        float[] f = new float[n * d], g = new float[n * d];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) r.nextGaussian();
            g[i] = f[i] + (i % d == 2 ? 3f : 0f);
        }
        double fd = FrechetDistance.between(FeatureStatistics.of(f, n, d), FeatureStatistics.of(g, n, d));
        assertEquals(9.0, fd, 1e-5, "the same covariance, means 3 apart");
    }

    @Test
    void badInputIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.of(new float[8], 1, 8));
        assertEquals("feature statistics: count expected >= 2 (the covariance divides by N−1), found 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.of(new float[8], 3, 4));
        assertEquals("feature statistics: features expected at least 12 floats (3 vectors of 4), found 8", e.getMessage());
        float[] nan = new float[8];
        nan[5] = Float.NaN;
        e = assertThrows(IllegalArgumentException.class, () -> FeatureStatistics.of(nan, 2, 4));
        assertEquals("feature statistics: component 1 of vector 1 expected a finite number, found NaN", e.getMessage());
        FeatureStatistics a = FeatureStatistics.of(new float[] {0, 1, 2, 3}, 2, 2);
        FeatureStatistics b = FeatureStatistics.of(new float[] {0, 1, 2, 3, 4, 5}, 2, 3);
        e = assertThrows(IllegalArgumentException.class, () -> FrechetDistance.between(a, b));
        assertEquals("Fréchet distance: the second set's features expected dimension 2, found 3", e.getMessage());
    }
}
