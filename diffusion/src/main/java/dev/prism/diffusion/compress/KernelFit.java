package dev.prism.diffusion.compress;

import dev.prism.kernels.Approx;
import dev.prism.kernels.ApproxKernels;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.LinearSolverFactory_DDRM;
import org.ejml.interfaces.linsol.LinearSolverDense;

/**
 * Fits CosConv / ChebConv coefficients to existing convolution kernels by exact least squares (ApproxConv §3.4,
 * which minimises the same error by gradient descent instead).
 *
 * <p>For one filter {@code w [K, K]} and N basis functions φ_p sampled at the layer's K points x_u
 * ({@link Approx#basisTable}: the table the CosConv / ChebConv layer synthesises with), the synthesised kernel
 * {@code ŵ[u,v] = Σ_p Σ_q a[p,q]·φ_p(x_u)·φ_q(x_v)} (ApproxConv eqs. (3)–(4)) is linear in a: with
 * {@code vec(ŵ) = A·vec(a)}, A the {@code K² × N²} matrix {@code A[(u,v),(p,q)] = φ_p(x_u)·φ_q(x_v)} (the
 * Kronecker product Bᵀ ⊗ Bᵀ of the sampled basis B [N, K]), the loss of ApproxConv eq. (5),
 * <pre>
 *   L(a) = (1/K²) · Σ_{u,v} (w[u,v] − ŵ[u,v])² = (1/K²)·|vec(w) − A·vec(a)|²,
 * </pre>
 * is a linear least-squares problem with the same matrix A for every filter of a layer. It is solved once per
 * layer for all {@code Cout·Cin} filters together (one right-hand side per filter, EJML):
 * <pre>
 *   a = a₀ + argmin_d |r − A·d|   with the smallest |d| among the minimisers,   r = vec(w) − A·a₀,
 * </pre>
 * where {@code a₀} is the DC-mean initialisation the paper recommends for ChebConv (§3.4: the DC coefficient
 * a[0,0] set to the filter's mean, every other one 0; φ_0 ≡ 1 in both bases, so a₀ alone reproduces the
 * mean).
 * <ul>
 *   <li>N ≤ K (every layer CosConv / ChebConv can hold): the N basis functions are linearly independent on the
 *       K distinct points (a Chebyshev polynomial of degree < K with K roots is zero; the cosines cos(p·x) on
 *       points inside (0, π) are polynomials T_p(cos x) of the distinct values cos x_u), so B has rank N, A has
 *       full column rank N² ≤ K², and the minimiser is unique: {@code a = (AᵀA)⁻¹Aᵀ·vec(w)} whatever a₀ is.
 *       Solved by Householder QR; for N = K, A is square and invertible and the fit is exact (the error is
 *       rounding).</li>
 *   <li>N > K (more functions than points): A has rank K² < N², every filter is fitted exactly by a whole
 *       affine family of coefficients, and the one returned is the member nearest a₀ (minimum-norm d, by the
 *       SVD pseudo-inverse). It is also the limit of gradient descent on L started at a₀, the authors'
 *       procedure: each step moves a along Aᵀ(·), so a − a₀ stays in the row space of A, where the
 *       minimum-norm d lies.</li>
 * </ul>
 * Every argument is read, none is modified. Sums are in double; the coefficients are rounded once to float.
 */
public final class KernelFit {
    private KernelFit() {
    }

    /**
     * The fitted coefficients of a layer and the error of eq. (5) they leave.
     *
     * @param coefficients {@code a [pairs, N, N]} row-major, rounded to float
     * @param mse          eq. (5) averaged over the filters: {@code Σ (w − ŵ)² / (pairs·K²)}, ŵ synthesised in double
     *                     from the float coefficients
     * @param relativeError {@code |w − ŵ| / |w|} over the whole layer (Frobenius norms; 0 when w is 0)
     * @param underdetermined whether N > K, so that the minimum-norm solution nearest the DC-mean start was taken
     */
    public record Fit(float[] coefficients, double mse, double relativeError, boolean underdetermined) {
    }

