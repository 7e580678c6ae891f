package dev.prism.nn.models;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Footprint;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;

/**
 * The diffusion UNet (DDPM-style, Ho et al. 2020), predicting the noise ε of {@code x_t} at timestep t.
 * The hidden convolutions are of a selectable {@link ConvType}, so the same UNet exists with standard,
 * DeepPrism, separable, CosConv and ChebConv convolutions; with {@link Config#wavelet()} every down- and
 * up-sampling is WG-Down / WG-Up (Spectral Diffusion §5.1), the WG-UNet.
 *
 * <p>Level l works at width {@code w_l = C·mults[l]} (all ones by default: the constant width C).
 * <pre>
 * temb = time_embed.2(silu(time_embed.0(timestep_embedding(t, C))))      [N, 4C]
 * h    = conv_in(x)                                                      standard 3×3, Cin → C;  push h (concat)
 * for level l = 0 .. L−1:  R × (h = down.l.res.i(h, temb) → w_l; h = down.l.attn.i(h) if l ≥ attn); push h
 *                          h = down.l.downsample(h) unless l = L−1      (WG-Down when wavelet);  push h (concat)
 * h = mid.res1(h, temb); h = mid.attn(h); h = mid.res2(h, temb)         at w_{L−1}
 * for level l = L−1 .. 0:
 *     add:    R     × (h = up.l.res.i(h + pop(), temb); attention)      at w_l; the last block maps to w_{l−1} (w_0 at l = 0)
 *     concat: R + 1 × (h = up.l.res.i(cat([h, pop()], 1), temb); attention)   each block maps to w_l
 *                          h = up.l.upsample(h) unless l = 0           (WG-Up when wavelet)
 * ε    = conv_out(silu(norm_out(h)))                                     standard 3×3, w_0 → Cin
 * </pre>
 * {@code skip=add} is Prism's original design: skips add rather than concatenate, so with all
 * multipliers 1 every hidden convolution maps C to C, the constant width DeepPrism needs (DeepPrism §4.3
 * fixes the LDM UNet's width the same way). {@code skip=concat} is the DDPM UNet of Ho et al.: every
 * down-path activation (conv_in's output, every residual block's, every downsampling's) is pushed, and each
 * of the R + 1 residual blocks of an up level takes the concatenation of h and a popped skip. A residual
 * block whose input and output widths differ has a 1×1 {@code nin_shortcut} (the DDPM code's name);
 * sampling layers keep their width. DeepPrism and separable convolutions cannot change the width
 * (DeepPrism §4.1 calls channel re-sampling feasible but keeps C fixed), so in such a block {@code conv1} is a standard 3×3
 * convolution, like conv_in and conv_out; every other hidden convolution keeps the model's type.
 * Input {@code x [N, Cin, H, W]} with H and W divisible by 2^(L−1), {@code t [N]}; output {@code [N, Cin, H, W]}.
 */
public final class UNet extends Module {

    /** The skip connections: added (Prism's constant-width design) or concatenated (DDPM). */
    public static final List<String> SKIPS = List.of("add", "concat");

    /** The most resolutions: the size divisor 2^(L−1) is then 32768, larger than any image Prism can hold. */
    public static final int MAX_LEVELS = 16;

    /** The most residual blocks per level (each block is a few modules; 64 per level is far beyond any published UNet). */
    public static final int MAX_RES = 64;

    /** The widest level, C·mults[l], as the classifier's widest stage: beyond it a 3×3 convolution's weight exceeds a Java array. */
    public static final int MAX_WIDTH = 65536;

