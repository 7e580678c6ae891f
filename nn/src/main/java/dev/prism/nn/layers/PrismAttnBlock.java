package dev.prism.nn.layers;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;


/**
 * The attention block of DeepPrism: {@code x + PrismAttn(norm(x))} (DeepPrism eq. 5), where q, k, v and the
 * output projection are channel convolutions of size K, each {@code nn.Conv3d(1, 1, (K, 1, 1))}:
 * {@code q.weight [1, 1, K, 1, 1]}, {@code q.bias [1]}, likewise {@code k, v, proj_out}. Children
 * {@code norm, q, k, v, proj_out}: 4·(K + 1) + 2C parameters.
 */
public final class PrismAttnBlock extends Module {
    private final int channels;
    private final int heads;
    private final ChannelPadding padding;
    private final GroupNorm norm;
    private final Conv.Channel[] proj = new Conv.Channel[4];

    public PrismAttnBlock(int channels, int groups, int k, int heads, ChannelPadding padding) {
        if (heads < 1 || channels % heads != 0) {
            throw new IllegalArgumentException("attention: heads expected a divisor of " + channels + " channels, found " + heads);
        }
        this.channels = channels;
        this.heads = heads;
        this.padding = padding;
        norm = child("norm", new GroupNorm(groups, channels, 1e-6f));
        String[] names = {"q", "k", "v", "proj_out"};
        for (int i = 0; i < 4; i++) {
            proj[i] = child(names[i], new Conv.Channel(k));
        }
    }

    public Tensor forward(Graph g, Tensor x) {
        requireChannels(x, channels);
        Tensor n = norm.forward(g, x, false);
        Parameter[] w = {proj[0].weight, proj[1].weight, proj[2].weight, proj[3].weight};
        Parameter[] b = {proj[0].bias, proj[1].bias, proj[2].bias, proj[3].bias};
        return g.add(x, g.prismAttn(n, w, b, heads, padding));
    }
}
