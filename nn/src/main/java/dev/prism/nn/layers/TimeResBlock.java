package dev.prism.nn.layers;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;

/**
 * The DDPM residual block with time conditioning (Ho et al. 2020, their ResnetBlock without dropout):
 * {@code h = conv1(silu(norm1(x))) + temb_proj(silu(temb))[:, :, None, None]},
 * {@code out = shortcut(x) + conv2(silu(norm2(h)))}. Children {@code norm1 [Cin], conv1 (Cin → Cout),
 * temb_proj (T → Cout), norm2 [Cout], conv2 (Cout → Cout)}, and where Cin ≠ Cout {@code nin_shortcut}, a
 * standard 1×1 convolution {@code weight [Cout, Cin, 1, 1], bias [Cout]} (the DDPM code's name); with
 * Cin = Cout the shortcut is the identity. Where the width changes and the convolution type keeps it
 * (DeepPrism, separable), conv1 is a standard 3×3 convolution. x {@code [N, Cin, H, W]}, temb {@code [N, T]};
 * output {@code [N, Cout, H, W]}.
 */
public final class TimeResBlock extends Module {
    private final int channels;
    private final GroupNorm norm1;
    private final Conv conv1;
    private final Linear tembProj;
    private final GroupNorm norm2;
    private final Conv conv2;
    private final Conv ninShortcut;

    /** A block that keeps the width. */
    public TimeResBlock(int channels, int timeDim, int groups, ConvType conv, int order, ChannelPadding padding) {
        this(channels, channels, timeDim, groups, conv, order, padding);
    }

    public TimeResBlock(int in, int out, int timeDim, int groups, ConvType conv, int order, ChannelPadding padding) {
        this.channels = in;
        ConvType first = in != out && conv.keepsWidth() ? ConvType.STANDARD : conv;
        norm1 = child("norm1", new GroupNorm(groups, in, 1e-6f));
        conv1 = child("conv1", new Conv(first, in, out, 3, order, padding));
        tembProj = child("temb_proj", new Linear(timeDim, out));
        norm2 = child("norm2", new GroupNorm(groups, out, 1e-6f));
        conv2 = child("conv2", new Conv(conv, out, out, 3, order, padding));
        ninShortcut = in != out ? child("nin_shortcut", Conv.standard(in, out, 1)) : null;
    }

    /** @param tembAct {@code silu(temb)}, computed once per model and shared by every block */
    public Tensor forward(Graph g, Tensor x, Tensor tembAct) {
        requireChannels(x, channels);
        Tensor h = conv1.forward(g, norm1.forward(g, x, true));
        h = g.addPlanes(h, tembProj.forward(g, tembAct));
        h = conv2.forward(g, norm2.forward(g, h, true));
        return g.add(ninShortcut == null ? x : ninShortcut.forward(g, x), h);
    }
}
