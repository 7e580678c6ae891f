package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Checked launches of group normalisation ({@link NormKernels}): {@code x[N,C,H,W]}, {@code groups}
 * dividing C (1 and C included), {@code gamma[C]}, {@code beta[C]}, statistics {@code stats[N·groups·2]},
 * backward scratch {@code partials[N·C·2]}.
 *
 * <p>Affine parameters are optional: pass {@code gamma} and {@code beta} both null for
 * {@code F.group_norm(x, G, None, None, eps)}. The factory then hands the kernels an identity
 * {@code γ = 1, β = 0} of its own, which gives bit for bit what a kernel without γ and β would
 * (multiplying by 1 and adding 0 are exact), and the backward skips the parameter gradients.
 *
 * <p>{@code y} and {@code gx} must be arrays distinct from {@code x} and {@code gy}: the backward needs
 * the forward input unchanged.
 */
public final class Norm {
    private static final Kernel STATS = Kernel.of("norm.groupStats", "groupStatsLane").vector("NormVector", "groupStatsLanes");
    private static final Kernel APPLY = Kernel.of("norm.groupApply", "groupApplyRow").vector("NormVector", "groupApplyRows");
    private static final Kernel PARTIALS = Kernel.of("norm.groupBackwardPartials", "groupBackwardPartialsLane")
            .vector("NormBackwardVector", "groupBackwardPartialsLanes");
    private static final Kernel PARAMS = Kernel.of("norm.groupBackwardParams", "groupBackwardParamsLane");
    private static final Kernel BACKWARD = Kernel.of("norm.groupBackward", "groupBackwardGroup")
            .vector("NormBackwardVector", "groupBackwardGroups");
    private static final Kernel INPUT = Kernel.of("norm.groupBackwardInput", "groupBackwardInputRow")
            .vector("NormBackwardVector", "groupBackwardInputRows");

    private static final Kernel PIXEL = Kernel.of("norm.pixelNorm", "pixelNormRow");
    private static final Kernel PIXEL_BACKWARD = Kernel.of("norm.pixelNormBackward", "pixelNormBackwardRow");

    private Norm() {
    }

    /**
     * Forward: {@link #groupStats}, then {@link #groupApply}. Writes {@code stats} and {@code y}
     * ({@code y = F.group_norm(x, groups, gamma, beta, eps)}, then {@code F.silu} when {@code silu}).
     */
    public static List<Launch> groupNorm(float[] x, float[] gamma, float[] beta, float[] stats, float[] y,
                                         int n, int c, int h, int w, int groups, float eps, boolean silu) {
        return List.of(groupStats(x, stats, n, c, h, w, groups, eps),
                groupApply(x, stats, gamma, beta, y, n, c, h, w, groups, silu));
    }

    /** Writes {@code stats[2q] = mean}, {@code stats[2q+1] = 1/√(var + eps)} for each group {@code q = n·G + g}. */
    public static Launch groupStats(float[] x, float[] stats, int n, int c, int h, int w, int groups, float eps) {
        Check k = shape("norm.groupStats", n, c, h, w, groups);
        k.that(eps > 0 && Float.isFinite(eps), "eps", "a finite number > 0", eps);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("stats", stats, 2L * n * groups).distinct("x", x, "stats", stats);
        return STATS.with(x, stats, n, c, h * w, groups, eps).writes(1).grid(n * groups)
                .launch(4L * size, 4L * size + 8L * n * groups);
    }

    /**
     * {@code y = (x − mean)·rstd·γ + β}, then SiLU when {@code silu}; reads the {@code stats} of
     * {@link #groupStats}; writes {@code y}. {@code gamma} and {@code beta}: both {@code [C]}, or both null.
     */
    public static Launch groupApply(float[] x, float[] stats, float[] gamma, float[] beta, float[] y,
                                    int n, int c, int h, int w, int groups, boolean silu) {
        Check k = shape("norm.groupApply", n, c, h, w, groups);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("stats", stats, 2L * n * groups).length("y", y, size)
                .distinct("x", x, "y", y);
        float[] g = gammaOrOne(k, gamma, beta, c);
        float[] b = betaOrZero(beta, c);
        return APPLY.with(x, stats, g, b, y, n, c, h, w, groups, silu ? 1 : 0).writes(4).grid(n * c, h).owned(owned(gamma, g, b))
                .launch((silu ? 8L : 3L) * size, 8L * size + 8L * n * groups + 8L * c);
    }

