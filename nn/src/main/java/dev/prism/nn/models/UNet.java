package dev.prism.nn.models;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.nn.layers.AttnBlock;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.layers.ConvType;
import dev.prism.nn.layers.GroupNorm;
import dev.prism.nn.layers.Linear;
import dev.prism.nn.layers.PrismAttnBlock;
import dev.prism.nn.layers.Resample;
import dev.prism.nn.layers.TimeResBlock;
import dev.prism.nn.layers.WaveletGate;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The diffusion UNet (DDPM-style, Ho et al. 2020) at a constant width C, predicting the noise ε of
 * {@code x_t} at timestep t. The hidden convolutions are of a selectable {@link ConvType}, so the same
 * UNet exists with standard, DeepPrism, separable, CosConv and ChebConv convolutions; with
 * {@link Config#wavelet()} every down- and up-sampling is WG-Down / WG-Up (Spectral Diffusion §5.1),
 * the WG-UNet.
 *
 * <pre>
 * temb = time_embed.2(silu(time_embed.0(timestep_embedding(t, C))))      [N, 4C]
 * h    = conv_in(x)                                                      standard 3×3, Cin → C
 * for level l = 0 .. L−1:  R × (h = down.l.res.i(h, temb); h = down.l.attn.i(h) if l ∈ attention levels); push h
 *                          h = down.l.downsample(h) unless l = L−1      (WG-Down when wavelet)
 * h = mid.res1(h, temb); h = mid.attn(h); h = mid.res2(h, temb)
 * for level l = L−1 .. 0:  R × (h = h + pop(); h = up.l.res.i(h, temb); h = up.l.attn.i(h) if attention)
 *                          h = up.l.upsample(h) unless l = 0           (WG-Up when wavelet)
 * ε    = conv_out(silu(norm_out(h)))                                     standard 3×3, C → Cin
 * </pre>
 * Skip connections add rather than concatenate, so every hidden convolution maps C to C: the constant
 * width DeepPrism needs (DeepPrism §4.3 fixes the LDM UNet's width the same way). Input
 * {@code x [N, Cin, H, W]} with H and W divisible by 2^(L−1), {@code t [N]}; output {@code [N, Cin, H, W]}.
 */
public final class UNet extends Module {

    /**
     * @param inChannels image channels (1 for Fashion-MNIST, 3 for colour)
     * @param width      the constant width C
     * @param levels     resolutions L (L − 1 downsamplings)
     * @param resBlocks  residual blocks per level and direction
     * @param attnFrom   levels ≥ this one get attention after each residual block (levels counted from 0 at full size)
     * @param conv       the hidden convolutions' type
     * @param order      series coefficients per axis for CosConv / ChebConv
     * @param attention  {@code standard} (1×1 convolutions) or {@code prism} (PrismAttn)
     * @param heads      attention heads
     * @param groups     group-norm groups (a divisor of C)
     * @param wavelet    WG-Down / WG-Up instead of pooling / nearest upsampling
     * @param gates      gates per band for wavelet gating: 1 or C
     * @param gateHidden hidden width of the gate network
     * @param padding    channel padding of DeepPrism convolutions
     */
    public record Config(int inChannels, int width, int levels, int resBlocks, int attnFrom, ConvType conv, int order,
                         String attention, int heads, int groups, boolean wavelet, int gates, int gateHidden,
                         ChannelPadding padding) {
        public Config {
            positive("in", inChannels);
            positive("width", width);
            positive("levels", levels);
            positive("res", resBlocks);
            if (attnFrom < 0) {
                throw new IllegalArgumentException("attn expected >= 0 (the first level with attention), found " + attnFrom);
            }
            if (!attention.equals("standard") && !attention.equals("prism")) {
                throw new IllegalArgumentException("attention expected standard or prism, found '" + attention + "'");
            }
            positive("heads", heads);
            if (width % heads != 0) {
                throw new IllegalArgumentException("heads expected a divisor of width " + width + ", found " + heads);
            }
            if (groups < 1 || width % groups != 0) {
                throw new IllegalArgumentException("groups expected a divisor of width " + width + ", found " + groups);
            }
            if (wavelet && gates != 1 && gates != width) {
                throw new IllegalArgumentException("gates expected 1 or the width " + width + ", found " + gates);
            }
            positive("gate_hidden", gateHidden);
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " expected >= 1, found " + v);
            }
        }

        /** The input size must be divisible by this. */
        public int divisor() {
            return 1 << (levels - 1);
        }
    }

    private final Config config;
    private final Linear time0;
    private final Linear time2;
    private final Conv convIn;
    private final Level[] down;
    private final Mid mid;
    private final Level[] up;
    private final GroupNorm normOut;
    private final Conv convOut;

    /** The blocks of one resolution. */
    public static final class Level extends Module {
        final TimeResBlock[] res;
        final Module[] attn;
        final Module resample;

        Level(Config c, int level, boolean downPath) {
            int t = 4 * c.width();
            res = new TimeResBlock[c.resBlocks()];
            attn = new Module[level >= c.attnFrom() ? c.resBlocks() : 0];
            Holder resHolder = child("res", new Holder());
            for (int i = 0; i < c.resBlocks(); i++) {
                res[i] = resHolder.add(String.valueOf(i), new TimeResBlock(c.width(), t, c.groups(), c.conv(), c.order(), c.padding()));
            }
            if (attn.length > 0) {
                Holder attnHolder = child("attn", new Holder());
                for (int i = 0; i < attn.length; i++) {
                    attn[i] = attnHolder.add(String.valueOf(i), attention(c));
                }
            }
            boolean resamples = downPath ? level < c.levels() - 1 : level > 0;
            if (!resamples) {
                resample = null;
            } else if (c.wavelet()) {
                resample = child(downPath ? "downsample" : "upsample", downPath ? WaveletGate.down(c.width(), c.gateHidden(), c.gates())
                        : WaveletGate.up(c.width(), c.gateHidden(), c.gates()));
            } else {
                resample = child(downPath ? "downsample" : "upsample", downPath ? Resample.down(c.width(), c.conv(), c.order(), c.padding())
                        : Resample.up(c.width(), c.conv(), c.order(), c.padding()));
            }
        }
    }

    /** A numbered list of modules, as {@code nn.ModuleList}. */
    public static final class Holder extends Module {
        <M extends Module> M add(String name, M m) {
            return child(name, m);
        }
    }

    /** The middle of the UNet: res1, attn, res2. */
    public static final class Mid extends Module {
        final TimeResBlock res1;
        final Module attn;
        final TimeResBlock res2;

        Mid(Config c) {
            int t = 4 * c.width();
            res1 = child("res1", new TimeResBlock(c.width(), t, c.groups(), c.conv(), c.order(), c.padding()));
            attn = child("attn", attention(c));
            res2 = child("res2", new TimeResBlock(c.width(), t, c.groups(), c.conv(), c.order(), c.padding()));
        }
    }

    private static Module attention(Config c) {
        return c.attention().equals("prism") ? new PrismAttnBlock(c.width(), c.groups(), 3, c.heads(), c.padding())
                : new AttnBlock(c.width(), c.groups(), c.heads());
    }

    public UNet(Config config) {
        this.config = config;
        int w = config.width();
        time0 = child("time_embed.0", new Linear(w, 4 * w));
        time2 = child("time_embed.2", new Linear(4 * w, 4 * w));
        convIn = child("conv_in", Conv.standard(config.inChannels(), w, 3));
        Holder downs = child("down", new Holder());
        down = new Level[config.levels()];
        for (int l = 0; l < config.levels(); l++) {
            down[l] = downs.add(String.valueOf(l), new Level(config, l, true));
        }
        mid = child("mid", new Mid(config));
        Holder ups = child("up", new Holder());
        up = new Level[config.levels()];
        for (int l = 0; l < config.levels(); l++) {
            up[l] = ups.add(String.valueOf(l), new Level(config, l, false));
        }
        normOut = child("norm_out", new GroupNorm(config.groups(), w, 1e-6f));
        convOut = child("conv_out", Conv.standard(w, config.inChannels(), 3));
    }

    public Config config() {
        return config;
    }

    /**
     * Adds ε = UNet(x, t) to {@code g}.
     *
     * @throws dev.prism.nn.ModelShapeException naming the layer when x is not [N, Cin, H, W] with H, W
     *                                          divisible by 2^(L−1), or t is not [N]
     */
    public Tensor forward(Graph g, Tensor x, Tensor t) {
        int d = config.divisor();
        int[] s = x.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % d != 0 || s[3] % d != 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W divisible by " + d, s);
        }
        if (t.rank() != 1 || t.dim(0) != s[0]) {
            throw shapeError("timesteps", "[" + s[0] + "]", t.shape());
        }
        Tensor temb = g.silu(time2.forward(g, g.silu(time0.forward(g, g.timestepEmbedding(t, config.width())))));
        Tensor h = convIn.forward(g, x);
        Deque<Tensor> skips = new ArrayDeque<>();
        for (int l = 0; l < config.levels(); l++) {
            Level lv = down[l];
            for (int i = 0; i < config.resBlocks(); i++) {
                h = lv.res[i].forward(g, h, temb);
                if (lv.attn.length > 0) {
                    h = attend(g, lv.attn[i], h);
                }
                skips.push(h);
            }
            if (lv.resample != null) {
                h = resample(g, lv.resample, h);
            }
        }
        h = mid.res1.forward(g, h, temb);
        h = attend(g, mid.attn, h);
        h = mid.res2.forward(g, h, temb);
        for (int l = config.levels() - 1; l >= 0; l--) {
            Level lv = up[l];
            for (int i = 0; i < config.resBlocks(); i++) {
                h = g.add(h, skips.pop());
                h = lv.res[i].forward(g, h, temb);
                if (lv.attn.length > 0) {
                    h = attend(g, lv.attn[i], h);
                }
            }
            if (lv.resample != null) {
                h = resample(g, lv.resample, h);
            }
        }
        return convOut.forward(g, normOut.forward(g, h, true));
    }

    private static Tensor attend(Graph g, Module attn, Tensor h) {
        return attn instanceof PrismAttnBlock p ? p.forward(g, h) : ((AttnBlock) attn).forward(g, h);
    }

    private static Tensor resample(Graph g, Module r, Tensor h) {
        return r instanceof WaveletGate wg ? wg.forward(g, h) : ((Resample) r).forward(g, h);
    }
}
