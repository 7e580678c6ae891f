package dev.prism.nn.layers;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;

/**
 * The DDPM residual block with time conditioning (Ho et al. 2020, their ResnetBlock without dropout):
 * {@code h = conv1(silu(norm1(x))) + temb_proj(silu(temb))[:, :, None, None]},
 * {@code out = x + conv2(silu(norm2(h)))}. Constant width, so no shortcut convolution. Children
 * {@code norm1, conv1, temb_proj, norm2, conv2}; x {@code [N, C, H, W]}, temb {@code [N, T]}.
 */
public final class TimeResBlock extends Module {
    private final int channels;
    private final GroupNorm norm1;
    private final Conv conv1;
    private final Linear tembProj;
    private final GroupNorm norm2;
    private final Conv conv2;

    public TimeResBlock(int channels, int timeDim, int groups, ConvType conv, int order, ChannelPadding padding) {
        this.channels = channels;
        norm1 = child("norm1", new GroupNorm(groups, channels, 1e-6f));
        conv1 = child("conv1", new Conv(conv, channels, channels, 3, order, padding));
        tembProj = child("temb_proj", new Linear(timeDim, channels));
        norm2 = child("norm2", new GroupNorm(groups, channels, 1e-6f));
        conv2 = child("conv2", new Conv(conv, channels, channels, 3, order, padding));
    }

    /** @param tembAct {@code silu(temb)}, computed once per model and shared by every block */
    public Tensor forward(Graph g, Tensor x, Tensor tembAct) {
        requireChannels(x, channels);
        Tensor h = conv1.forward(g, norm1.forward(g, x, true));
        h = g.addPlanes(h, tembProj.forward(g, tembAct));
        h = conv2.forward(g, norm2.forward(g, h, true));
        return g.add(x, h);
    }
}
