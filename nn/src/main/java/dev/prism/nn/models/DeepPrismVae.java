package dev.prism.nn.models;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.layers.ConvType;
import dev.prism.nn.layers.GroupNorm;
import dev.prism.nn.layers.PrismAttnBlock;
import dev.prism.nn.layers.ResBlock;
import dev.prism.nn.layers.Resample;

/**
 * The DeepPrism autoencoder of DeepPrism §4.1 at constant width C: the autoencoder of the Latent Diffusion
 * Model [33] that the paper takes as its baseline, with every hidden convolution a DeepPrism convolution.
 * <pre>
 * E:  conv_in → 3 levels of 2 Res, Down after levels 0 and 1 → Res-Attn-Res → Norm-Act → conv_out (C → 2z)
 *     → conv_mean, conv_logvar (1×1, 2z → z each)
 * G:  post_quant_conv (1×1, z → z) → conv_in (z → C) → Res-Attn-Res → 3 levels of 3 Res, Up after levels 0 and 1
 *     → Norm-Act → conv_out (C → Cin)
 * Res(x) = x + 2*(Norm-Act-Conv)(x)              two Norm-SiLU-Conv, see {@link ResBlock}
 * </pre>
 * The convolutions between the image or the latent and C channels are standard ("demodulation and
 * modulation", §3.5); every hidden one, the down/up sampling convolutions included, is a DeepPrism 3×3×3
 * convolution; Attn is PrismAttn (eq. 5) with channel convolutions of size 3 after a group norm; Norm is
 * group norm with 32 groups; Act is SiLU. Down and Up are 2× average pooling and nearest upsampling, each
 * followed by a DeepPrism convolution. "E, E' share the same network except for the output convolution
 * layer": {@code conv_mean} and {@code conv_logvar}, which together are LDM's {@code quant_conv} (2z → 2z).
 *
 * <p>Where the paper's text and its Table 3 disagree, this follows the table. §4.1 writes the networks as
 * {@code E: Conv-3*(2*Res-Down)-Res-Attn-Res-Conv} and {@code G: Conv-Res-Attn-Res-3*(2*Res-Up)-Conv}, which
 * read literally (16 Res blocks, 3 Down, 3 Up, no final Norm, two output convolutions to z = 4) gives
 * 232·C + 1107 parameters, 4.4–5.2% above every entry of Table 3. The table's counts grow by exactly 221
 * per channel (29.5K, 57.8K, 114K, 227K at C = 128 … 1024; no other integer slope rounds to all four), and
 * so does its baseline column, 6.36M … 405M ≈ 386·C², which is 42 full 3×3 convolutions plus two
 * attention blocks: the LDM autoencoder with three levels (its {@code kl-f4} configuration, ch_mult of
 * length 3, num_res_blocks 2, z_channels 3) at constant width, whose encoder has 8 Res blocks and 2
 * Downs and whose decoder has 11 Res blocks (3 per level) and 2 Ups. With DeepPrism convolutions that
 * model has, for Cin = 3 and z = 3:
 * <pre>
 * per channel: 28 (conv_in, 27 + bias) + 54 (E conv_out to 2z = 6) + 28 (G conv_in from z = 3, 27 + bias)
 *              + 27 (G conv_out to RGB) + 19 Res × 2 group norms × 2 + 2 attention norms × 2 + 2 final norms × 2
 *            = 221
 * constant:    42 DeepPrism convolutions × 28 + 8 PrismAttn projections × 4 + conv_out biases 6 + 3
 *              + conv_mean, conv_logvar 2 × 21 + post_quant_conv 12
 *            = 1271
 * </pre>
 * 221·C + 1271: 29,559, 57,847, 114,423, 227,575 for C = 128, 256, 512, 1024 against the table's 29.5K,
 * 57.8K, 114K, 227K (+0.20%, +0.08%, +0.37%, +0.25%; the table's figures are these truncated to three
 * digits). {@link #describe()} lists every layer.
 *
 * <p>Input {@code x [N, Cin, H, W]}, H and W divisible by 4; the encoder gives mean and log-variance
 * {@code [N, z, H/4, W/4]}; the decoder maps a latent back to {@code [N, Cin, H, W]}.
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

    /** Levels of the encoder and the decoder; Down / Up between them, so the latent is at 1/4 of the size. */
    public static final int LEVELS = 3;
    /** Res blocks per level: 2 in the encoder, one more in the decoder (LDM's num_res_blocks + 1). */
    public static final int ENCODER_RES = 2;
    public static final int DECODER_RES = 3;
    /** How much smaller the latent is than the image, per side. */
    public static final int FACTOR = 1 << (LEVELS - 1);

    public DeepPrismVae(Config c) {
        this.config = c;
        int w = c.width();
        int z = c.latent();
        ConvType p = ConvType.DEEPPRISM;
        encoder = child("encoder", new Stack());
        encoder.add("conv_in", Conv.standard(c.inChannels(), w, 3));
        for (int l = 0; l < LEVELS; l++) {
            for (int r = 0; r < ENCODER_RES; r++) {
                encoder.add("down." + l + ".res." + r, new ResBlock(w, c.groups(), p, 0, c.padding()));
            }
            if (l < LEVELS - 1) {
                encoder.add("down." + l + ".downsample", Resample.down(w, p, 0, c.padding()));
            }
        }
        addMid(encoder, c);
        encoder.add("norm_out", new GroupNorm(c.groups(), w, 1e-6f));
        encoder.add("conv_out", Conv.standard(w, 2 * z, 3));
        encoder.add("conv_mean", Conv.standard(2 * z, z, 1));
        encoder.add("conv_logvar", Conv.standard(2 * z, z, 1));

        decoder = child("decoder", new Stack());
        decoder.add("post_quant_conv", Conv.standard(z, z, 1));
        decoder.add("conv_in", Conv.standard(z, w, 3));
        addMid(decoder, c);
        for (int l = 0; l < LEVELS; l++) {
            for (int r = 0; r < DECODER_RES; r++) {
                decoder.add("up." + l + ".res." + r, new ResBlock(w, c.groups(), p, 0, c.padding()));
            }
            if (l < LEVELS - 1) {
                decoder.add("up." + l + ".upsample", Resample.up(w, p, 0, c.padding()));
            }
        }
        decoder.add("norm_out", new GroupNorm(c.groups(), w, 1e-6f));
        decoder.add("conv_out", Conv.standard(w, c.inChannels(), 3));
    }

    private static void addMid(Stack s, Config c) {
        s.add("mid.res1", new ResBlock(c.width(), c.groups(), ConvType.DEEPPRISM, 0, c.padding()));
        s.add("mid.attn", new PrismAttnBlock(c.width(), c.groups(), 3, 1, c.padding()));
        s.add("mid.res2", new ResBlock(c.width(), c.groups(), ConvType.DEEPPRISM, 0, c.padding()));
    }

    /** The parameter count for image channels {@code in}, width {@code width} and {@code z} latent channels (see the class comment). */
    public static long parameterCount(int in, int width, int z) {
        long c = width;
        long res = LEVELS * (ENCODER_RES + DECODER_RES) + 4;
        long perChannel = (9L * in + 1) + 18L * z + (9L * z + 1) + 9L * in + res * 4 + 2 * 2 + 2 * 2;
        long deepPrism = 2 * res + 2 * (LEVELS - 1);
        long constant = deepPrism * 28 + 8 * 4 + 2L * z + in + 2 * (2L * z * z + z) + (long) z * z + z;
        return perChannel * c + constant;
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
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % FACTOR != 0 || s[3] % FACTOR != 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W divisible by " + FACTOR, s);
        }
        var m = encoder.children();
        Tensor h = ((Conv) m.get("conv_in")).forward(g, x);
        for (int l = 0; l < LEVELS; l++) {
            for (int r = 0; r < ENCODER_RES; r++) {
                h = ((ResBlock) m.get("down." + l + ".res." + r)).forward(g, h);
            }
            if (l < LEVELS - 1) {
                h = ((Resample) m.get("down." + l + ".downsample")).forward(g, h);
            }
        }
        h = mid(m, g, h);
        h = ((GroupNorm) m.get("norm_out")).forward(g, h, true);
        h = ((Conv) m.get("conv_out")).forward(g, h);
        return new Moments(((Conv) m.get("conv_mean")).forward(g, h), ((Conv) m.get("conv_logvar")).forward(g, h));
    }

    /** The terms of the autoencoder's objective ({@link #objective}), each a tensor of shape [1] but {@code image}. */
    public record Objective(Tensor loss, Tensor reconstruction, Tensor kl, Tensor image) {
    }

    /**
     * Adds the autoencoder's training objective to {@code g}, DeepPrism eq. (9) without its perceptual and
     * adversarial terms:
     * <pre>
     *   mean, logvar = E(x), E'(x);   z = mean + exp(½·logvar)·eps;   y = G(z)
     *   reconstruction = Σ (x − y)² / (N·C·H·W)                   (eq. 6, averaged over the batch)
     *   kl             = Σ ½·(mean² + exp(logvar) − 1 − logvar) / N  (eq. 8 against N(0, I), per image)
     *   loss           = ½·reconstruction + klWeight·kl              (eq. 9: ½‖u − G(E(u))‖² + λ₂·H)
     * </pre>
     * The log-variance is clamped to [−30, 20] where it is used, as in LDM. {@code eps} is standard normal
     * noise of the latent's shape {@code [N, z, H/4, W/4]}, drawn by the caller.
     */
    public Objective objective(Graph g, Tensor x, Tensor eps, float klWeight) {
        if (!(klWeight >= 0) || !Float.isFinite(klWeight)) {
            throw new IllegalArgumentException("klWeight expected a finite number >= 0, found " + klWeight);
        }
        Moments m = encode(g, x);
        Tensor y = decode(g, g.gaussianSample(m.mean(), m.logvar(), eps));
        Tensor rec = g.meanSquaredError(y, x);
        Tensor kl = g.klNormal(m.mean(), m.logvar());
        return new Objective(g.add(g.scale(rec, 0.5f), g.scale(kl, klWeight)), rec, kl, y);
    }

    /** Adds G(E(x)) to {@code g}: the image decoded from the latent's mean, the autoencoder's deterministic reconstruction. */
    public Tensor reconstruct(Graph g, Tensor x) {
        return decode(g, encode(g, x).mean());
    }

    /** Adds G(z) to {@code g}: the image decoded from a latent {@code [N, z, h, w]}. */
    public Tensor decode(Graph g, Tensor z) {
        int[] s = z.shape();
        if (s.length != 4 || s[1] != config.latent()) {
            throw shapeError("latent", "[N, " + config.latent() + ", h, w]", s);
        }
        var m = decoder.children();
        Tensor h = ((Conv) m.get("post_quant_conv")).forward(g, z);
        h = ((Conv) m.get("conv_in")).forward(g, h);
        h = mid(m, g, h);
        for (int l = 0; l < LEVELS; l++) {
            for (int r = 0; r < DECODER_RES; r++) {
                h = ((ResBlock) m.get("up." + l + ".res." + r)).forward(g, h);
            }
            if (l < LEVELS - 1) {
                h = ((Resample) m.get("up." + l + ".upsample")).forward(g, h);
            }
        }
        h = ((GroupNorm) m.get("norm_out")).forward(g, h, true);
        return ((Conv) m.get("conv_out")).forward(g, h);
    }

    private static Tensor mid(java.util.Map<String, Module> m, Graph g, Tensor h) {
        h = ((ResBlock) m.get("mid.res1")).forward(g, h);
        h = ((PrismAttnBlock) m.get("mid.attn")).forward(g, h);
        return ((ResBlock) m.get("mid.res2")).forward(g, h);
    }
}
