package dev.prism.spark;

import dev.prism.diffusion.eval.FeatureStatistics;
import org.ejml.data.DMatrixRMaj;

import java.io.Serializable;

/**
 * The count, mean and sum of centred outer products of a set of feature vectors: what an executor returns for its
 * part of an evaluation, so that the driver can combine the parts into the {@link FeatureStatistics} of all of them
 * without the features themselves.
 *
 * <pre>
 *   μ = (1/n) Σ f_i,    M = Σ (f_i − μ)(f_i − μ)ᵀ,    Σ = M / (n − 1)
 *   combining A and B (Chan, Golub &amp; LeVeque 1979):  n = n_A + n_B,  δ = μ_B − μ_A,
 *   μ = μ_A + δ·n_B/n,   M = M_A + M_B + δδᵀ·n_A·n_B/n
 * </pre>
 * Each part is computed in two passes in double (mean first, then the centred products), as
 * {@link FeatureStatistics#of}, so no large sums cancel.
 *
 * @param count n, at least 1
 * @param mean  μ, d values
 * @param m2    M, d×d row-major
 */
public record Moments(long count, double[] mean, double[] m2) implements Serializable {
    public Moments {
        if (count < 1) {
            throw new IllegalArgumentException("moments: count expected >= 1, found " + count);
        }
        if (m2.length != (long) mean.length * mean.length) {
            throw new IllegalArgumentException("moments: m2 expected " + mean.length + "x" + mean.length + " values, found " + m2.length);
        }
    }

    /**
     * The moments of {@code count} vectors of {@code dim} floats, vector i at {@code features[i·dim ..]}.
     *
     * @throws IllegalArgumentException if a feature is not finite, naming the vector and the component
     */
    public static Moments of(float[] features, int count, int dim) {
        if (count < 1 || dim < 1 || (long) count * dim > features.length) {
            throw new IllegalArgumentException("moments: expected count >= 1, dim >= 1 and at least count·dim features, found count " + count
                    + ", dim " + dim + ", " + features.length + " features");
        }
        double[] mean = new double[dim];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < dim; j++) {
                float f = features[i * dim + j];
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("moments: component " + j + " of vector " + i + " expected a finite number, found " + f);
                }
                mean[j] += f;
            }
        }
        for (int j = 0; j < dim; j++) {
            mean[j] /= count;
        }
        double[] m2 = new double[dim * dim];
        double[] centred = new double[dim];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < dim; j++) {
                centred[j] = features[i * dim + j] - mean[j];
            }
            for (int a = 0; a < dim; a++) {
                for (int b = a; b < dim; b++) {
                    m2[a * dim + b] += centred[a] * centred[b];
                }
            }
        }
        mirror(m2, dim);
        return new Moments(count, mean, m2);
    }

    /** The moments of this set and {@code other} together. */
    public Moments plus(Moments other) {
        int d = mean.length;
        if (other.mean.length != d) {
            throw new IllegalArgumentException("moments: the second set's features expected dimension " + d + ", found " + other.mean.length);
        }
        long n = count + other.count;
        double wb = (double) other.count / n, cross = (double) count * other.count / n;
        double[] delta = new double[d], mu = new double[d], m = new double[d * d];
        for (int j = 0; j < d; j++) {
            delta[j] = other.mean[j] - mean[j];
            mu[j] = mean[j] + delta[j] * wb;
        }
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                m[a * d + b] = m2[a * d + b] + other.m2[a * d + b] + delta[a] * delta[b] * cross;
            }
        }
        return new Moments(n, mu, m);
    }

    /** The mean and unbiased covariance, as {@link FeatureStatistics#of} gives them for the same vectors. */
    public FeatureStatistics statistics() {
        if (count < 2 || count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("moments: count expected 2 to " + Integer.MAX_VALUE + " (the covariance divides by n − 1), found " + count);
        }
        int d = mean.length;
        DMatrixRMaj cov = new DMatrixRMaj(d, d);
        for (int i = 0; i < d * d; i++) {
            cov.data[i] = m2[i] / (count - 1);
        }
        return new FeatureStatistics((int) count, mean.clone(), cov);
    }

    private static void mirror(double[] m, int d) {
        for (int a = 0; a < d; a++) {
            for (int b = a + 1; b < d; b++) {
                m[b * d + a] = m[a * d + b];
            }
        }
    }
}