    /**
     * @param inChannels image channels (1 for Fashion-MNIST, 3 for colour)
     * @param width      the base width C (conv_in's output, the time embedding's C)
     * @param levels     resolutions L (L − 1 downsamplings)
     * @param resBlocks  residual blocks per level on the down path (and the up path with skip=add; R + 1 with concat)
     * @param attnFrom   levels ≥ this one get attention after each residual block (levels counted from 0 at full size)
     * @param conv       the hidden convolutions' type
     * @param orders     series coefficients per axis for CosConv / ChebConv, one per level (ApproxConv's
     *                   per-block orders, Tables 1–3): level l's residual blocks on both paths and its down-
     *                   and upsampling use orders[l], the middle uses the last level's
     * @param attention  {@code standard} (1×1 convolutions) or {@code prism} (PrismAttn)
     * @param heads      attention heads (a divisor of every width with attention)
     * @param groups     group-norm groups (a divisor of every normalised width)
     * @param wavelet    WG-Down / WG-Up instead of pooling / nearest upsampling
     * @param gates      gates per band for wavelet gating: 1, or C for one per band and channel of each layer
     * @param gateHidden hidden width of the gate network
     * @param padding    channel padding of DeepPrism convolutions
     * @param mults      the width multiplier of each level, {@code levels} values ≥ 1
     * @param skip       {@code add} or {@code concat}
     */
    public record Config(int inChannels, int width, int levels, int resBlocks, int attnFrom, ConvType conv, int[] orders,
                         String attention, int heads, int groups, boolean wavelet, int gates, int gateHidden,
                         ChannelPadding padding, int[] mults, String skip) {
        public Config {
            positive("in", inChannels);
            positive("width", width);
            positive("levels", levels);
            positive("res", resBlocks);
            if (levels > MAX_LEVELS) {
                throw new IllegalArgumentException("levels expected 1 to " + MAX_LEVELS + ", found " + levels);
            }
            if (resBlocks > MAX_RES) {
                throw new IllegalArgumentException("res expected 1 to " + MAX_RES + ", found " + resBlocks);
            }
            if (attnFrom < 0) {
                throw new IllegalArgumentException("attn expected >= 0 (the first level with attention), found " + attnFrom);
            }
            if (!attention.equals("standard") && !attention.equals("prism")) {
                throw new IllegalArgumentException("attention expected standard or prism, found '" + attention + "'");
            }
            positive("heads", heads);
            if (!SKIPS.contains(skip)) {
                throw new IllegalArgumentException("skip expected add or concat, found '" + skip + "'");
            }
            if (mults == null || mults.length != levels) {
                throw new IllegalArgumentException("mults expected " + levels + " values (one per level), found "
                        + (mults == null ? "none" : Arrays.toString(mults)));
            }
            mults = mults.clone();
            if (orders == null || orders.length != levels) {
                throw new IllegalArgumentException("order expected " + levels + " values (one per level), found "
                        + (orders == null ? "none" : Arrays.toString(orders)));
            }
            orders = orders.clone();
            for (int m : mults) {
                if (m < 1) {
                    throw new IllegalArgumentException("mults expected values >= 1, found " + Arrays.toString(mults));
                }
                if ((long) width * m > MAX_WIDTH) {
                    throw new IllegalArgumentException("width·mults expected at most " + MAX_WIDTH + " channels at every level, found "
                            + width + "·" + m + " = " + (long) width * m);
                }
            }
            // Every width in the model is a multiple of C (C·mults[l], and sums of those where skips are
            // concatenated), so a divisor of C divides them all.
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

        /** The constant-width UNet with added skips, as before the options mults and skip existed. */
        public Config(int inChannels, int width, int levels, int resBlocks, int attnFrom, ConvType conv, int order,
                      String attention, int heads, int groups, boolean wavelet, int gates, int gateHidden, ChannelPadding padding) {
            this(inChannels, width, levels, resBlocks, attnFrom, conv, filled(levels, order), attention, heads, groups, wavelet, gates,
                    gateHidden, padding, filled(levels, 1), "add");
        }

        private static int[] filled(int levels, int value) {
            int[] m = new int[Math.max(0, levels)];
            Arrays.fill(m, value);
            return m;
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " expected >= 1, found " + v);
            }
        }

        @Override
        public int[] mults() {
            return mults.clone();
        }

        @Override
        public int[] orders() {
            return orders.clone();
        }

        /** The CosConv / ChebConv order of level l (the middle: the last level's). */
        public int order(int level) {
            return orders[level];
        }

