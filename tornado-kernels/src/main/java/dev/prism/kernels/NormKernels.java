package dev.prism.kernels;

/**
 * Group normalisation, {@code F.group_norm(x, G, gamma, beta, eps)}, optionally followed by SiLU
 * ({@code F.silu(F.group_norm(...))}, the pair that opens every UNet block), with its backward pass.
 *
 * <p>For {@code x[N,C,H,W]} and G groups of {@code Cg = C/G} channels, group {@code q = n·G + g} holds
 * the {@code M = Cg·H·W} elements of channels {@code g·Cg .. (g+1)·Cg − 1} of sample n, which are
 * contiguous in memory: {@code x[q·M .. (q+1)·M)}. With {@code μ_q} their mean and
 * {@code r_q = 1/√(var_q + eps)} (biased variance, as PyTorch):
 * <pre>
 *   x̂ = (x − μ_q)·r_q        v = γ_c·x̂ + β_c        y = v   or   y = silu(v)
 * </pre>
 *
 * <p>Buffers: {@code stats[N·G·2]} holds {@code (μ_q, r_q)} at {@code [2q], [2q+1]}, written by
 * {@link #groupStats} and reused by the backward; {@code partials[N·C·2]} is backward scratch holding,
 * per plane {@code p = n·C + c}, {@code A_p = Σ g'} and {@code B_p = Σ g'·x̂} over its H·W elements,
 * where {@code g'} is the gradient reaching v ({@code gy}, or {@code gy·silu'(v)} when fused).
 *
 * <p>Backward (per group, sums over the group's M elements):
 * <pre>
 *   gγ_c = Σ_n B_(n,c)      gβ_c = Σ_n A_(n,c)
 *   gx   = r·(γ_c·g' − (1/M)·Σ γ·g' − x̂·(1/M)·Σ γ·g'·x̂)
 *        = r·γ_c·g' − r²·(Σ_c γ_c B)/M·(x − μ) − r·(Σ_c γ_c A)/M
 * </pre>
 * Every cross-lane sum is a separate kernel (partials per plane, then the reductions), so results are
 * bit-identical for any thread count. Checked launch factories: {@link Norm}.
 */
public final class NormKernels {
    private NormKernels() {
    }

    /**
     * Writes {@code stats[2q] = μ_q}, {@code stats[2q+1] = 1/√(var_q + eps)}: two passes over the
     * group (the mean, then the mean squared deviation from it), both summed in double ({@link Sums}). One
     * work-item per group {@code q = n·G + g}.
     */
    public static void groupStats(float[] x, float[] stats, int n, int c, int hw, int groups, float eps) {
        for (@Parallel int q = 0; q < n * groups; q++) {
            groupStatsLane(x, stats, n, c, hw, groups, eps, q);
        }
    }

    /** Group {@code q} of {@link #groupStats}. */
    public static void groupStatsLane(float[] x, float[] stats, int n, int c, int hw, int groups, float eps, int q) {
        int m = (c / groups) * hw;
        int base = q * m;
        double mean = Sums.sum(x, base, m) / m;
        double var = Sums.squaredDeviations(x, base, m, mean) / m;
        stats[2 * q] = (float) mean;
        stats[2 * q + 1] = (float) (1.0 / Math.sqrt(var + eps));
    }