    /**
     * Backward of {@link #groupNorm}: {@link #groupBackward} (the per-plane sums and the input gradient, one group of one
     * batch item at a time), then (affine only) {@link #groupBackwardParams}. Reads the forward's {@code x} and
     * {@code stats}; writes {@code partials}, {@code gx} and, when affine, {@code gGamma} and {@code gBeta}.
     * Without affine parameters pass {@code gamma}, {@code beta}, {@code gGamma}, {@code gBeta} all null.
     */
    public static List<Launch> groupNormBackward(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                                 float[] partials, float[] gx, float[] gGamma, float[] gBeta,
                                                 int n, int c, int h, int w, int groups, boolean silu) {
        return groupNormBackward(x, gy, stats, gamma, beta, partials, gx, null, gGamma, gBeta, n, c, h, w, groups, silu);
    }

    /**
     * {@link #groupNormBackward(float[], float[], float[], float[], float[], float[], float[], float[], float[], int, int,
     * int, int, int, boolean)} with {@code addend} (when not null) added to the input gradient: {@code gx = ∂L/∂x + addend},
     * the sum of a gradient that already reached {@code x} by another path and this one, in the same launch.
     */
    public static List<Launch> groupNormBackward(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                                 float[] partials, float[] gx, float[] addend, float[] gGamma, float[] gBeta,
                                                 int n, int c, int h, int w, int groups, boolean silu) {
        Check k = shape("norm.groupNormBackward", n, c, h, w, groups);
        boolean affine = gamma != null;
        k.that((gGamma != null) == affine, "gGamma", affine ? "an array when 'gamma' is given" : "null when 'gamma' is null",
                        gGamma == null ? "null" : "an array")
                .that((gBeta != null) == affine, "gBeta", affine ? "an array when 'gamma' is given" : "null when 'gamma' is null",
                        gBeta == null ? "null" : "an array");
        List<Launch> out = new ArrayList<>(2);
        out.add(groupBackward(x, gy, stats, gamma, beta, partials, gx, addend, n, c, h, w, groups, silu));
        if (affine) {
            out.add(groupBackwardParams(partials, gGamma, gBeta, n, c));
        }
        return List.copyOf(out);
    }

    /**
     * {@link #groupBackwardPartials} and {@link #groupBackwardInput} as one launch that runs them one group of one batch
     * item at a time ({@link NormKernels#groupBackward}, {@code n·groups} work-items): the same values, with the group's
     * {@code x} and {@code gy} read again from cache. Writes {@code partials} and {@code gx}.
     */
    public static Launch groupBackward(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                       float[] gx, int n, int c, int h, int w, int groups, boolean silu) {
        return groupBackward(x, gy, stats, gamma, beta, partials, gx, null, n, c, h, w, groups, silu);
    }

    /**
     * {@link #groupBackward(float[], float[], float[], float[], float[], float[], float[], int, int, int, int, int, boolean)}
     * with {@code addend} (when not null, as long as {@code x}, not {@code gx} nor {@code partials}) added to each element
     * of {@code gx}; without it the kernel gets a one-float stand-in it does not read.
     */
    public static Launch groupBackward(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta, float[] partials,
                                       float[] gx, float[] addend, int n, int c, int h, int w, int groups, boolean silu) {
        Check k = shape("norm.groupBackward", n, c, h, w, groups);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("gy", gy, size).length("stats", stats, 2L * n * groups)
                .length("partials", partials, 2L * n * c).length("gx", gx, size)
                .distinct("x", x, "gx", gx).distinct("gy", gy, "gx", gx).distinct("partials", partials, "gx", gx)
                .distinct("x", x, "partials", partials).distinct("gy", gy, "partials", partials);
        if (addend != null) {
            k.length("addend", addend, size).distinct("addend", addend, "gx", gx).distinct("addend", addend, "partials", partials);
        }
        float[] g = gammaOrOne(k, gamma, beta, c);
        float[] b = betaOrZero(beta, c);
        float[] a = addend != null ? addend : new float[1];
        float[][] owned = owned(gamma, g, b);
        if (addend == null) {
            owned = java.util.Arrays.copyOf(owned, owned.length + 1);
            owned[owned.length - 1] = a;
        }
        return BACKWARD.with(x, gy, stats, g, b, partials, gx, n, c, h, w, groups, silu ? 1 : 0, a, addend != null ? 1 : 0)
                .writes(5, 6).grid(n * groups).owned(owned)
                .launch((silu ? 26L : 10L) * size + (addend != null ? size : 0), 12L * size + 8L * n * c + (addend != null ? 4L * size : 0));
    }

    /**
     * Per-plane sums of the backward into {@code partials[N·C·2]}: {@code Σ g'} and {@code Σ g'·x̂}, with
     * {@code g' = gy} or, when {@code silu}, {@code gy·silu'(v)}. Writes {@code partials}.
     */
    public static Launch groupBackwardPartials(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                               float[] partials, int n, int c, int h, int w, int groups, boolean silu) {
        Check k = shape("norm.groupBackwardPartials", n, c, h, w, groups);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("gy", gy, size).length("stats", stats, 2L * n * groups)
                .length("partials", partials, 2L * n * c);
        float[] g = gammaOrOne(k, gamma, beta, c);
        float[] b = betaOrZero(beta, c);
        return PARTIALS.with(x, gy, stats, g, b, partials, n, c, h * w, groups, silu ? 1 : 0).writes(5).grid(n * c)
                .owned(owned(gamma, g, b)).launch((silu ? 12L : 4L) * size, 8L * size + 8L * n * c);
    }

