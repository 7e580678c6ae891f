package dev.prism.diffusion.eval;

import org.ejml.data.DMatrixRMaj;

import java.util.Objects;

/**
 * The mean and covariance of a set of feature vectors, in double: what a {@link FrechetDistance}
 * compares.
 *
 * <pre>
 *   μ = (1/N) Σ_i f_i
 *   Σ = (1/(N−1)) Σ_i (f_i − μ)(f_i − μ)ᵀ          (the unbiased estimate, as numpy.cov)
 * </pre>
 * computed in two passes over the float features (the mean first, then the centred products), so no
 * large sums cancel.
 *
 * @param count      N, the vectors summarised (at least 2)
 * @param mean       μ, {@code dim} values
 * @param covariance Σ, {@code dim × dim} row-major, symmetric
 */
public record FeatureStatistics(int count, double[] mean, DMatrixRMaj covariance) {
    public FeatureStatistics {
        Objects.requireNonNull(mean, "mean");
        Objects.requireNonNull(covariance, "covariance");
        if (count < 2) {
            throw new IllegalArgumentException("feature statistics: count expected >= 2 (the covariance divides by N−1), found " + count);
        }
        if (covariance.numRows != mean.length || covariance.numCols != mean.length) {
            throw new IllegalArgumentException("feature statistics: covariance expected " + mean.length + "x" + mean.length + ", found "
                    + covariance.numRows + "x" + covariance.numCols);
        }
    }

    /** The feature dimension d. */
    public int dim() {
        return mean.length;
    }

    /**
     * The statistics of {@code count} vectors of {@code dim} floats, vector i at {@code features[i·dim ..]}.
     *
     * @throws IllegalArgumentException if count &lt; 2, dim &lt; 1, the array is shorter than count·dim, or a
     *                                  feature is not finite (naming the vector and the component)
     */
    public static FeatureStatistics of(float[] features, int count, int dim) {
        Objects.requireNonNull(features, "features");
        if (dim < 1) {
            throw new IllegalArgumentException("feature statistics: dim expected >= 1, found " + dim);
        }
        if (count < 2) {
            throw new IllegalArgumentException("feature statistics: count expected >= 2 (the covariance divides by N−1), found " + count);
        }
        if ((long) count * dim > features.length) {
            throw new IllegalArgumentException("feature statistics: features expected at least " + (long) count * dim + " floats ("
                    + count + " vectors of " + dim + "), found " + features.length);
        }
        double[] mean = new double[dim];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < dim; j++) {
                float f = features[i * dim + j];
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("feature statistics: component " + j + " of vector " + i + " expected a finite number, found " + f);
                }
                mean[j] += f;
            }
        }
        for (int j = 0; j < dim; j++) {
            mean[j] /= count;
        }
        DMatrixRMaj centred = new DMatrixRMaj(count, dim);
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < dim; j++) {
                centred.data[i * dim + j] = features[i * dim + j] - mean[j];
            }
        }
        // cov = centredᵀ·centred / (count − 1), by hand: EJML's multInner changed its return type after
        // 0.38, the version a TornadoVM SDK puts on the JVM's path (FrechetDistance.multiply says more)
        DMatrixRMaj cov = new DMatrixRMaj(dim, dim);
        double[] c = centred.data;
        for (int a = 0; a < dim; a++) {
            for (int b = a; b < dim; b++) {
                double s = 0;
                for (int i = 0; i < count; i++) {
                    s += c[i * dim + a] * c[i * dim + b];
                }
                s /= count - 1;
                cov.data[a * dim + b] = s;
                cov.data[b * dim + a] = s;
            }
        }
        return new FeatureStatistics(count, mean, cov);
    }
}