    /**
     * Fits {@code pairs} filters {@code w [pairs, K, K]} (row-major; a conv2d weight {@code [Cout, Cin, K, K]} with
     * pairs = Cout·Cin) with N×N coefficients of {@code basis} on its default interval.
     *
     * @throws IllegalArgumentException naming the argument when n or k is below 1, pairs is below 1, or w is not
     *                                  {@code pairs·K²} long
     */
    public static Fit fit(Approx.Basis basis, int n, int k, float[] w, int pairs) {
        if (basis == null) {
            throw new IllegalArgumentException("basis expected COSINE or CHEBYSHEV, found null");
        }
        if (n < 1 || k < 1 || pairs < 1) {
            throw new IllegalArgumentException("n, k and pairs expected >= 1, found n=" + n + ", k=" + k + ", pairs=" + pairs);
        }
        if ((long) pairs * k * k != w.length) {
            throw new IllegalArgumentException("w expected " + pairs + "·" + k + "² = " + (long) pairs * k * k
                    + " values [pairs, K, K], found " + w.length);
        }
        DMatrixRMaj a = design(basis, n, k);
        int kk = k * k, nn = n * n;
        DMatrixRMaj target = new DMatrixRMaj(kk, pairs);
        DMatrixRMaj start = new DMatrixRMaj(nn, pairs);
        for (int f = 0; f < pairs; f++) {
            double mean = 0;
            for (int i = 0; i < kk; i++) {
                double v = w[f * kk + i];
                target.unsafe_set(i, f, v);
                mean += v;
            }
            // ApproxConv §3.4: the DC harmonic starts at the filter's mean, the others at 0.
            start.unsafe_set(0, f, mean / kk);
        }
        DMatrixRMaj residual = new DMatrixRMaj(kk, pairs);
        product(a, start, residual);
        for (int i = 0; i < kk; i++) {
            for (int f = 0; f < pairs; f++) {
                residual.unsafe_set(i, f, target.unsafe_get(i, f) - residual.unsafe_get(i, f));
            }
        }
        boolean under = n > k;
        LinearSolverDense<DMatrixRMaj> solver = under ? LinearSolverFactory_DDRM.pseudoInverse(true)
                : LinearSolverFactory_DDRM.leastSquares(kk, nn);
        if (!solver.setA(a.copy())) {
            throw new IllegalStateException("least squares: the " + kk + "x" + nn + " design matrix of " + basis + " (n=" + n + ", k=" + k
                    + ") could not be decomposed");
        }
        DMatrixRMaj step = new DMatrixRMaj(nn, pairs);
        solver.solve(residual, step);
        float[] coeff = new float[pairs * nn];
        DMatrixRMaj rounded = new DMatrixRMaj(nn, pairs);
        for (int f = 0; f < pairs; f++) {
            for (int j = 0; j < nn; j++) {
                float c = (float) (start.unsafe_get(j, f) + step.unsafe_get(j, f));
                coeff[f * nn + j] = c;
                rounded.unsafe_set(j, f, c);
            }
        }
        DMatrixRMaj fitted = new DMatrixRMaj(kk, pairs);
        product(a, rounded, fitted);
        double err = 0, norm = 0;
        for (int i = 0; i < kk; i++) {
            for (int f = 0; f < pairs; f++) {
                double t = target.unsafe_get(i, f);
                double d = t - fitted.unsafe_get(i, f);
                err += d * d;
                norm += t * t;
            }
        }
        return new Fit(coeff, err / ((double) pairs * kk), norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm), under);
    }

    /**
     * The {@code K² × N²} matrix {@code A[(u,v),(p,q)] = φ_p(x_u)·φ_q(x_v)} from the basis table of the kernels'
     * own helper ({@link ApproxKernels#basisLane}: the float values the layer synthesises with), in double.
     */
    static DMatrixRMaj design(Approx.Basis basis, int n, int k) {
        float[] t = new float[Approx.tableLength(n, k)];
        for (int u = 0; u < k; u++) {
            ApproxKernels.basisLane(t, basis.code(), n, k, basis.x0(), basis.x1(), u);
        }
        DMatrixRMaj a = new DMatrixRMaj(k * k, n * n);
        for (int u = 0; u < k; u++) {
            for (int v = 0; v < k; v++) {
                for (int p = 0; p < n; p++) {
                    for (int q = 0; q < n; q++) {
                        a.unsafe_set(u * k + v, p * n + q, (double) t[p * k + u] * t[q * k + v]);
                    }
                }
            }
        }
        return a;
    }

    /**
     * The kernels {@code ŵ [pairs, K, K]} that coefficients {@code a [pairs, N, N]} synthesise (eqs. (3)–(4)),
     * in double from the same table, rounded once to float: for reports and tests.
     */
    public static float[] synthesize(Approx.Basis basis, int n, int k, float[] coefficients, int pairs) {
        DMatrixRMaj a = design(basis, n, k);
        DMatrixRMaj c = new DMatrixRMaj(n * n, pairs);
        for (int f = 0; f < pairs; f++) {
            for (int j = 0; j < n * n; j++) {
                c.unsafe_set(j, f, coefficients[f * n * n + j]);
            }
        }
        DMatrixRMaj w = new DMatrixRMaj(k * k, pairs);
        product(a, c, w);
        float[] out = new float[pairs * k * k];
        for (int f = 0; f < pairs; f++) {
            for (int i = 0; i < k * k; i++) {
                out[f * k * k + i] = (float) w.unsafe_get(i, f);
            }
        }
        return out;
    }

    /**
     * {@code out = a·b} of rectangular matrices in double, as plain loops: {@code CommonOps_DDRM.mult} has another
     * return type in the EJML Prism builds with than in EJML 0.38, which a TornadoVM SDK puts on the JVM's path, so
     * a call compiled against one fails with {@code NoSuchMethodError} on the other (measured: 16 errors in the
     * fitting tests under {@code -Ptornado}); {@code FrechetDistance.multiply} is plain loops for the same reason.
     */
    static void product(DMatrixRMaj a, DMatrixRMaj b, DMatrixRMaj out) {
        int rows = a.getNumRows(), inner = a.getNumCols(), cols = b.getNumCols();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int l = 0; l < inner; l++) {
                    sum += a.unsafe_get(i, l) * b.unsafe_get(l, j);
                }
                out.unsafe_set(i, j, sum);
            }
        }
    }
}
