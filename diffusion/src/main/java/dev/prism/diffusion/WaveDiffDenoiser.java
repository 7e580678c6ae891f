package dev.prism.diffusion;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.WaveDiffGenerator;

/**
 * WaveDiff's generator as the sampling loop's model: {@code e = G(x_t, t, z)}, the predicted clean wavelet
 * coefficients ({@link Prediction#SAMPLE}), with a fresh latent z per step ({@link #latentSize}). The image
 * the loop carries is the Haar coefficients {@code [N, 12, S, S]} of the RGB image {@code [N, 3, 2S, 2S]}
 * (bands cA, cH, cV, cD, each over the three colours, as {@link dev.prism.kernels.HaarKernels} lays them out);
 * {@link WaveDiffSampling#toImage} turns the result into the image.
 */
public final class WaveDiffDenoiser implements Denoiser {
    private final WaveDiffGenerator generator;
    private final float[] one = {1f};

    public WaveDiffDenoiser(WaveDiffGenerator generator) {
        this.generator = generator;
    }

    public WaveDiffGenerator generator() {
        return generator;
    }

    @Override
    public int channels() {
        return generator.config().channels();
    }

    @Override
    public int height() {
        return generator.config().size();
    }

    @Override
    public int width() {
        return generator.config().size();
    }

    @Override
    public int latentSize() {
        return generator.config().nz();
    }

    /**
     * @throws IllegalArgumentException always: the generator needs its latent, which the loop passes to
     *                                  {@link #addTo(Plan.Builder, int, float[], float[], float[], float[])}
     */
    @Override
    public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e) {
        throw new IllegalArgumentException("wavediff: the generator takes a latent z of " + latentSize()
                + " per image; expected the latent's buffer too");
    }

    @Override
    public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] latent, float[] e) {
        Graph g = new Graph("wavediff");
        Tensor x0 = generator.forward(g, Tensor.of(x, batch, channels(), height(), width()), Tensor.of(t, batch),
                Tensor.of(latent, batch, latentSize()));
        g.addForwardTo(plan);
        // The generator's last op writes a buffer of its own; the loop wants e.
        plan.constants(one).add(Elementwise.scale(x0.data(), one, e, e.length));
    }
}