    /** {@code gGamma[c] = Σ_n Σ g'·x̂}, {@code gBeta[c] = Σ_n Σ g'} from {@code partials}; writes both. */
    public static Launch groupBackwardParams(float[] partials, float[] gGamma, float[] gBeta, int n, int c) {
        Check k = Check.of("norm.groupBackwardParams").positive("n", n).positive("c", c);
        k.length("partials", partials, 2L * n * c).length("gGamma", gGamma, c).length("gBeta", gBeta, c)
                .distinct("gGamma", gGamma, "gBeta", gBeta);
        return PARAMS.with(partials, gGamma, gBeta, n, c).writes(1, 2).grid(c).launch(2L * n * c, 8L * n * c + 8L * c);
    }

    /** {@code gx} from {@code x}, {@code gy}, {@code stats} and the {@code partials}; writes {@code gx}. */
    public static Launch groupBackwardInput(float[] x, float[] gy, float[] stats, float[] gamma, float[] beta,
                                            float[] partials, float[] gx, int n, int c, int h, int w, int groups,
                                            boolean silu) {
        Check k = shape("norm.groupBackwardInput", n, c, h, w, groups);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("gy", gy, size).length("stats", stats, 2L * n * groups)
                .length("partials", partials, 2L * n * c).length("gx", gx, size)
                .distinct("x", x, "gx", gx).distinct("gy", gy, "gx", gx);
        float[] g = gammaOrOne(k, gamma, beta, c);
        float[] b = betaOrZero(beta, c);
        return INPUT.with(x, gy, stats, g, b, partials, gx, n, c, h, w, groups, silu ? 1 : 0).writes(6).grid(n * c, h)
                .owned(owned(gamma, g, b)).launch((silu ? 14L : 6L) * size, 12L * size + 8L * n * c);
    }

    private static Check shape(String kernel, int n, int c, int h, int w, int groups) {
        Check k = Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w)
                .positive("groups", groups);
        return k.that(c % groups == 0, "groups", "a divisor of c = " + c, groups);
    }

    /** Checks the affine pair and returns γ, or ones when there is none. */
    private static float[] gammaOrOne(Check k, float[] gamma, float[] beta, int c) {
        k.that((gamma == null) == (beta == null), "beta", gamma == null ? "null when 'gamma' is null" : "an array when 'gamma' is given",
                beta == null ? "null" : "an array");
        if (gamma == null) {
            float[] ones = new float[c];
            Arrays.fill(ones, 1f);
            return ones;
        }
        k.length("gamma", gamma, c).length("beta", beta, c);
        return gamma;
    }

    /** The unit scales and zero shifts this class made in place of absent affine parameters, if any. */
    private static float[][] owned(float[] gamma, float[] g, float[] b) {
        return gamma == null ? new float[][] {g, b} : new float[0][];
    }

    private static float[] betaOrZero(float[] beta, int c) {
        return beta == null ? new float[c] : beta;
    }

    /** {@code y = x / √(mean(x², dim=1) + eps)} over {@code x[rows, n]} (StyleGAN's PixelNorm); writes {@code y}. */
    public static Launch pixelNorm(float[] x, float[] y, int rows, int n, float eps) {
        Check k = Check.of("norm.pixelNorm").positive("rows", rows).positive("n", n);
        k.that(eps > 0 && Float.isFinite(eps), "eps", "a finite number > 0", eps);
        int size = k.size("x", rows, n);
        k.length("x", x, size).length("y", y, size).distinct("x", x, "y", y);
        return PIXEL.with(x, y, rows, n, eps).writes(1).grid(rows).launch(3L * size, 8L * size);
    }

    /** Backward of {@link #pixelNorm} from its input {@code x}; writes {@code gx}, distinct from {@code x} and {@code gy}. */
    public static Launch pixelNormBackward(float[] x, float[] gy, float[] gx, int rows, int n, float eps) {
        Check k = Check.of("norm.pixelNormBackward").positive("rows", rows).positive("n", n);
        k.that(eps > 0 && Float.isFinite(eps), "eps", "a finite number > 0", eps);
        int size = k.size("x", rows, n);
        k.length("x", x, size).length("gy", gy, size).length("gx", gx, size).distinct("x", x, "gx", gx).distinct("gy", gy, "gx", gx);
        return PIXEL_BACKWARD.with(x, gy, gx, rows, n, eps).writes(2).grid(rows).launch(6L * size, 12L * size);
    }
}
