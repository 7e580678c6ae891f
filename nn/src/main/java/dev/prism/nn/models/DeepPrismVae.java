package dev.prism.nn.models;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.layers.ConvType;
import dev.prism.nn.layers.PrismAttnBlock;
import dev.prism.nn.layers.ResBlock;
import dev.prism.nn.layers.Resample;

/**
 * The DeepPrism autoencoder of DeepPrism §4.1 at constant width C:
 * <pre>
 * E: Conv-3*(2*Res-Down)-Res-Attn-Res-Conv      (two output convolutions: mean and log-variance, "E, E' share
 *                                                the same network except for the output convolution layer")
 * G: Conv-Res-Attn-Res-3*(2*Res-Up)-Conv
 * Res(x) = x + 2*(Norm-Act-Conv)(x)              two Norm-SiLU-Conv, see {@link ResBlock}
 * </pre>
 * The first and last convolutions are standard 3×3 convolutions between the image (or the latent) and C
 * channels ("demodulation and modulation", §3.5); every hidden one, the down/up sampling convolutions
 * included, is a DeepPrism 3×3×3 convolution; Attn is PrismAttn (eq. 5) with channel convolutions of size
 * 3; Norm is group norm with 32 groups; Act is SiLU. Down and Up are 2× average pooling and nearest
 * upsampling, each followed by a DeepPrism convolution. The latent has {@code z} channels (4, as LDM's
 * f = 8 autoencoder) at 1/8 of the image size.
 *
 * <p>Input {@code x [N, Cin, H, W]}, H and W divisible by 8; the encoder gives mean and log-variance
 * {@code [N, z, H/8, W/8]}; the decoder maps a latent back to {@code [N, Cin, H, W]}.
 *
 * <p>Parameter count: {@code 232·C + 1107} for Cin = 3, z = 4 (see {@link #describe()} per layer):
 * 30.8K, 60.5K, 119.9K, 238.7K for C = 128, 256, 512, 1024, against 29.5K, 57.8K, 114K, 227K in the
 * paper's Table 3 (+4.4%, +4.7%, +5.2%, +5.1%). The paper's counts grow by about 221 per channel; this
 * reading grows by 232: 28C (input conv) + 72C (two output convs) + 37C (decoder input conv) + 27C
 * (decoder output conv) + 32 group norms × 2C + 2 attention norms × 2C. The constant part, 1107, is
 * the 38 DeepPrism convolutions (28 each), the 8 PrismAttn projections (4 each) and the output biases.
 */
public final class DeepPrismVae extends Module {

    /**
     * @param inChannels image channels
     * @param width      the constant width C
     * @param latent     latent channels z
     * @param groups     group-norm groups
     * @param padding    channel padding of the DeepPrism convolutions (the paper's code pads with zeros)
     */
    public record Config(int inChannels, int width, int latent, int groups, ChannelPadding padding) {
        public Config {
            if (inChannels < 1 || width < 1 || latent < 1) {
                throw new IllegalArgumentException("in, width and z expected >= 1, found " + inChannels + ", " + width + ", " + latent);
            }
            if (groups < 1 || width % groups != 0) {
                throw new IllegalArgumentException("groups expected a divisor of width " + width + ", found " + groups);
            }
        }
    }

    /** The encoder or decoder: a sequence of named children. */
    public static final class Stack extends Module {
        <M extends Module> M add(String name, M m) {
            return child(name, m);
        }
    }

    private final Config config;
    private final Stack encoder;
    private final Stack decoder;

