package dev.prism.kernels;

/**
 * The element-wise and reduction parts of wavelet gating (Spectral Diffusion §5.1): the gate
 * {@code g = sigmoid(FFN(AvgPool(X)))} scores each wavelet band; WG-Down sums the DWT sub-bands weighted
 * by their gates, WG-Up splits its input into four chunks taken as sub-bands, weights each by its gate
 * and feeds them to the IDWT. The DWT/IDWT and the FFN are other families; these kernels are the
 * pooling, the gated sum, the gating, and the reductions of their backward passes.
 *
 * <p>Layouts: sub-bands are band-major {@code y[N, 4, C, h, w]} (cA, cH, cV, cD, as {@link HaarKernels}
 * writes them, the same memory as {@code [N, 4C, h, w]}); gates are {@code g[N, 4, G]} with
 * {@code G = 1} (one gate per band and sample, the paper's "gating score of each wavelet band") or
 * {@code G = C} (one per band and channel). The gate of (n, band k, channel c) is
 * {@code g[(n·4 + k)·G + c mod G]}, which picks index 0 when G = 1 and c when G = C without a branch.
 *
 * <p>Checked launch factories: {@link Gating}.
 */
public final class GatingKernels {
    private GatingKernels() {
    }

    /**
     * {@code out[r] = scale · Σ_j in[r·len + j]} for {@code rows} rows of length {@code len}, summed in
     * double ({@link Sums}) and rounded to float once.
     * The average pool is this with {@code scale = 1/(H·W)}; the per-channel partial gate gradients are
     * reduced by it with {@code scale = 1}. Reads {@code in}, writes {@code out}. One work-item per row.
     */
    public static void rowSums(float[] in, float[] out, int rows, int len, float scale) {
        for (@Parallel int r = 0; r < rows; r++) {
            rowSumsLane(in, out, rows, len, scale, r);
        }
    }

    /** Row {@code r} of {@link #rowSums}. */
    public static void rowSumsLane(float[] in, float[] out, int rows, int len, float scale, int r) {
        out[r] = (float) (scale * Sums.sum(in, r * len, len));
    }

