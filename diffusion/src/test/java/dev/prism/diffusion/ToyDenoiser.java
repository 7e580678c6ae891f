package dev.prism.diffusion;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;
import dev.prism.kernels.Embedding;
import dev.prism.kernels.Gemm;

/**
 * The deterministic toy model of tools/refgen/samplers.py, from existing kernels:
 * {@code emb[n] = timestep embedding(t_n), dim 8}; {@code e[n,c] = a·x[n,c] + Σ_j W[c,j]·emb[n,j]}. It reads
 * t on the device, has weights (constants) and scratch buffers, and runs four kernels: enough to show that a
 * model's plan, its per-step timestep and its constants work inside a sampling plan.
 */
final class ToyDenoiser implements Denoiser {
    static final int EMB = 8;
    private final int c, h, w;
    private final float[] a;
    private final float[] weight;

    /** @param weight W[C, 8]; @param a the scale of x */
    ToyDenoiser(int c, int h, int w, float a, float[] weight) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.a = new float[] {a};
        this.weight = weight.clone();
    }

    @Override
    public int channels() {
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    /** emb and v per image, the weights and the scale. */
    @Override
    public dev.prism.nn.Footprint footprint() {
        return dev.prism.nn.Footprint.of(new long[] {0, 0, weight.length, 1}, new long[] {EMB, c, 0, 0});
    }

    @Override
    public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e) {
        float[] emb = new float[batch * EMB];
        float[] v = new float[batch * c];
        plan.add(Embedding.timestep(t, emb, batch, EMB))
                .addAll(Gemm.linear(emb, weight, null, v, batch, EMB, c))
                .add(Elementwise.scale(x, a, e, x.length))
                .add(Elementwise.addPlanes(e, v, e, batch, c, h, w))
                .constants(weight, a);
    }
}
