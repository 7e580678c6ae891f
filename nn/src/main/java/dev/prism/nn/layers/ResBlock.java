package dev.prism.nn.layers;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;

/**
 * The DeepPrism residual block, {@code Res(x) = x + 2*(Norm-Act-Conv)(x)} (DeepPrism §4.1), read with the
 * paper's own notation, where {@code 2*} repeats what follows: {@code x + conv2(silu(norm2(conv1(silu(norm1(x))))))},
 * the residual block of the LDM autoencoder it replaces. Children {@code norm1, conv1, norm2, conv2};
 * input and output {@code [N, C, H, W]}.
 */
public final class ResBlock extends Module {
    private final GroupNorm norm1;
    private final Conv conv1;
    private final GroupNorm norm2;
    private final Conv conv2;

    public ResBlock(int channels, int groups, ConvType conv, int order, ChannelPadding padding) {
        norm1 = child("norm1", new GroupNorm(groups, channels, 1e-6f));
        conv1 = child("conv1", new Conv(conv, channels, channels, 3, order, padding));
        norm2 = child("norm2", new GroupNorm(groups, channels, 1e-6f));
        conv2 = child("conv2", new Conv(conv, channels, channels, 3, order, padding));
    }

    public Tensor forward(Graph g, Tensor x) {
        Tensor h = conv1.forward(g, norm1.forward(g, x, true));
        h = conv2.forward(g, norm2.forward(g, h, true));
        return g.add(x, h);
    }
}