    public DeepPrismVae(Config c) {
        this.config = c;
        int w = c.width();
        ConvType p = ConvType.DEEPPRISM;
        encoder = child("encoder", new Stack());
        encoder.add("conv_in", Conv.standard(c.inChannels(), w, 3));
        for (int l = 0; l < 3; l++) {
            encoder.add("down." + l + ".res.0", new ResBlock(w, c.groups(), p, 0, c.padding()));
            encoder.add("down." + l + ".res.1", new ResBlock(w, c.groups(), p, 0, c.padding()));
            encoder.add("down." + l + ".downsample", Resample.down(w, p, 0, c.padding()));
        }
        encoder.add("mid.res1", new ResBlock(w, c.groups(), p, 0, c.padding()));
        encoder.add("mid.attn", new PrismAttnBlock(w, c.groups(), 3, 1, c.padding()));
        encoder.add("mid.res2", new ResBlock(w, c.groups(), p, 0, c.padding()));
        encoder.add("conv_mean", Conv.standard(w, c.latent(), 3));
        encoder.add("conv_logvar", Conv.standard(w, c.latent(), 3));

        decoder = child("decoder", new Stack());
        decoder.add("conv_in", Conv.standard(c.latent(), w, 3));
        decoder.add("mid.res1", new ResBlock(w, c.groups(), p, 0, c.padding()));
        decoder.add("mid.attn", new PrismAttnBlock(w, c.groups(), 3, 1, c.padding()));
        decoder.add("mid.res2", new ResBlock(w, c.groups(), p, 0, c.padding()));
        for (int l = 0; l < 3; l++) {
            decoder.add("up." + l + ".res.0", new ResBlock(w, c.groups(), p, 0, c.padding()));
            decoder.add("up." + l + ".res.1", new ResBlock(w, c.groups(), p, 0, c.padding()));
            decoder.add("up." + l + ".upsample", Resample.up(w, p, 0, c.padding()));
        }
        decoder.add("conv_out", Conv.standard(w, c.inChannels(), 3));
    }

    public Config config() {
        return config;
    }

    /** The encoder's outputs. */
    public record Moments(Tensor mean, Tensor logvar) {
    }

    /** Adds E(x) and E'(x) to {@code g}: the mean and log-variance of the latent. */
    public Moments encode(Graph g, Tensor x) {
        int[] s = x.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % 8 != 0 || s[3] % 8 != 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W divisible by 8", s);
        }
        var m = encoder.children();
        Tensor h = ((Conv) m.get("conv_in")).forward(g, x);
        for (int l = 0; l < 3; l++) {
            h = ((ResBlock) m.get("down." + l + ".res.0")).forward(g, h);
            h = ((ResBlock) m.get("down." + l + ".res.1")).forward(g, h);
            h = ((Resample) m.get("down." + l + ".downsample")).forward(g, h);
        }
        h = ((ResBlock) m.get("mid.res1")).forward(g, h);
        h = ((PrismAttnBlock) m.get("mid.attn")).forward(g, h);
        h = ((ResBlock) m.get("mid.res2")).forward(g, h);
        return new Moments(((Conv) m.get("conv_mean")).forward(g, h), ((Conv) m.get("conv_logvar")).forward(g, h));
    }

    /** Adds G(z) to {@code g}: the image decoded from a latent {@code [N, z, h, w]}. */
    public Tensor decode(Graph g, Tensor z) {
        int[] s = z.shape();
        if (s.length != 4 || s[1] != config.latent()) {
            throw shapeError("latent", "[N, " + config.latent() + ", h, w]", s);
        }
        var m = decoder.children();
        Tensor h = ((Conv) m.get("conv_in")).forward(g, z);
        h = ((ResBlock) m.get("mid.res1")).forward(g, h);
        h = ((PrismAttnBlock) m.get("mid.attn")).forward(g, h);
        h = ((ResBlock) m.get("mid.res2")).forward(g, h);
        for (int l = 0; l < 3; l++) {
            h = ((ResBlock) m.get("up." + l + ".res.0")).forward(g, h);
            h = ((ResBlock) m.get("up." + l + ".res.1")).forward(g, h);
            h = ((Resample) m.get("up." + l + ".upsample")).forward(g, h);
        }
        return ((Conv) m.get("conv_out")).forward(g, h);
    }
}
