package dev.prism.nn.models;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.SplittableRandom;

/**
 * DDGAN's time-dependent discriminator for small images ({@code Discriminator_small} of the official WaveDiff code) or
 * large ones ({@code Discriminator_large}, which the official code trains for CelebA-HQ and LSUN), which WaveDiff trains
 * on wavelet coefficients: it scores a pair {@code (x_t, x_{t+1})} at time index t,
 * {@code D(x_t, t, x_{t+1}) → [N, 1]} (a logit; real pairs high). Parameter names are the official {@code state_dict}'s.
 *
 * <pre>
 * temb = lrelu(t_embed(t)),   t_embed = dense(E, E) → lrelu → dense(E, E) of the sinusoidal embedding of t (E = temb)
 * h    = start_conv(cat(x_t, x_{t+1}))                                   1×1, channels → 2·ngf
 * h    = conv1(h), conv2(h) ↓, conv3(h) ↓ (, conv4(h) ↓ with 4 layers)   widths 2, 4, 8 (, 8) × ngf      (small)
 * h    = conv1(h) ↓, conv2(h) ↓, conv3(h) ↓, ... conv{layers}(h) ↓           widths 4, 8, 8, ... × ngf      (large, 3 to 6 layers)
 * h    = cat(h, minibatch stddev of h over groups of min(N, 4))
 * out  = end_linear(Σ_{y,x} lrelu(final_conv(h)))                        3×3, 8·ngf + 1 → 8·ngf; then 8·ngf → 1
 * DownConvBlock(x) = (conv2(↓ lrelu(conv1(lrelu(x)) + dense_t1(temb))) + skip(↓ x)) / √2
 *   conv1, conv2: 3×3 with bias; skip: 1×1 without bias; ↓: StyleGAN2's FIR [1,3,3,1] downsampling where the block has it
 * </pre>
 * LeakyReLU slope 0.2 everywhere. {@link #initialise} follows the official code: every weight uniform with the
 * variance scaling of {@code dense_layer.py} (fan_avg, scale 1, or 1e-10 for {@code conv2} of each block and, in the
 * small one, {@code final_conv}), every bias zero.
 */
public final class WaveDiffDiscriminator extends Module {
    private static final float SLOPE = 0.2f;
    private static final float[] FIR = {1f / 8, 3f / 8, 3f / 8, 1f / 8};
    private static final float RESCALE = (float) (1 / Math.sqrt(2));
    /** The official {@code stddev_group}. */
    public static final int STDDEV_GROUP = 4;

    /**
     * @param channels the channels of one input (x_t and x_{t+1} each; 12 for RGB wavelet coefficients, 4 for grey)
     * @param size     their height and width
     * @param ngf      base width ({@code --ngf})
     * @param temb     width of the time embedding ({@code --t_emb_dim})
     * @param layers   down blocks ({@code --num_disc_layers}): 3 or 4 in the small one, each after the first halving the
     *                 size; 3 to 6 in the large one, each halving it
     * @param large    the official {@code Discriminator_large} instead of {@code Discriminator_small}
     */
    public record Config(int channels, int size, int ngf, int temb, int layers, boolean large) {
        /** The small discriminator ({@code Discriminator_small}). */
        public Config(int channels, int size, int ngf, int temb, int layers) {
            this(channels, size, ngf, temb, layers, false);
        }

