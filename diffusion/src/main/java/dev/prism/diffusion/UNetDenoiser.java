package dev.prism.diffusion;

import dev.prism.backend.Plan;
import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.Elementwise;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.UNet;

/**
 * A {@link UNet} predicting ε, as the sampling loop's model: its graph for a batch at a fixed size goes
 * into the step plan, the weights as constants.
 */
public final class UNetDenoiser implements Denoiser {
    private final UNet unet;
    private final int height;
    private final int width;
    private final float[] one = {1f};
    private Footprint footprint;

    /**
     * @throws ArgumentException for the argument {@code size} when height or width is not a positive multiple of
     *                           the UNet's divisor
     */
    public UNetDenoiser(UNet unet, int height, int width) {
        int d = unet.config().divisor();
        if (height < 1 || width < 1 || height % d != 0 || width % d != 0) {
            throw ArgumentException.expected("size", "a height and width divisible by " + d + " (the UNet downsamples "
                    + (unet.config().levels() - 1) + " times)", height + "x" + width);
        }
        this.unet = unet;
        this.height = height;
        this.width = width;
    }

    @Override
    public int channels() {
        return unet.config().inChannels();
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    /**
     * The UNet's forward graph at this size ({@link UNet#forwardFootprint}) and the unit scale; found once (a
     * few small graphs) and kept, as it depends on the shapes only.
     */
    @Override
    public synchronized Footprint footprint() {
        if (footprint == null) {
            footprint = unet.forwardFootprint(height, width).plus(Footprint.of(new long[] {one.length}, new long[] {0}));
        }
        return footprint;
    }

    @Override
    public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e) {
        Graph g = new Graph("unet");
        Tensor eps = unet.forward(g, Tensor.of(x, batch, channels(), height, width), Tensor.of(t, batch));
        g.addForwardTo(plan);
        // The model's last convolution writes a buffer of its own; the loop wants e.
        plan.constants(one).add(Elementwise.scale(eps.data(), one, e, e.length));
    }
}
