package dev.prism.kernels;

/**
 * The sinusoidal timestep embedding of DDPM (Ho et al. 2020; {@code get_timestep_embedding} in the
 * authors' code, after the Transformer's positional encoding): for {@code half = dim/2},
 * <pre>
 *   freq_i = exp(−ln(10000)·i/(half − 1)),   i = 0 .. half−1
 *   emb[n, i] = sin(t_n·freq_i),   emb[n, half + i] = cos(t_n·freq_i),   emb[n, dim−1] = 0 if dim is odd
 * </pre>
 * Evaluated in double and rounded once: {@code t·freq} reaches 10³ radians, where a float argument
 * would already be off by about 6e-5. The timesteps arrive in a {@code float[]} because a sampler
 * changes them every step (docs/KERNELS.md, per-step scalars). Checked launch factory: {@link Embedding}.
 */
public final class EmbeddingKernels {
    private static final double LN_10000 = 9.210340371976184;

    private EmbeddingKernels() {
    }

    /** Reads {@code t[N]}, writes {@code emb[N, dim]}. One work-item per output element (n, j). */
    public static void timestep(float[] t, float[] emb, int n, int dim) {
        for (@Parallel int b = 0; b < n; b++) {
            for (@Parallel int j = 0; j < dim; j++) {
                timestepLane(t, emb, n, dim, b, j);
            }
        }
    }

    /** Element {@code (b, j)} of {@link #timestep}. */
    public static void timestepLane(float[] t, float[] emb, int n, int dim, int b, int j) {
        int half = dim / 2;
        float v = 0f;
        if (j < 2 * half) {
            int i = j < half ? j : j - half;
            double arg = t[b] * Math.exp(-LN_10000 * i / (half - 1));
            v = (float) (j < half ? Math.sin(arg) : Math.cos(arg));
        }
        emb[b * dim + j] = v;
    }
}