    /**
     * {@code out[p, y, :] = scale · in[p]}: the backward of the average pool, {@code gx = gm / (H·W)}
     * broadcast over each plane. Reads {@code in[planes]}, writes {@code out[planes, h, w]}. One
     * work-item per (plane p, row y).
     */
    public static void broadcast(float[] in, float[] out, int planes, int h, int w, float scale) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int y = 0; y < h; y++) {
                broadcastRow(in, out, planes, h, w, scale, p, y);
            }
        }
    }

    /** Row {@code y} of plane {@code p} of {@link #broadcast}. */
    public static void broadcastRow(float[] in, float[] out, int planes, int h, int w, float scale, int p, int y) {
        float v = scale * in[p];
        int o = (p * h + y) * w;
        for (int x = 0; x < w; x++) {
            out[o + x] = v;
        }
    }

    /**
     * WG-Down's gated band sum (Spectral Diffusion §5.1): {@code out[n,c,:,:] = Σ_k g[n,k,c mod G] ·
     * y[n,k,c,:,:]}, k = 0 … 3 in order. Reads {@code y[N,4,C,h,w]} and {@code g[N,4,G]}, writes
     * {@code out[N,C,h,w]}. One work-item per (n·C + c, row i).
     */
    public static void gatedSum(float[] y, float[] g, float[] out, int n, int c, int h, int w, int gates) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                gatedSumRow(y, g, out, n, c, h, w, gates, p, i);
            }
        }
    }

    /** Row {@code i} of output plane {@code p = n·C + c}. */
    public static void gatedSumRow(float[] y, float[] g, float[] out, int n, int c, int h, int w, int gates, int p, int i) {
        int b = p / c;
        int ch = p - b * c;
        int band = c * h * w;
        int src = ((b * 4 * c) + ch) * h * w + i * w;
        int dst = p * h * w + i * w;
        int gi = b * 4 * gates + ch % gates;
        float g0 = g[gi];
        float g1 = g[gi + gates];
        float g2 = g[gi + 2 * gates];
        float g3 = g[gi + 3 * gates];
        for (int x = 0; x < w; x++) {
            out[dst + x] = g0 * y[src + x] + g1 * y[src + band + x] + g2 * y[src + 2 * band + x]
                    + g3 * y[src + 3 * band + x];
        }
    }

    /**
     * Band gating: {@code z[n,k,c,:,:] = g[n,k,c mod G] · x[n, k·perBand, c, :, :]}. With
     * {@code perBand = 1}, {@code x[N,4,C,h,w]} holds one plane per band: WG-Up's gating of the four
     * chunks (Spectral Diffusion §5.1), and the input gradient of that gating. With {@code perBand = 0},
     * {@code x[N,C,h,w]} is shared by the four bands: the band gradient {@code gy = g·gout} of WG-Down's
     * gated sum. Reads {@code x} and {@code g}, writes {@code z[N,4,C,h,w]}. One work-item per
     * ((n·4 + k)·C + c, row i).
     */
    public static void bandGate(float[] x, int perBand, float[] g, float[] z, int n, int c, int h, int w, int gates) {
        for (@Parallel int q = 0; q < n * 4 * c; q++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                bandGateRow(x, perBand, g, z, n, c, h, w, gates, q, i);
            }
        }
    }

    /** Row {@code i} of output plane {@code q = (n·4 + k)·C + c}. */
    public static void bandGateRow(float[] x, int perBand, float[] g, float[] z, int n, int c, int h, int w, int gates,
                                   int q, int i) {
        int nk = q / c;
        int ch = q - nk * c;
        int b = nk / 4;
        int k = nk - b * 4;
        int src = ((b * (1 + 3 * perBand) + k * perBand) * c + ch) * h * w + i * w;
        int dst = q * h * w + i * w;
        float gv = g[nk * gates + ch % gates];
        for (int x0 = 0; x0 < w; x0++) {
            z[dst + x0] = gv * x[src + x0];
        }
    }

    /**
     * Per (n, band k, channel c), {@code q = (n·4 + k)·C + c}: the dot product
     * {@code d_q = Σ_j y[n,k,c,j] · z[n, k·perBand, c, j]} over the {@code hw} elements of a plane, summed
     * in double ({@link Sums}). With {@code pairs = 0} it is written rounded, {@code out[q] = d_q}: the gate
     * gradient for G = C. With {@code pairs = 1} it is written as the pair {@code out[2q], out[2q + 1]}
     * ({@link Sums#storeSplit}): the partial sums that {@link #rowSums} reduces over the channels for
     * G = 1 (a row of 2C floats whose sum is the sum of the C partials, unrounded). {@code perBand = 0}
     * with z the output gradient of WG-Down, {@code perBand = 1} with z the output gradient of WG-Up.
     * Reads {@code y[N,4,C,hw]}, {@code z}, writes {@code out[N·4·C]} or {@code out[2·N·4·C]}. One
     * work-item per (n, k, c).
     */
    public static void bandDot(float[] y, float[] z, int perBand, float[] out, int pairs, int n, int c, int hw) {
        for (@Parallel int q = 0; q < n * 4 * c; q++) {
            bandDotLane(y, z, perBand, out, pairs, n, c, hw, q);
        }
    }

    /** Output {@code q = (n·4 + k)·C + c} of {@link #bandDot}. */
    public static void bandDotLane(float[] y, float[] z, int perBand, float[] out, int pairs, int n, int c, int hw, int q) {
        int nk = q / c;
        int ch = q - nk * c;
        int b = nk / 4;
        int k = nk - b * 4;
        int ys = q * hw;
        int zs = ((b * (1 + 3 * perBand) + k * perBand) * c + ch) * hw;
        double d = Sums.dot(y, ys, z, zs, hw);
        if (pairs != 0) {
            Sums.storeSplit(out, 2 * q, d);
        } else {
            out[q] = (float) d;
        }
    }
}
