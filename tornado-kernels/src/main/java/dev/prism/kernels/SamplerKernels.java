package dev.prism.kernels;

/**
 * The one update of a diffusion sampler's reverse step, shared by DDPM ancestral sampling, DDIM and
 * DDGAN's posterior sampling: every such step is an affine map of the current image {@code x}, the
 * model output {@code e} and fresh noise {@code z}, with one optional clip in between.
 *
 * <p>Per element {@code i}, with the coefficients {@code c} of one step (layout {@link Sampler#INIT} ...
 * {@link Sampler#SIGMA}):
 * <pre>
 *   x̂0     = clamp(px·x[i] + pe·e[i], lo, hi)                   the predicted clean image
 *   out[i] = cx0·x̂0 + cx·x[i] + ce·e[i] + σ·z[i]                if init = 0
 *   out[i] = z[i]                                                 if init ≠ 0 (the first execution loads x_T)
 * </pre>
 * {@code lo = −1, hi = 1} clips the prediction to the data range; {@code lo = −∞, hi = +∞} leaves it
 * alone. For an ε-predicting model ({@code e = ε_θ(x_t, t)}) the prediction is DDPM eq. (15),
 * {@code x̂0 = (x_t − √(1−ᾱ_t)·ε)/√ᾱ_t}, so {@code px = 1/√ᾱ_t} and {@code pe = −√(1−ᾱ_t)/√ᾱ_t};
 * for a model that predicts {@code x0} itself (DDGAN's generator) {@code px = 0, pe = 1}. Then, with
 * {@code s} the step the sampler goes to ({@code t−1} for DDPM, the previous element of the
 * sub-sequence for DDIM, ᾱ of "step −1" being 1):
 * <ul>
 *   <li>DDPM ancestral (Ho et al. 2020, Algorithm 2): the posterior q(x_{t−1} | x_t, x̂0) of
 *       eq. (6)–(7), mean {@code √ᾱ_{t−1}·β_t/(1−ᾱ_t)·x̂0 + √α_t·(1−ᾱ_{t−1})/(1−ᾱ_t)·x_t} and variance
 *       {@code β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t)·β_t}: {@code cx0 = √ᾱ_{t−1}·β_t/(1−ᾱ_t)},
 *       {@code cx = √α_t·(1−ᾱ_{t−1})/(1−ᾱ_t)}, {@code ce = 0}, {@code σ = √β̃_t}. Without clipping this
 *       is exactly eq. (11), {@code μ = (x_t − β_t/√(1−ᾱ_t)·ε)/√α_t}. DDGAN's posterior sampling
 *       (Xiao et al. 2022, WaveDiff) is the same map with {@code px = 0, pe = 1}.</li>
 *   <li>DDIM (Song et al. 2021, eq. (12)):
 *       {@code x_s = √ᾱ_s·x̂0 + √(1−ᾱ_s−σ²)·ε + σ·z} with σ of eq. (16):
 *       {@code cx0 = √ᾱ_s}, {@code cx = 0}, {@code ce = √(1−ᾱ_s−σ²)}. For an x0-predicting model the
 *       direction ε is {@code (x_t − √ᾱ_t·x0)/√(1−ᾱ_t)}, which folds into {@code cx} and {@code ce}.</li>
 * </ul>
 * The coefficients arrive in a {@code float[]} because they change every step (docs/KERNELS.md,
 * per-step scalars); {@code dev.prism.diffusion} computes them in double on the host.
 *
 * <p>Layout: all arrays flat, {@code len} elements ({@code [N,C,H,W]} row-major, but the update does
 * not care). Writes {@code out}, which may be {@code x} itself (each work-item reads element i of its
 * inputs before it writes element i). One work-item per element. Checked launch factory:
 * {@link Sampler}.
 */
public final class SamplerKernels {
    private SamplerKernels() {
    }

    /** {@code out = update(x, e, z; c)} (see the class comment); writes {@code out}. One work-item per element. */
    public static void update(float[] x, float[] e, float[] z, float[] c, float[] out, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            updateLane(x, e, z, c, out, len, i);
        }
    }

    /** Element {@code i} of {@link #update}. */
    public static void updateLane(float[] x, float[] e, float[] z, float[] c, float[] out, int len, int i) {
        float xi = x[i];
        float ei = e[i];
        float zi = z[i];
        float x0 = Math.min(Math.max(c[1] * xi + c[2] * ei, c[3]), c[4]);
        float next = c[5] * x0 + c[6] * xi + c[7] * ei + c[8] * zi;
        // A select, not a blend: on the first execution x and e may hold anything, NaN included.
        out[i] = c[0] != 0f ? zi : next;
    }
}
