package dev.prism.kernels;

/**
 * CosConv / ChebConv kernel synthesis (ApproxConv §3.3): a {@code K×K} convolution kernel built from an
 * {@code N×N} array of series coefficients per (output, input) channel pair,
 * <pre>
 *   w[o,i,u,v] = Σ_p Σ_q a[o,i,p,q] · φ_p(x_u) · φ_q(x_v),     p, q = 0 … N−1,  u, v = 0 … K−1
 * </pre>
 * with {@code φ_p(x) = cos(p·x)} (CosConv, ApproxConv eq. (3)) or {@code φ_p = T_p}, the Chebyshev
 * polynomial of the first kind (ChebConv, ApproxConv eq. (4)), sampled at K equispaced points
 * {@code x_u = x0 + (x1 − x0)·u/(K−1)}. For {@code K = 1} the one sample point is the midpoint
 * {@code (x0 + x1)/2}; since {@code N ≤ K} forces N = 1 and {@code φ_0 ≡ 1}, it cannot change a result.
 *
 * <p>The sampled basis is a table {@code float[2·N·K]}: {@code B[p][u]} row-major in {@code [0, NK)}
 * and its transpose {@code Bᵀ[u][p]} in {@code [NK, 2NK)}, written by {@link #basis}. Per pair the
 * synthesis is {@code w = Bᵀ·a·B}; its backward is {@code ga = B·gw·Bᵀ}, the same congruence with the
 * transposed table, so {@link #synthesize} serves both: it computes {@code out = Mᵀ·in·M} for a
 * {@code P×R} matrix M read from the table at an offset.
 *
 * <p>Checked launch factories: {@link Approx}.
 */
public final class ApproxKernels {
    /** {@code kind} code of the cosine basis. */
    public static final int COSINE = 0;
    /** {@code kind} code of the Chebyshev basis. */
    public static final int CHEBYSHEV = 1;

    private ApproxKernels() {
    }

    /**
     * Writes the basis table for {@code n} functions at {@code k} sample points in {@code [x0, x1]}:
     * {@code t[p·k + u] = t[n·k + u·n + p] = φ_p(x_u)}, computed in double and rounded once to float.
     * {@code kind} is {@link #COSINE} or {@link #CHEBYSHEV}. One work-item per sample point u.
     */
    public static void basis(float[] t, int kind, int n, int k, float x0, float x1) {
        for (@Parallel int u = 0; u < k; u++) {
            basisLane(t, kind, n, k, x0, x1, u);
        }
    }

    /** Every basis function at sample point {@code u}. */
    public static void basisLane(float[] t, int kind, int n, int k, float x0, float x1, int u) {
        double a = x0, b = x1;
        double x = k == 1 ? 0.5 * (a + b) : a + (b - a) * u / (k - 1);
        int tr = n * k + u * n;
        if (kind == COSINE) {
            for (int p = 0; p < n; p++) {
                // ApproxConv eq. (3): φ_p(x) = cos(p·x).
                float v = (float) Math.cos(p * x);
                t[p * k + u] = v;
                t[tr + p] = v;
            }
        } else {
            // ApproxConv eq. (4): T_0 = 1, T_1 = x, T_{p+1} = 2x·T_p − T_{p−1}.
            double prev = 1.0;
            double cur = x;
            for (int p = 0; p < n; p++) {
                float v = (float) prev;
                t[p * k + u] = v;
                t[tr + p] = v;
                double next = 2.0 * x * cur - prev;
                prev = cur;
                cur = next;
            }
        }
    }

    /**
     * Per pair, {@code out[pair] = Mᵀ · in[pair] · M}: {@code out[pair, r, s] = Σ_p Σ_q in[pair, p, q] ·
     * M[p][r] · M[q][s]} with {@code M[p][r] = table[offset + p·R + r]}, {@code in[pairs, P, P]},
     * {@code out[pairs, R, R]}. Synthesis: M = B, P = N, R = K, offset 0; its backward: M = Bᵀ, P = K,
     * R = N, offset N·K. Reads {@code in} and {@code table}, writes {@code out}. One work-item per
     * (pair, output row r).
     */
    public static void synthesize(float[] in, float[] table, int offset, float[] out, int pairs, int pn, int rn) {
        for (@Parallel int pair = 0; pair < pairs; pair++) {
            for (@Parallel int r = 0; r < rn; r++) {
                synthesizeRow(in, table, offset, out, pairs, pn, rn, pair, r);
            }
        }
    }

    /**
     * Row {@code r} of pair {@code pair}: {@code out[r, :] = Σ_q c_q · M[q, :]} with
     * {@code c_q = Σ_p M[p][r] · in[p, q]}, q in order.
     */
    public static void synthesizeRow(float[] in, float[] table, int offset, float[] out, int pairs, int pn, int rn, int pair, int r) {
        int a = pair * pn * pn;
        int o = (pair * rn + r) * rn;
        float c0 = weight(in, table, offset, pn, rn, a, r, 0);
        for (int s = 0; s < rn; s++) {
            out[o + s] = c0 * table[offset + s];
        }
        for (int q = 1; q < pn; q++) {
            float c = weight(in, table, offset, pn, rn, a, r, q);
            int m = offset + q * rn;
            for (int s = 0; s < rn; s++) {
                out[o + s] += c * table[m + s];
            }
        }
    }

    /** {@code c_q = Σ_p M[p][r] · in[a + p·P + q]}, p in order. */
    private static float weight(float[] in, float[] table, int offset, int pn, int rn, int a, int r, int q) {
        float c = 0f;
        for (int p = 0; p < pn; p++) {
            c += table[offset + p * rn + r] * in[a + p * pn + q];
        }
        return c;
    }
}