        public Config {
            positive("channels", channels);
            positive("size", size);
            positive("ngf", ngf);
            if (temb < 4 || temb % 2 != 0) {
                throw new IllegalArgumentException("option temb expected an even number >= 4, found " + temb);
            }
            if (large ? layers < 3 || layers > 6 : layers != 3 && layers != 4) {
                throw new IllegalArgumentException("option layers expected " + (large ? "3 to 6 (Discriminator_large" : "3 or 4 (Discriminator_small")
                        + "'s num_disc_layers), found " + layers);
            }
            int downs = large ? layers : layers - 1;
            int d = 1 << downs;
            if (size % d != 0) {
                throw new IllegalArgumentException("option size expected a multiple of " + d + " (" + downs + " downsamplings), found " + size);
            }
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException("option " + name + " expected >= 1, found " + v);
            }
        }
    }

    /** A weight and an optional bias with the official initialisation scale ({@code dense} or {@code conv2d} of dense_layer.py). */
    public static final class Layer extends Module {
        final Parameter weight;
        final Parameter bias;
        private final double scale;

        Layer(double scale, boolean bias, int... shape) {
            this.scale = scale;
            this.weight = parameter("weight", shape);
            this.bias = bias ? parameter("bias", shape[0]) : null;
        }

        @Override
        protected void initialise(SplittableRandom r) {
            int[] s = weight.shape();
            int receptive = 1;
            for (int i = 2; i < s.length; i++) {
                receptive *= s[i];
            }
            double fanAvg = (s[0] * receptive + s[1] * receptive) / 2.0;
            double bound = Math.sqrt(3 * (scale == 0 ? 1e-10 : scale) / Math.max(1, fanAvg));
            float[] d = weight.value().data();
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) r.nextDouble(-bound, bound);
            }
            if (bias != null) {
                fill(bias, 0f);
            }
        }

        Tensor conv(Graph g, Tensor x) {
            int k = weight.shape()[2];
            return g.conv2d(x, weight, bias, 1, k / 2);
        }

        Tensor dense(Graph g, Tensor x) {
            return g.linear(x, weight, bias);
        }
    }

    /** The official {@code DownConvBlock}: children conv1.0, conv2.0, dense_t1, skip.0. */
    public static final class DownConvBlock extends Module {
        private final int in;
        private final boolean down;
        private final Layer conv1;
        private final Layer conv2;
        private final Layer denseT1;
        private final Layer skip;

        DownConvBlock(int in, int out, int temb, boolean down) {
            this.in = in;
            this.down = down;
            conv1 = child("conv1", new WaveDiffGenerator.Numbered()).add(0, new Layer(1, true, out, in, 3, 3));
            conv2 = child("conv2", new WaveDiffGenerator.Numbered()).add(0, new Layer(0, true, out, out, 3, 3));
            denseT1 = child("dense_t1", new Layer(1, true, out, temb));
            skip = child("skip", new WaveDiffGenerator.Numbered()).add(0, new Layer(1, false, out, in, 1, 1));
        }

        Tensor forward(Graph g, Tensor x, Tensor temb) {
            return forward(g, x, temb, null);
        }

        /** The block; with {@code trace}, what its input gradient needs: the input, the second activation's input. */
        Tensor forward(Graph g, Tensor x, Tensor temb, Tensor[] trace) {
            requireChannels(x, in);
            Tensor input = x;
            Tensor h = conv1.conv(g, g.leakyRelu(x, SLOPE));
            Tensor pre = g.addPlanes(h, denseT1.dense(g, temb));
            h = g.leakyRelu(pre, SLOPE);
            if (down) {
                h = g.upfirdn(h, FIR.clone(), 1, 2, 1, 1);
                x = g.upfirdn(x, FIR.clone(), 1, 2, 1, 1);
            }
            h = conv2.conv(g, h);
            if (trace != null) {
                trace[0] = input;
                trace[1] = pre;
            }
            return g.scale(g.add(h, skip.conv(g, x)), RESCALE);
        }

        /** The gradient of the block's input from its output's, {@code gy}, as differentiable ops (the forward's {@code trace}). */
        Tensor inputGradient(Graph g, Tensor gy, Tensor[] trace) {
            Tensor input = trace[0], pre = trace[1];
            Tensor go = g.scale(gy, RESCALE);
            Tensor gs = g.conv2dInputGrad(go, skip.weight, 0);
            Tensor gh = g.conv2dInputGrad(go, conv2.weight, 1);
            if (down) {
                gs = g.upfirdnInputGrad(gs, input.shape(), FIR.clone(), 1, 2, 1, 1);
                gh = g.upfirdnInputGrad(gh, pre.shape(), FIR.clone(), 1, 2, 1, 1);
            }
            gh = g.multiply(gh, g.leakyReluMask(pre, SLOPE));
            gh = g.multiply(g.conv2dInputGrad(gh, conv1.weight, 1), g.leakyReluMask(input, SLOPE));
            return g.add(gs, gh);
        }
    }

    private final Config config;
    private final Layer temb0;
    private final Layer temb1;
    private final Layer start;
    private final DownConvBlock[] blocks;
    private final Layer finalConv;
    private final Layer end;

    public WaveDiffDiscriminator(Config c) {
        this.config = c;
        int ngf = c.ngf(), e = c.temb();
        TimeEmbedding tEmbed = child("t_embed", new TimeEmbedding(e));
        temb0 = tEmbed.dense0;
        temb1 = tEmbed.dense2;
        start = child("start_conv", new Layer(1, true, 2 * ngf, 2 * c.channels(), 1, 1));
        int[] widths = c.large() ? new int[] {2, 4, 8, 8, 8, 8, 8} : c.layers() == 4 ? new int[] {2, 2, 4, 8, 8} : new int[] {2, 2, 4, 8};
        blocks = new DownConvBlock[c.layers()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = child("conv" + (i + 1), new DownConvBlock(widths[i] * ngf, widths[i + 1] * ngf, e, c.large() || i > 0));
        }
        finalConv = child("final_conv", new Layer(c.large() ? 1 : 0, true, 8 * ngf, 8 * ngf + 1, 3, 3));
        end = child("end_linear", new Layer(1, true, 1, 8 * ngf));
    }

    /** The official {@code TimestepEmbedding}: child {@code main}, a Sequential of dense (0), LeakyReLU (1), dense (2). */
    public static final class TimeEmbedding extends Module {
        final Layer dense0;
        final Layer dense2;

        TimeEmbedding(int e) {
            WaveDiffGenerator.Numbered main = child("main", new WaveDiffGenerator.Numbered());
            dense0 = main.add(0, new Layer(1, true, e, e));
            dense2 = main.add(2, new Layer(1, true, e, e));
        }
    }

    /**
     * A discriminator whose parameter names start with {@code prefix.} ({@code netD.start_conv.weight}): how a checkpoint
     * keeps it apart from the generator it trains with.
     */
    public static WaveDiffDiscriminator named(String prefix, Config c) {
        return new Prefixed(prefix, c).d;
    }

    private static final class Prefixed extends Module {
        final WaveDiffDiscriminator d;

        Prefixed(String prefix, Config c) {
            d = child(prefix, new WaveDiffDiscriminator(c));
        }
    }

    public Config config() {
        return config;
    }

    /**
     * Adds {@code D(x_t, t, x_{t+1})} to {@code g}.
     *
     * @param x    {@code x_t [N, channels, size, size]}
     * @param t    the time indices {@code [N]} (as floats)
     * @param xtp1 {@code x_{t+1}}, of x's shape
     * @return the logits {@code [N, 1]}
     * @throws dev.prism.nn.ModelShapeException naming the discriminator when a shape is not the one expected
     */
    public Tensor forward(Graph g, Tensor x, Tensor t, Tensor xtp1) {
        return layers(g, x, t, xtp1, false)[0];
    }

    /**
     * Adds {@code D(x_t, t, x_{t+1})} and the R1 penalty's input gradient {@code ∂ Σ_n D(x_t, t, x_{t+1})_n / ∂x_t} to
     * {@code g}, the gradient as ops of the graph (LeakyReLU's derivative as data, as PyTorch's double back-propagation
     * takes it): a loss of it differentiates to the discriminator's weights exactly as {@code autograd.grad(...,
     * create_graph=True)} does in the official {@code grad_penalty_call}.
     *
     * @return the logits {@code [N, 1]} and the gradient, of x's shape
     */
    public Tensor[] forwardWithInputGradient(Graph g, Tensor x, Tensor t, Tensor xtp1) {
        return layers(g, x, t, xtp1, true);
    }

    private Tensor[] layers(Graph g, Tensor x, Tensor t, Tensor xtp1, boolean inputGradient) {
        int[] s = x.shape();
        String expected = "[N, " + config.channels() + ", " + config.size() + ", " + config.size() + "]";
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.size() || s[3] != config.size()) {
            throw shapeError("input x_t", expected, s);
        }
        if (!xtp1.hasShape(s)) {
            throw shapeError("input x_{t+1}", expected.replace("N", String.valueOf(s[0])), xtp1.shape());
        }
        if (!t.hasShape(s[0])) {
            throw shapeError("time indices", "[" + s[0] + "]", t.shape());
        }
        int n = s[0];
        Tensor temb = g.leakyRelu(temb1.dense(g, g.leakyRelu(temb0.dense(g, g.timestepEmbedding(t, config.temb())), SLOPE)), SLOPE);
        Tensor h = start.conv(g, g.concat(x, xtp1));
        Tensor[][] traces = new Tensor[blocks.length][];
        for (int i = 0; i < blocks.length; i++) {
            traces[i] = inputGradient ? new Tensor[2] : null;
            h = blocks[i].forward(g, h, temb, traces[i]);
        }
        Tensor last = h;
        Tensor f = finalConv.conv(g, g.concat(h, g.minibatchStddev(h, STDDEV_GROUP)));
        h = g.leakyRelu(f, SLOPE);
        int area = h.dim(2) * h.dim(3);
        Tensor out = end.dense(g, g.scale(g.globalAvgPool(h), area));
        if (!inputGradient) {
            return new Tensor[] {out, null};
        }
        // ∂ΣD/∂x backwards through the layers, seed 1 per sample
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 1f);
        Tensor pooled = g.linearInputGrad(Tensor.of(g.table(ones), n, 1), end.weight);
        Tensor gh = g.addPlanes(Tensor.of(g.table(new float[h.numel()]), h.shape()), pooled);
        gh = g.conv2dInputGrad(g.multiply(gh, g.leakyReluMask(f, SLOPE)), finalConv.weight, 1);
        int c = last.dim(1);
        Tensor[] split = g.splitChannels(gh, c);
        gh = g.add(split[0], g.minibatchStddevInputGrad(last, split[1], STDDEV_GROUP));
        for (int i = blocks.length - 1; i >= 0; i--) {
            gh = blocks[i].inputGradient(g, gh, traces[i]);
        }
        Tensor gx = g.splitChannels(g.conv2dInputGrad(gh, start.weight, 0), config.channels())[0];
        return new Tensor[] {out, gx};
    }
}