        /** The input size must be divisible by this. */
        public int divisor() {
            return 1 << (levels - 1);
        }

        /** The widths of every block. */
        Layout layout() {
            return Layout.of(width, levels, resBlocks, mults, skip.equals("concat"));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Config c && inChannels == c.inChannels && width == c.width && levels == c.levels
                    && resBlocks == c.resBlocks && attnFrom == c.attnFrom && conv == c.conv && Arrays.equals(orders, c.orders)
                    && attention.equals(c.attention) && heads == c.heads && groups == c.groups && wavelet == c.wavelet
                    && gates == c.gates && gateHidden == c.gateHidden && padding == c.padding && Arrays.equals(mults, c.mults)
                    && skip.equals(c.skip);
        }

        @Override
        public int hashCode() {
            return Objects.hash(inChannels, width, levels, resBlocks, attnFrom, conv, Arrays.hashCode(orders), attention, heads, groups, wavelet,
                    gates, gateHidden, padding, Arrays.hashCode(mults), skip);
        }

        @Override
        public String toString() {
            return "Config[in=" + inChannels + ", width=" + width + ", levels=" + levels + ", res=" + resBlocks + ", attn=" + attnFrom
                    + ", conv=" + conv.key() + ", order=" + Arrays.toString(orders) + ", attention=" + attention + ", heads=" + heads + ", groups=" + groups
                    + ", wavelet=" + wavelet + ", gates=" + gates + ", gate_hidden=" + gateHidden + ", padding=" + padding
                    + ", mults=" + Arrays.toString(mults) + ", skip=" + skip + "]";
        }
    }

    /** The input and output width of one residual block. */
    record Block(int in, int out) {
    }

    /**
     * The widths of a UNet, found by replaying its skip stack: the blocks of each level on the down and the
     * up path, the width of each level's down- and upsampling (0 where there is none), and the middle's.
     */
    record Layout(List<List<Block>> down, int[] downsample, int mid, List<List<Block>> up, int[] upsample) {
        static Layout of(int width, int levels, int res, int[] mults, boolean concat) {
            int[] w = new int[levels];
            for (int l = 0; l < levels; l++) {
                w[l] = width * mults[l];
            }
            Deque<Integer> stack = new ArrayDeque<>();
            List<List<Block>> down = new ArrayList<>();
            List<List<Block>> up = new ArrayList<>();
            int[] downsample = new int[levels];
            int[] upsample = new int[levels];
            int h = width;
            if (concat) {
                stack.push(h);
            }
            for (int l = 0; l < levels; l++) {
                List<Block> blocks = new ArrayList<>();
                for (int i = 0; i < res; i++) {
                    blocks.add(new Block(h, w[l]));
                    h = w[l];
                    stack.push(h);
                }
                down.add(blocks);
                if (l < levels - 1) {
                    downsample[l] = h;
                    if (concat) {
                        stack.push(h);
                    }
                }
            }
            int mid = h;
            for (int l = levels - 1; l >= 0; l--) {
                List<Block> blocks = new ArrayList<>();
                int count = concat ? res + 1 : res;
                for (int i = 0; i < count; i++) {
                    int skip = stack.pop();
                    int out = concat || i < res - 1 ? w[l] : w[Math.max(0, l - 1)];
                    blocks.add(new Block(concat ? h + skip : h, out));
                    h = out;
                }
                up.addFirst(blocks);
                upsample[l] = l > 0 ? h : 0;
            }
            return new Layout(List.copyOf(down), downsample, mid, List.copyOf(up), upsample);
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

        /** @param resampleWidth the width of this level's down- or upsampling, 0 for none */
        Level(Config c, int level, boolean downPath, List<Block> blocks, int resampleWidth) {
            int t = 4 * c.width();
            res = new TimeResBlock[blocks.size()];
            attn = new Module[level >= c.attnFrom() ? blocks.size() : 0];
            Holder resHolder = child("res", new Holder());
            for (int i = 0; i < res.length; i++) {
                Block b = blocks.get(i);
                res[i] = resHolder.add(String.valueOf(i), new TimeResBlock(b.in(), b.out(), t, c.groups(), c.conv(), c.order(level), c.padding()));
            }
            if (attn.length > 0) {
                Holder attnHolder = child("attn", new Holder());
                for (int i = 0; i < attn.length; i++) {
                    attn[i] = attnHolder.add(String.valueOf(i), attention(c, blocks.get(i).out()));
                }
            }
            int w = resampleWidth;
            if (w == 0) {
                resample = null;
            } else if (c.wavelet()) {
                int gates = c.gates() == 1 ? 1 : w;  // gates = C: one per band and channel of this layer
                resample = child(downPath ? "downsample" : "upsample", downPath ? WaveletGate.down(w, c.gateHidden(), gates)
                        : WaveletGate.up(w, c.gateHidden(), gates));
            } else {
                resample = child(downPath ? "downsample" : "upsample", downPath ? Resample.down(w, c.conv(), c.order(level), c.padding())
                        : Resample.up(w, c.conv(), c.order(level), c.padding()));
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

        Mid(Config c, int w) {
            int t = 4 * c.width();
            int order = c.order(c.levels() - 1);
            res1 = child("res1", new TimeResBlock(w, w, t, c.groups(), c.conv(), order, c.padding()));
            attn = child("attn", attention(c, w));
            res2 = child("res2", new TimeResBlock(w, w, t, c.groups(), c.conv(), order, c.padding()));
        }
    }

    private static Module attention(Config c, int channels) {
        return c.attention().equals("prism") ? new PrismAttnBlock(channels, c.groups(), 3, c.heads(), c.padding())
                : new AttnBlock(channels, c.groups(), c.heads());
    }

    public UNet(Config config) {
        this.config = config;
        int w = config.width();
        Layout layout = config.layout();
        time0 = child("time_embed.0", new Linear(w, 4 * w));
        time2 = child("time_embed.2", new Linear(4 * w, 4 * w));
        convIn = child("conv_in", Conv.standard(config.inChannels(), w, 3));
        Holder downs = child("down", new Holder());
        down = new Level[config.levels()];
        for (int l = 0; l < config.levels(); l++) {
            down[l] = downs.add(String.valueOf(l), new Level(config, l, true, layout.down().get(l), layout.downsample()[l]));
        }
        mid = child("mid", new Mid(config, layout.mid()));
        Holder ups = child("up", new Holder());
        up = new Level[config.levels()];
        for (int l = 0; l < config.levels(); l++) {
            up[l] = ups.add(String.valueOf(l), new Level(config, l, false, layout.up().get(l), layout.upsample()[l]));
        }
        int last = w * config.mults()[0];
        normOut = child("norm_out", new GroupNorm(config.groups(), last, 1e-6f));
        convOut = child("conv_out", Conv.standard(last, config.inChannels(), 3));
    }

    public Config config() {
        return config;
    }

    /**
     * The arrays that {@link #forward}'s graph holds for images of {@code height × width}, at any batch: the
     * weights, tables, activations and scratch, but not the input x and t. Found before any of them is
     * allocated, by {@link Footprint#extrapolate} from this model's graphs at batch 1 and 2 and sizes of 1 to 3
     * times the divisor (which allocate the weights, if not yet done).
     *
     * @throws dev.prism.nn.ModelShapeException naming the input when height or width is not a positive
     *                                          multiple of the divisor
     */
    public Footprint forwardFootprint(int height, int width) {
        int d = config.divisor();
        if (height < 1 || width < 1 || height % d != 0 || width % d != 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W positive multiples of " + d,
                    new int[] {-1, config.inChannels(), height, width});
        }
        return Footprint.extrapolate((n, a, b) -> {
            Graph g = new Graph("footprint");
            Tensor x = Tensor.zeros(n, config.inChannels(), d * a, d * b);
            Tensor t = Tensor.zeros(n);
            forward(g, x, t);
            return Footprint.arrays(g.forwardLaunches(), x.data(), t.data());
        }, height / d, width / d);
    }

    /**
     * Adds ε = UNet(x, t) to {@code g}.
     *
     * @throws dev.prism.nn.ModelShapeException naming the layer when x is not [N, Cin, H, W] with H, W
     *                                          divisible by 2^(L−1), or t is not [N]
     */
    public Tensor forward(Graph g, Tensor x, Tensor t) {
        return forwardWithFeatures(g, x, t).eps();
    }

    /**
     * The prediction and the decoder's feature map at every resolution: {@code levels.get(l)} is the output of up level
     * l (its last residual block, and attention where the level has it) before its upsampling,
     * {@code [N, decoderWidth(l), H/2^l, W/2^l]}; level 0's is what {@code norm_out} and {@code conv_out} turn into ε.
     */
    public record Features(Tensor eps, List<Tensor> levels) {
        public Features {
            levels = List.copyOf(levels);
        }
    }

    /** The channels of {@link Features#levels()} at level {@code l} (0 ≤ l < levels). */
    public int decoderWidth(int level) {
        if (level < 0 || level >= config.levels()) {
            throw new IllegalArgumentException("level expected 0 to " + (config.levels() - 1) + ", found " + level);
        }
        return config.layout().up().get(level).getLast().out();
    }

    /**
     * Adds ε = UNet(x, t) to {@code g}, as {@link #forward}, and returns the decoder's feature maps with it (the same
     * launches: the features are intermediate tensors of the same graph).
     *
     * @throws dev.prism.nn.ModelShapeException as {@link #forward}
     */
    public Features forwardWithFeatures(Graph g, Tensor x, Tensor t) {
        int d = config.divisor();
        int[] s = x.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % d != 0 || s[3] % d != 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W divisible by " + d, s);
        }
        if (t.rank() != 1 || t.dim(0) != s[0]) {
            throw shapeError("timesteps", "[" + s[0] + "]", t.shape());
        }
        boolean concat = config.skip().equals("concat");
        Tensor temb = g.silu(time2.forward(g, g.silu(time0.forward(g, g.timestepEmbedding(t, config.width())))));
        Tensor h = convIn.forward(g, x);
        Deque<Tensor> skips = new ArrayDeque<>();
        if (concat) {
            skips.push(h);
        }
        for (int l = 0; l < config.levels(); l++) {
            Level lv = down[l];
            for (int i = 0; i < lv.res.length; i++) {
                h = lv.res[i].forward(g, h, temb);
                if (lv.attn.length > 0) {
                    h = attend(g, lv.attn[i], h);
                }
                skips.push(h);
            }
            if (lv.resample != null) {
                h = resample(g, lv.resample, h);
                if (concat) {
                    skips.push(h);
                }
            }
        }
        h = mid.res1.forward(g, h, temb);
        h = attend(g, mid.attn, h);
        h = mid.res2.forward(g, h, temb);
        Tensor[] features = new Tensor[config.levels()];
        for (int l = config.levels() - 1; l >= 0; l--) {
            Level lv = up[l];
            for (int i = 0; i < lv.res.length; i++) {
                h = concat ? g.concat(h, skips.pop()) : g.add(h, skips.pop());
                h = lv.res[i].forward(g, h, temb);
                if (lv.attn.length > 0) {
                    h = attend(g, lv.attn[i], h);
                }
            }
            features[l] = h;
            if (lv.resample != null) {
                h = resample(g, lv.resample, h);
            }
        }
        return new Features(convOut.forward(g, normOut.forward(g, h, true)), Arrays.asList(features));
    }

    private static Tensor attend(Graph g, Module attn, Tensor h) {
        return attn instanceof PrismAttnBlock p ? p.forward(g, h) : ((AttnBlock) attn).forward(g, h);
    }

    private static Tensor resample(Graph g, Module r, Tensor h) {
        return r instanceof WaveletGate wg ? wg.forward(g, h) : ((Resample) r).forward(g, h);
    }
}
