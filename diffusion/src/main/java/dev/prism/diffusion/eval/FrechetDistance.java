package dev.prism.diffusion.eval;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (Dowson &amp; Landau 1982; the
 * distance of FID, Heusel et al. 2017):
 * <pre>
 *   FD = |μ₁ − μ₂|² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^{1/2})
 * </pre>
 * The trace of the square root is taken without the non-symmetric product: Σ₁Σ₂ is similar to the
 * symmetric positive semi-definite {@code M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}}, so
 * {@code tr((Σ₁Σ₂)^{1/2}) = Σ_k √λ_k(M)}. Both {@code Σ₁^{1/2}} and the λ_k come from symmetric eigen
 * decompositions (EJML, double); eigenvalues that rounding leaves slightly negative count as 0. SciPy's
 * {@code sqrtm(Σ₁ @ Σ₂)}, the usual FID code's route, gives the same value (FrechetDistanceTest).
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    /**
     * The distance between the Gaussians of {@code a} and {@code b}.
     *
     * @throws IllegalArgumentException if their dimensions differ, or an eigen decomposition fails
     */
    public static double between(FeatureStatistics a, FeatureStatistics b) {
        int d = a.dim();
        if (b.dim() != d) {
            throw new IllegalArgumentException("Fréchet distance: the second set's features expected dimension " + d + ", found " + b.dim());
        }
        double meanTerm = 0;
        for (int j = 0; j < d; j++) {
            double diff = a.mean()[j] - b.mean()[j];
            meanTerm += diff * diff;
        }
        DMatrixRMaj root = sqrtPsd(a.covariance());
        DMatrixRMaj t = new DMatrixRMaj(d, d);
        DMatrixRMaj m = new DMatrixRMaj(d, d);
        multiply(root, b.covariance(), t, false);
        multiply(t, root, m, false);
        symmetrise(m);
        double traceRoot = 0;
        for (double lambda : eigenvalues(m, false).values) {
            traceRoot += Math.sqrt(Math.max(0, lambda));
        }
        return meanTerm + CommonOps_DDRM.trace(a.covariance()) + CommonOps_DDRM.trace(b.covariance()) - 2 * traceRoot;
    }

    /** The symmetric square root {@code V·diag(√max(λ, 0))·Vᵀ} of a symmetric positive semi-definite matrix. */
    static DMatrixRMaj sqrtPsd(DMatrixRMaj s) {
        int d = s.numRows;
        DMatrixRMaj sym = s.copy();
        symmetrise(sym);
        Eigen e = eigenvalues(sym, true);
        DMatrixRMaj scaled = new DMatrixRMaj(d, d);
        for (int k = 0; k < d; k++) {
            double r = Math.sqrt(Math.max(0, e.values[k]));
            for (int i = 0; i < d; i++) {
                scaled.data[i * d + k] = e.vectors.data[i * d + k] * r;
            }
        }
        DMatrixRMaj out = new DMatrixRMaj(d, d);
        multiply(scaled, e.vectors, out, true);
        return out;
    }

    /**
     * {@code out = a·b} (or {@code a·bᵀ}) of square matrices, as plain loops rather than EJML's
     * {@code CommonOps_DDRM.mult}: between EJML 0.38, which a TornadoVM SDK puts on the JVM's path, and the
     * version Prism builds with, that method's return type changed, so a call compiled against one fails
     * with {@code NoSuchMethodError} on the other. The eigen decomposition's API is the same in both.
     */
    static void multiply(DMatrixRMaj a, DMatrixRMaj b, DMatrixRMaj out, boolean transposeB) {
        int d = a.numRows;
        double[] x = a.data;
        double[] y = b.data;
        double[] z = out.data;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += x[i * d + k] * (transposeB ? y[j * d + k] : y[k * d + j]);
                }
                z[i * d + j] = s;
            }
        }
    }

    /** Eigenvalues and (if asked) the eigenvectors as the columns of a matrix. */
    private record Eigen(double[] values, DMatrixRMaj vectors) {
    }

    private static Eigen eigenvalues(DMatrixRMaj symmetric, boolean vectors) {
        int d = symmetric.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, vectors, true);
        if (!eig.decompose(symmetric.copy())) {
            throw new IllegalArgumentException("Fréchet distance: the symmetric eigen decomposition of a " + d + "x" + d
                    + " matrix did not converge");
        }
        double[] values = new double[d];
        DMatrixRMaj v = vectors ? new DMatrixRMaj(d, d) : null;
        for (int k = 0; k < d; k++) {
            values[k] = eig.getEigenvalue(k).getReal();
            if (vectors) {
                DMatrixRMaj col = eig.getEigenVector(k);
                for (int i = 0; i < d; i++) {
                    v.data[i * d + k] = col.data[i];
                }
            }
        }
        return new Eigen(values, v);
    }

    /** {@code m = (m + mᵀ)/2}, removing the asymmetry rounding leaves in a product that is symmetric in exact arithmetic. */
    private static void symmetrise(DMatrixRMaj m) {
        int d = m.numRows;
        for (int i = 0; i < d; i++) {
            for (int j = i + 1; j < d; j++) {
                double v = 0.5 * (m.data[i * d + j] + m.data[j * d + i]);
                m.data[i * d + j] = v;
                m.data[j * d + i] = v;
            }
        }
    }
}
