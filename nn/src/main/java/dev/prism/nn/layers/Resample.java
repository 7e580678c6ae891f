package dev.prism.nn.layers;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;

/**
 * 2× down- or upsampling followed by a convolution of the model's type: {@code conv(avg_pool2d(x, 2))}
 * or {@code conv(interpolate(x, scale_factor=2, mode='nearest'))}. One child, {@code conv}. Down needs
 * even H and W.
 */
public final class Resample extends Module {
    private final boolean down;
    private final int channels;
    private final Conv conv;

    private Resample(boolean down, int channels, ConvType type, int order, ChannelPadding padding) {
        this.down = down;
        this.channels = channels;
        this.conv = child("conv", new Conv(type, channels, channels, 3, order, padding));
    }

    public static Resample down(int channels, ConvType type, int order, ChannelPadding padding) {
        return new Resample(true, channels, type, order, padding);
    }

    public static Resample up(int channels, ConvType type, int order, ChannelPadding padding) {
        return new Resample(false, channels, type, order, padding);
    }

    public Tensor forward(Graph g, Tensor x) {
        requireChannels(x, channels);
        if (down && (x.dim(2) % 2 != 0 || x.dim(3) % 2 != 0)) {
            throw shapeError("input", "[N, " + channels + ", H, W] with even H and W", x.shape());
        }
        return conv.forward(g, down ? g.avgPool2x(x) : g.upsample2x(x));
    }
}
