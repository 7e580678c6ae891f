package dev.prism.kernels;

import dev.prism.backend.Launch;

/** Checked launch of the DDPM timestep embedding in {@link EmbeddingKernels}. It has no backward. */
public final class Embedding {
    private static final Kernel TIMESTEP = Kernel.of("embedding.timestep", "timestepLane");
    private Embedding() {
    }

    /**
     * {@code emb[N, dim]} from the timesteps {@code t[N]}; writes {@code emb}. {@code dim} must be at
     * least 4: the frequencies are spaced by {@code ln(10000)/(half − 1)}, which needs
     * {@code half = dim/2 >= 2} (DDPM's own code divides by zero for dim 2 and 3).
     */
    public static Launch timestep(float[] t, float[] emb, int n, int dim) {
        Check k = Check.of("embedding.timestep").positive("n", n)
                .that(dim >= 4, "dim", ">= 4 (half = dim / 2 must be >= 2: the frequencies divide by half - 1)", dim);
        int size = k.size("emb", n, dim);
        k.length("t", t, n).length("emb", emb, size).distinct("t", t, "emb", emb);
        return TIMESTEP.with(t, emb, n, dim).writes(1).grid(n, dim).launch(4L * size, 4L * n + 4L * size);
    }
}
