package dev.prism.kernels;

/**
 * Orthonormal 2-D DCT-II and its inverse (the orthonormal DCT-III) over the last two axes of
 * {@code x[N,C,H,W]}, for any H, W ≥ 1, as {@code scipy.fft.dctn(x, type=2, norm='ortho', axes=(-2,-1))}
 * and {@code idctn} compute them; and the low-frequency mask of the dimensionality-varying diffusion
 * process (DVDP §3: the image is split into orthogonal DCT components, and the high-frequency ones are
 * dropped as the noise grows).
 *
 * <p>For a length {@code n} the orthonormal DCT-II matrix is
 * <pre>
 *   D[k][j] = s_k · cos(π (2j + 1) k / (2n)),   s_0 = √(1/n),  s_k = √(2/n) for k ≥ 1
 * </pre>
 * so {@code X = D_H · x · D_Wᵀ} per plane and, D being orthogonal, {@code x = D_Hᵀ · X · D_W}.
 * Both transforms run as two separable passes of one kernel, {@link #pass}: first along W, then along
 * H. The pass multiplies every row by a matrix read from a <em>table</em>, a {@code float[2n²]} that
 * holds D (row-major, row k = basis vector k) in {@code [0, n²)} and Dᵀ in {@code [n², 2n²)}, written by
 * {@link #table}. Holding both orientations keeps the inner loop contiguous in the table and the data
 * for the forward and the inverse transform alike, which differ only in the half they read.
 *
 * <p>Checked launch factories: {@link Dct}.
 */
public final class DctKernels {
    private DctKernels() {
    }

    /**
     * Writes the table of the length-{@code n} orthonormal DCT-II: {@code t[k·n + j] = D[k][j]} and
     * {@code t[n² + j·n + k] = D[k][j]}, each value computed in double and rounded once to float.
     * One work-item per frequency k, which writes row k of D and column k of Dᵀ.
     */
    public static void table(float[] t, int n) {
        for (@Parallel int k = 0; k < n; k++) {
            tableRow(t, n, k);
        }
    }

    /** Row {@code k} of D and column {@code k} of Dᵀ. */
    public static void tableRow(float[] t, int n, int k) {
        double scale = Math.sqrt((k == 0 ? 1.0 : 2.0) / n);
        int n2 = n * n;
        for (int j = 0; j < n; j++) {
            // The phase (2j+1)k/(4n) of a full turn, reduced exactly in integers before the cosine so
            // that large k·j lose no precision: cos(π m / (2n)) with m = (2j+1)k mod 4n.
            int m = (int) (((long) (2 * j + 1) * k) % (4L * n));
            float v = (float) (scale * Math.cos(Math.PI * m / (2.0 * n)));
            t[k * n + j] = v;
            t[n2 + j * n + k] = v;
        }
    }

    /**
     * One separable pass: {@code out[p, k, i] = Σ_j M[k][j] · in[p, i, j]} for every plane p of
     * {@code in[planes, h, w]}, with {@code M[k][j] = table[offset + k·w + j]} ({@code w×w}), written
     * transposed into {@code out[planes, w, h]}. Writing the result transposed makes the next pass a
     * transform of contiguous rows again, so one kernel serves both axes: the 2-D transform is this pass
     * over (h, w) and then over (w, h). M = D ({@code offset = 0}) gives the DCT-II, M = Dᵀ
     * ({@code offset = w²}) the inverse. Reads {@code in} and {@code table}, writes {@code out}. One
     * work-item per (plane p, input row i).
     */
    public static void pass(float[] in, float[] table, int offset, float[] out, int planes, int h, int w) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                passRow(in, table, offset, out, planes, h, w, p, i);
            }
        }
    }

    /**
     * Row {@code i} of plane {@code p} of {@link #pass}. Four outputs share each load of the input row
     * (four independent sums, each over j in order); the loop over j reads the row and four table rows
     * contiguously and stores nothing, so it runs from registers.
     */
    public static void passRow(float[] in, float[] table, int offset, float[] out, int planes, int h, int w, int p, int i) {
        int row = (p * h + i) * w;
        int col = p * w * h + i;
        int k = 0;
        for (; k + 3 < w; k += 4) {
            int m0 = offset + k * w;
            int m1 = m0 + w;
            int m2 = m1 + w;
            int m3 = m2 + w;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            for (int j = 0; j < w; j++) {
                float x = in[row + j];
                s0 += table[m0 + j] * x;
                s1 += table[m1 + j] * x;
                s2 += table[m2 + j] * x;
                s3 += table[m3 + j] * x;
            }
            out[col + k * h] = s0;
            out[col + (k + 1) * h] = s1;
            out[col + (k + 2) * h] = s2;
            out[col + (k + 3) * h] = s3;
        }
        for (; k < w; k++) {
            int m = offset + k * w;
            float s = 0f;
            for (int j = 0; j < w; j++) {
                s += table[m + j] * in[row + j];
            }
            out[col + k * h] = s;
        }
    }

    /**
     * Keeps the lowest-frequency {@code k×k} block of every {@code [H,W]} plane of DCT coefficients and
     * zeroes the rest: {@code y[p,u,v] = x[p,u,v]} if {@code u < k} and {@code v < k}, else 0 (DVDP §3:
     * the dropped components are the high-frequency DCT coefficients). The map is a diagonal 0/1 matrix,
     * so it is its own transpose and serves as its own backward pass. Reads {@code x}, writes {@code y}.
     * One work-item per (plane p, row u).
     */
    public static void lowpass(float[] x, float[] y, int planes, int h, int w, int k) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int u = 0; u < h; u++) {
                lowpassRow(x, y, planes, h, w, k, p, u);
            }
        }
    }

    /** Row {@code u} of plane {@code p} of {@link #lowpass}. */
    public static void lowpassRow(float[] x, float[] y, int planes, int h, int w, int k, int p, int u) {
        int row = (p * h + u) * w;
        // Rows at or past k keep no column; the others keep columns [0, k).
        int keep = u < k ? k : 0;
        for (int v = 0; v < keep; v++) {
            y[row + v] = x[row + v];
        }
        for (int v = keep; v < w; v++) {
            y[row + v] = 0f;
        }
    }
}