    /**
     * {@code y = (x − μ)·(r·γ_c) + β_c}, then SiLU when {@code silu != 0}; writes {@code y}. One
     * work-item per (plane {@code p = n·C + c}, row); the per-channel factors are loaded once per row.
     */
    public static void groupApply(float[] x, float[] stats, float[] gamma, float[] beta, float[] y,
                                  int n, int c, int h, int w, int groups, int silu) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                groupApplyRow(x, stats, gamma, beta, y, n, c, h, w, groups, silu, p, i);
            }
        }
    }

    /** Row {@code i} of plane {@code p} of {@link #groupApply}. */
    public static void groupApplyRow(float[] x, float[] stats, float[] gamma, float[] beta, float[] y,
                                     int n, int c, int h, int w, int groups, int silu, int p, int i) {
        int ch = p % c;
        int q = p / (c / groups);
        float mu = stats[2 * q];
        float a = stats[2 * q + 1] * gamma[ch];
        float b = beta[ch];
        int o = (p * h + i) * w;
        for (int j = 0; j < w; j++) {
            // (x − μ)·a rather than x·a − μ·a: no cancellation when |μ| is large against the spread.
            float v = (x[o + j] - mu) * a + b;
            y[o + j] = silu != 0 ? ActivationKernels.siluOf(v) : v;
        }
    }

    /**
     * Per-plane sums of the backward: {@code partials[2p] = Σ g'}, {@code partials[2p+1] = Σ g'·x̂} over
     * the H·W elements of plane {@code p = n·C + c}, with {@code g' = gy}, or {@code gy·silu'(v)} when
     * {@code silu != 0} (v recomputed from x, stats, γ, β). Writes {@code partials}. One work-item per plane.
     */
    public static void groupBackwardPartials(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                             float[] partials, int n, int c, int hw, int groups, int silu) {
        for (@Parallel int p = 0; p < n * c; p++) {
            groupBackwardPartialsLane(x, gy, stats, gamma, beta, partials, n, c, hw, groups, silu, p);
        }
    }

    /** Plane {@code p} of {@link #groupBackwardPartials}. */
    public static void groupBackwardPartialsLane(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                                 float[] partials, int n, int c, int hw, int groups, int silu, int p) {
        int ch = p % c;
        int q = p / (c / groups);
        float mu = stats[2 * q];
        float r = stats[2 * q + 1];
        float a = r * gamma[ch];
        float b = beta[ch];
        int o = p * hw;
        double sg = 0;
        double sgd = 0;
        for (int i = 0; i < hw; i++) {
            float d = x[o + i] - mu;
            float g = silu != 0 ? ActivationKernels.siluGradOf(d * a + b, gy[o + i]) : gy[o + i];
            sg += g;
            sgd += (double) g * d;
        }
        partials[2 * p] = (float) sg;
        partials[2 * p + 1] = (float) (sgd * r);
    }

    /**
     * {@link #groupBackwardPartials} and then {@link #groupBackwardInput} for the planes of one group of one batch item at a
     * time: writes {@code partials} and {@code gx}. One work-item per (batch item, group), {@code u = n·groups + q}, which
     * needs only its own planes' sums (a plane's coefficients sum over the channels of its group): the planes' {@code x}
     * and {@code gy} are read the second time while they are still in cache, where the two kernels one after the other
     * read the whole batch twice from memory. The same operations in the same order as those two kernels, so the same
     * bits. With {@code add != 0}, each element of {@code gx} then has {@code addend}'s element added in float (a gradient
     * that already reached the input, so that no separate {@code elementwise.add} reads and writes it all again: the same
     * bits as that add, float addition being commutative); {@code addend} is not read otherwise.
     */
    public static void groupBackward(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                     float[] gx, int n, int c, int h, int w, int groups, int silu, float[] addend, int add) {
        for (@Parallel int u = 0; u < n * groups; u++) {
            groupBackwardGroup(x, gy, stats, gamma, beta, partials, gx, n, c, h, w, groups, silu, addend, add, u);
        }
    }

    /**
     * Work-item {@code u} (batch item {@code u / groups}, group {@code u % groups}) of {@link #groupBackward}: its planes'
     * sums, then their rows, then (with {@code add}) {@code addend} added to them.
     */
    public static void groupBackwardGroup(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                          float[] gx, int n, int c, int h, int w, int groups, int silu, float[] addend,
                                          int add, int u) {
        int cg = c / groups;
        for (int k = 0; k < cg; k++) {
            groupBackwardPartialsLane(x, gy, stats, gamma, beta, partials, n, c, h * w, groups, silu, u * cg + k);
        }
        for (int k = 0; k < cg; k++) {
            for (int i = 0; i < h; i++) {
                groupBackwardInputRow(x, gy, stats, gamma, beta, partials, gx, n, c, h, w, groups, silu, u * cg + k, i);
            }
        }
        if (add != 0) {
            int m = cg * h * w;
            int o = u * m;
            for (int j = 0; j < m; j++) {
                gx[o + j] = gx[o + j] + addend[o + j];
            }
        }
    }

    /**
     * {@code gγ_c = Σ_n partials[2(nC+c)+1]}, {@code gβ_c = Σ_n partials[2(nC+c)]}; writes {@code gGamma}
     * and {@code gBeta}. One work-item per channel, summing over n in order.
     */
    public static void groupBackwardParams(float[] partials, float[] gGamma, float[] gBeta, int n, int c) {
        for (@Parallel int ch = 0; ch < c; ch++) {
            groupBackwardParamsLane(partials, gGamma, gBeta, n, c, ch);
        }
    }

    /** Channel {@code ch} of {@link #groupBackwardParams}. */
    public static void groupBackwardParamsLane(float[] partials, float[] gGamma, float[] gBeta, int n, int c, int ch) {
        double sb = 0;
        double sg = 0;
        for (int m = 0; m < n; m++) {
            int p = m * c + ch;
            sb += partials[2 * p];
            sg += partials[2 * p + 1];
        }
        gBeta[ch] = (float) sb;
        gGamma[ch] = (float) sg;
    }

    /**
     * {@code gx = k1·g' + k2·(x − μ) + k3} with {@code k1 = r·γ_c}, {@code k2 = −r²·(Σ γB)/M},
     * {@code k3 = −r·(Σ γA)/M}, the sums over the channels of the group (see the class comment); writes
     * {@code gx}. One work-item per (plane {@code p = n·C + c}, row).
     */
    public static void groupBackwardInput(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                          float[] partials, float[] gx, int n, int c, int h, int w, int groups,
                                          int silu) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                groupBackwardInputRow(x, gy, stats, gamma, beta, partials, gx, n, c, h, w, groups, silu, p, i);
            }
        }
    }

    /**
     * The coefficient {@code k2 = −r²·(Σ γB)/M} ({@code which == 2}) or {@code k3 = −r·(Σ γA)/M}
     * ({@code which == 3}) of {@link #groupBackwardInput} for plane {@code p}, the sums over the channels of
     * its group in double, in channel order.
     */
    public static float groupBackwardCoefficient(float[] stats, float[] gamma, float[] partials, int c, int hw,
                                                 int groups, int p, int which) {
        int cg = c / groups;
        int ch = p % c;
        int first = p - ch % cg;
        int firstCh = ch - ch % cg;
        int odd = which == 2 ? 1 : 0;
        double s = 0;
        for (int k = 0; k < cg; k++) {
            s += (double) gamma[firstCh + k] * partials[2 * (first + k) + odd];
        }
        double m = (double) cg * hw;
        double r = stats[2 * (p / cg) + 1];
        return (float) (which == 2 ? -r * r * s / m : -r * s / m);
    }

    /** Row {@code i} of plane {@code p} of {@link #groupBackwardInput}. */
    public static void groupBackwardInputRow(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                             float[] partials, float[] gx, int n, int c, int h, int w, int groups,
                                             int silu, int p, int i) {
        int ch = p % c;
        int q = p / (c / groups);
        float mu = stats[2 * q];
        float r = stats[2 * q + 1];
        float a = r * gamma[ch];
        float b = beta[ch];
        float k2 = groupBackwardCoefficient(stats, gamma, partials, c, h * w, groups, p, 2);
        float k3 = groupBackwardCoefficient(stats, gamma, partials, c, h * w, groups, p, 3);
        int o = (p * h + i) * w;
        for (int j = 0; j < w; j++) {
            float d = x[o + j] - mu;
            float g = silu != 0 ? ActivationKernels.siluGradOf(d * a + b, gy[o + j]) : gy[o + j];
            gx[o + j] = a * g + k2 * d + k3;
        }
    }

    // ---------------------------------------------------------------- pixel norm (StyleGAN's mapping network input)

    /**
     * {@code y[r,:] = x[r,:] / √(mean_i x[r,i]² + eps)} over {@code x[rows, n]} (StyleGAN's
     * {@code PixelNorm} with dim 1, which WaveDiff applies to the latent z); the mean in double
     * ({@link Sums}). Writes {@code y}. One work-item per row.
     */
    public static void pixelNorm(float[] x, float[] y, int rows, int n, float eps) {
        for (@Parallel int r = 0; r < rows; r++) {
            pixelNormRow(x, y, rows, n, eps, r);
        }
    }

    /** Row {@code r} of {@link #pixelNorm}. */
    public static void pixelNormRow(float[] x, float[] y, int rows, int n, float eps, int r) {
        int o = r * n;
        double inv = 1.0 / Math.sqrt(Sums.dot(x, o, x, o, n) / n + eps);
        for (int i = 0; i < n; i++) {
            y[o + i] = (float) (x[o + i] * inv);
        }
    }

    /**
     * Backward of {@link #pixelNorm}: with {@code ρ = 1/√(mean x² + eps)} per row,
     * {@code gx = ρ·gy − x·ρ³·(Σ_i gy_i·x_i)/n}. Writes {@code gx}. One work-item per row.
     */
    public static void pixelNormBackward(float[] x, float[] gy, float[] gx, int rows, int n, float eps) {
        for (@Parallel int r = 0; r < rows; r++) {
            pixelNormBackwardRow(x, gy, gx, rows, n, eps, r);
        }
    }

    /** Row {@code r} of {@link #pixelNormBackward}. */
    public static void pixelNormBackwardRow(float[] x, float[] gy, float[] gx, int rows, int n, float eps, int r) {
        int o = r * n;
        double inv = 1.0 / Math.sqrt(Sums.dot(x, o, x, o, n) / n + eps);
        double proj = Sums.dot(gy, o, x, o, n) / n * inv * inv * inv;
        for (int i = 0; i < n; i++) {
            gx[o + i] = (float) (inv * gy[o + i] - proj * x[o + i]);
        }
    }
}
