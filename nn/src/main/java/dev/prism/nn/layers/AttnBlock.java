package dev.prism.nn.layers;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;

/**
 * Self-attention over the H·W positions with a residual, as in DDPM/LDM's AttnBlock:
 * {@code x + proj_out(attention(q(n), k(n), v(n)))} with {@code n = norm(x)}; q, k, v, proj_out are 1×1
 * convolutions ({@code weight [C, C, 1, 1]}, {@code bias [C]}). Children {@code norm, q, k, v, proj_out}.
 */
public final class AttnBlock extends Module {
    private final int channels;
    private final int heads;
    private final GroupNorm norm;
    private final Conv q;
    private final Conv k;
    private final Conv v;
    private final Conv projOut;

    public AttnBlock(int channels, int groups, int heads) {
        if (heads < 1 || channels % heads != 0) {
            throw new IllegalArgumentException("attention: heads expected a divisor of " + channels + " channels, found " + heads);
        }
        this.channels = channels;
        this.heads = heads;
        norm = child("norm", new GroupNorm(groups, channels, 1e-6f));
        q = child("q", Conv.standard(channels, channels, 1));
        k = child("k", Conv.standard(channels, channels, 1));
        v = child("v", Conv.standard(channels, channels, 1));
        projOut = child("proj_out", Conv.standard(channels, channels, 1));
    }

    public Tensor forward(Graph g, Tensor x) {
        requireChannels(x, channels);
        Tensor n = norm.forward(g, x, false);
        Tensor a = g.attention(q.forward(g, n), k.forward(g, n), v.forward(g, n), heads);
        return g.add(x, projOut.forward(g, a));
    }
}
