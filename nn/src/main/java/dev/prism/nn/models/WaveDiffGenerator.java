package dev.prism.nn.models;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.layers.GroupNorm;
import dev.prism.nn.layers.Linear;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.SplittableRandom;

/**
 * WaveDiff's generator for the configurations whose official class is {@code NCSNpp} (CIFAR-10): the
 * NCSN++ UNet of score SDEs with BigGAN residual blocks whose group norms are adaptive (conditioned on the
 * latent z through a mapping network), FIR up- and downsampling, and a residual input pyramid; it maps the
 * wavelet coefficients {@code x_t [N, 12, S, S]} of an image, the time index t and a latent
 * {@code z [N, nz]} to the predicted clean coefficients {@code x'_0 = tanh(...)} (WaveDiff §3–4, DDGAN's
 * generator). Parameter names are the official {@code state_dict}'s ({@code all_modules.N...},
 * {@code z_transform.{1,3,...}}), so an official {@code netG_*.pth} loads strictly (after its
 * DistributedDataParallel prefix {@code module.} is stripped).
 *
 * <pre>
 * zemb = z_transform(z):  PixelNorm, dense(nz, zdim), SiLU, mlp × [dense(zdim, zdim), SiLU]
 * temb = m1(silu(m0(timestep_embedding(t, nf))))                            m0, m1: dense, 4nf
 * hs   = [conv3x3(x)];  pyramid = x
 * level l = 0 .. L−1 (resolution S/2^l):  R × h = Block(hs.top → nf·mult_l); push h  (attention where listed)
 *   unless last:  h = Block_down(h);  pyramid = (FirConvDown(pyramid) + h)/√2;  h = pyramid; push h
 * h = Block(h); h = Attn(h); h = Block(h)
 * level l = L−1 .. 0:  R+1 × h = Block(cat(h, pop)) → nf·mult_l  (attention where listed);  unless l = 0: h = Block_up(h)
 * out  = tanh(conv3x3(silu(GroupNorm(h))))
 * with patch p > 1 (CelebA-HQ 1024): x is first folded into p×p patches, [N, C·p², S/p, S/p] with channel (p1·p + p2)·C + c,
 * and out unfolded from channel c·p² + p1·p + p2 (the official rearranges, whose channel orders differ)
 * Block(x):  h = conv0(up/down(silu(AdaGN0(x, zemb)))) + dense(silu(temb));  h = conv1(silu(AdaGN1(h, zemb)))
 *            return (skip(x) + h)/√2,   skip = up/down then a 1×1 conv where the width or size changes
 * AdaGN(x, zemb) = γ(zemb)·GroupNorm(x, affine=False, eps 1e-6) + β(zemb),   [γ, β] = style(zemb)
 * </pre>
 * Up/down in the blocks are StyleGAN2's FIR resampling with kernel {@code [1,3,3,1]}; the pyramid's
 * {@code FirConvDown} blurs with it (padding 2) and applies a stride-2 3×3 convolution. Group norms have
 * {@code min(C/4, 32)} groups. Dropout is inactive in sampling and absent here.
 */
public final class WaveDiffGenerator extends Module {
    /** StyleGAN2's FIR kernel of NCSN++ ({@code fir_kernel}), normalised to sum 1 per axis. */
    private static final float[] FIR = {1f / 8, 3f / 8, 3f / 8, 1f / 8};
    /** The same kernel with the gain 2 per axis of 2× upsampling ({@code upsample_2d}: gain·factor²). */
    private static final float[] FIR_UP = {2f / 8, 6f / 8, 6f / 8, 2f / 8};
    private static final float RESCALE = (float) (1 / Math.sqrt(2));

    /**
     * The generator's shape.
     *
     * @param channels    input and output channels (12: 4 Haar bands of RGB)
     * @param size        the input's height and width S (half the image size)
     * @param nf          base width ({@code num_channels_dae})
     * @param mults       width multiplier per level ({@code ch_mult})
     * @param resBlocks   residual blocks per level ({@code num_res_blocks})
     * @param attention   resolutions with attention after each block ({@code attn_resolutions}); the middle
     *                    always has attention
     * @param nz          latent size
     * @param zdim        width of the mapping network ({@code z_emb_dim})
     * @param mlp         hidden layers of the mapping network after its first ({@code n_mlp})
     * @param wavelet     the official {@code WaveletNCSNpp} ({@code net_type wavelet}): Haar instead of FIR
     *                    resampling in the blocks, the wavelet input pyramid and the frequency bottleneck
     * @param patch       side of the non-overlapping patches the input is folded into ({@code patch_size}; 1: none): the
     *                    network runs on {@code channels·patch²} channels at {@code size/patch}, as the official CelebA-HQ
     *                    1024 configuration (patch 2)
     */
    public record Config(int channels, int size, int nf, int[] mults, int resBlocks, int[] attention, int nz, int zdim, int mlp,
                         boolean wavelet, int patch) {
        public Config {
            positive("in", channels);
            positive("size", size);
            positive("patch", patch);
            if (size % patch != 0) {
                throw new IllegalArgumentException("option size expected a multiple of patch " + patch + ", found " + size);
            }
            positive("nf", nf);
            positive("res", resBlocks);
            positive("nz", nz);
            positive("zdim", zdim);
            if (mlp < 0) {
                throw new IllegalArgumentException("option mlp expected >= 0, found " + mlp);
            }
            if (mults == null || mults.length < 1) {
                throw new IllegalArgumentException("option mults expected at least one multiplier, found none");
            }
            mults = mults.clone();
            attention = attention == null ? new int[0] : attention.clone();
            for (int m : mults) {
                if (m < 1) {
                    throw new IllegalArgumentException("option mults expected values >= 1, found " + Arrays.toString(mults));
                }
            }
            int d = 1 << (mults.length - 1);
            if ((size / patch) % d != 0) {
                throw new IllegalArgumentException("option size expected a multiple of " + d * patch + " (" + (mults.length - 1)
                        + " downsamplings" + (patch > 1 ? " of " + patch + "×" + patch + " patches" : "") + "), found " + size);
            }
            if (nf % 4 != 0) {
                throw new IllegalArgumentException("option nf expected a multiple of 4 (group norms of min(C/4, 32) groups), found " + nf);
            }
        }

        /** A configuration without patches ({@code patch} 1). */
        public Config(int channels, int size, int nf, int[] mults, int resBlocks, int[] attention, int nz, int zdim, int mlp,
                      boolean wavelet) {
            this(channels, size, nf, mults, resBlocks, attention, nz, zdim, mlp, wavelet, 1);
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException("option " + name + " expected >= 1, found " + v);
            }
        }

        /** The network's resolution at its first level: {@code size / patch}. */
        int inner() {
            return size / patch;
        }

        @Override
        public int[] mults() {
            return mults.clone();
        }

        @Override
        public int[] attention() {
            return attention.clone();
        }

        boolean attentionAt(int resolution) {
            for (int a : attention) {
                if (a == resolution) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Config c && channels == c.channels && size == c.size && nf == c.nf && Arrays.equals(mults, c.mults)
                    && resBlocks == c.resBlocks && Arrays.equals(attention, c.attention) && nz == c.nz && zdim == c.zdim && mlp == c.mlp
                    && wavelet == c.wavelet && patch == c.patch;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(new int[] {channels, size, nf, Arrays.hashCode(mults), resBlocks, Arrays.hashCode(attention), nz, zdim, mlp,
                    wavelet ? 1 : 0, patch});
        }

        @Override
        public String toString() {
            return "Config[in=" + channels + ", size=" + size + ", nf=" + nf + ", mults=" + Arrays.toString(mults) + ", res=" + resBlocks
                    + ", attn=" + Arrays.toString(attention) + ", nz=" + nz + ", zdim=" + zdim + ", mlp=" + mlp + ", wavelet=" + wavelet
                    + (patch > 1 ? ", patch=" + patch : "") + "]";
        }
    }

    /** {@code min(C/4, 32)} groups, as every group norm of NCSN++. */
    static int groups(int channels) {
        return Math.max(1, Math.min(channels / 4, 32));
    }

    /** A numbered list of modules, as {@code nn.ModuleList} / {@code nn.Sequential}. */
    public static final class Numbered extends Module {
        <M extends Module> M add(int index, M m) {
            return child(String.valueOf(index), m);
        }
    }

    /**
     * WaveDiff's {@code AdaptiveGroupNorm}: a group norm without affine parameters (eps 1e-6) whose scale
     * and shift come from the latent embedding, {@code [γ, β] = style(zemb)}; child {@code style}
     * ({@code dense(zdim, 2C)}, whose bias starts at γ = 1, β = 0).
     */
    public static final class AdaptiveGroupNorm extends Module {
        private final int channels;
        private final Style style;

        /** {@code dense(zdim, 2C)}: {@code weight [2C, zdim]}, {@code bias [2C]} starting at γ = 1, β = 0. */
        public static final class Style extends Module {
            final Parameter weight;
            final Parameter bias;

            Style(int zdim, int channels) {
                weight = parameter("weight", 2 * channels, zdim);
                bias = parameter("bias", 2 * channels);
            }

            @Override
            protected void initialise(SplittableRandom r) {
                uniform(weight, r, weight.shape()[1]);
                float[] d = bias.value().data();
                Arrays.fill(d, 0, d.length / 2, 1f);
                Arrays.fill(d, d.length / 2, d.length, 0f);
            }
        }

        AdaptiveGroupNorm(int channels, int zdim) {
            this.channels = channels;
            style = child("style", new Style(zdim, channels));
        }

        /** {@code γ·norm(x) + β}, then SiLU when {@code silu}. */
        Tensor forward(Graph g, Tensor x, Tensor zemb, boolean silu) {
            requireChannels(x, channels);
            Tensor normed = g.groupNorm(x, null, null, groups(channels), 1e-6f, false);
            return g.modulate(normed, g.linear(zemb, style.weight, style.bias), silu);
        }
    }

    /**
     * NCSN++'s {@code ResnetBlockBigGANpp_Adagn} (FIR resampling) or WaveDiff's
     * {@code WaveletResnetBlockBigGANpp_Adagn} (Haar resampling, a frequency-aware block): children
     * GroupNorm_0, Conv_0, Dense_0, GroupNorm_1, Conv_1, Conv_2 (1×1, where needed) and, in a wavelet up
     * block, convH_0 (3×3, 3 groups, on the high bands of the matching down block).
     */
    public static final class Block extends Module {
        private final int in;
        private final int out;
        private final boolean up;
        private final boolean down;
        private final boolean wavelet;
        private final AdaptiveGroupNorm norm0;
        private final Conv conv0;
        private final Linear dense0;
        private final AdaptiveGroupNorm norm1;
        private final Conv conv1;
        private final Conv conv2;
        private final Grouped convH;

        /** A grouped 3×3 convolution's {@code weight [out, in/groups, 3, 3]} and {@code bias [out]}. */
        public static final class Grouped extends Module {
            final Parameter weight;
            final Parameter bias;
            final int groups;

            Grouped(int in, int out, int groups) {
                this.groups = groups;
                weight = parameter("weight", out, in / groups, 3, 3);
                bias = parameter("bias", out);
            }
        }

        /** @param hiIn a wavelet up block's width of the high bands it takes (the matching down block's), else 0 */
        Block(int in, int out, int tembDim, int zdim, boolean up, boolean down, boolean wavelet, int hiIn) {
            this.in = in;
            this.out = out;
            this.up = up;
            this.down = down;
            this.wavelet = wavelet;
            norm0 = child("GroupNorm_0", new AdaptiveGroupNorm(in, zdim));
            conv0 = child("Conv_0", Conv.standard(in, out, 3));
            dense0 = child("Dense_0", new Linear(tembDim, out));
            norm1 = child("GroupNorm_1", new AdaptiveGroupNorm(out, zdim));
            conv1 = child("Conv_1", Conv.standard(out, out, 3));
            conv2 = in != out || up || down ? child("Conv_2", Conv.standard(in, out, 1)) : null;
            convH = wavelet && up ? child("convH_0", new Grouped(3 * hiIn, 3 * out, 3)) : null;
        }

        /** @param tembAct {@code silu(temb)}, shared by every block */
        Tensor forward(Graph g, Tensor x, Tensor tembAct, Tensor zemb) {
            return forward(g, x, tembAct, zemb, null)[0];
        }

        /**
         * @param skipHigh a wavelet up block's high bands {@code [N, 3·hiIn, h, w]} (cV, cH, cD of the matching down
         *                 block, in the official order LH, HL, HH), else null
         * @return the output, and for a wavelet down block its high bands {@code [N, 3·out, h/2, w/2]} (LH, HL, HH)
         */
        Tensor[] forward(Graph g, Tensor x, Tensor tembAct, Tensor zemb, Tensor skipHigh) {
            requireChannels(x, in);
            Tensor h = norm0.forward(g, x, zemb, true);
            Tensor high = null;
            if (!wavelet) {
                if (up) {
                    h = up(g, h);
                    x = up(g, x);
                } else if (down) {
                    h = down(g, h);
                    x = down(g, x);
                }
                h = conv0.forward(g, h);
                if (conv2 != null) {
                    x = conv2.forward(g, x);
                }
            } else {
                h = conv0.forward(g, h);
                if (conv2 != null) {
                    x = conv2.forward(g, x);
                }
                if (up) {
                    // skipH = convH_0(cat(LH, HL, HH) / 2) · 2, then the inverse transform of (2h; those bands), and of (2x; the same)
                    Tensor s = g.scale(g.conv2d(g.scale(skipHigh, 0.5f), convH.weight, convH.bias, 1, 1, convH.groups), 2f);
                    Tensor[] lh = g.splitChannels(s, out);
                    Tensor[] hlHh = g.splitChannels(lh[1], out);
                    h = inverse(g, g.scale(h, 2f), lh[0], hlHh[0], hlHh[1]);
                    x = inverse(g, g.scale(x, 2f), lh[0], hlHh[0], hlHh[1]);
                } else if (down) {
                    Tensor[] hb = officialBands(g, h);
                    Tensor[] xb = officialBands(g, x);
                    high = g.concat(g.concat(hb[1], hb[2]), hb[3]);
                    h = g.scale(hb[0], 0.5f);
                    x = g.scale(xb[0], 0.5f);
                }
            }
            h = g.addPlanes(h, dense0.forward(g, tembAct));
            h = conv1.forward(g, norm1.forward(g, h, zemb, true));
            return new Tensor[] {g.scale(g.add(x, h), RESCALE), high};
        }

        /** {@code upsample_2d(x, [1,3,3,1], factor=2)}: pads (2, 1) around the zero-inserted input. */
        private static Tensor up(Graph g, Tensor x) {
            return g.upfirdn(x, FIR_UP.clone(), 2, 1, 2, 1);
        }

        /** {@code downsample_2d(x, [1,3,3,1], factor=2)}: pads (1, 1). */
        private static Tensor down(Graph g, Tensor x) {
            return g.upfirdn(x, FIR.clone(), 1, 2, 1, 1);
        }
    }

    /**
     * The official {@code DWT_2D("haar")} of x: LL, LH, HL, HH, which are PyWavelets' cA, cV, cH, cD (the
     * official module names a band by its filter along H first: LH is low along H, high along W).
     */
    static Tensor[] officialBands(Graph g, Tensor x) {
        int c = x.dim(1);
        Tensor[] a = g.splitChannels(g.haarDwt(x), c);        // cA | cH, cV, cD
        Tensor[] h = g.splitChannels(a[1], c);                 // cH | cV, cD
        Tensor[] vd = g.splitChannels(h[1], c);                // cV | cD
        return new Tensor[] {a[0], vd[0], h[0], vd[1]};
    }

    /** The official {@code IDWT_2D("haar")}(LL, LH, HL, HH): the image whose {@link #officialBands} they are. */
    static Tensor inverse(Graph g, Tensor ll, Tensor lh, Tensor hl, Tensor hh) {
        return g.haarIdwt(g.concat(g.concat(g.concat(ll, hl), lh), hh));
    }

    /**
     * NCSN++'s pyramid {@code Downsample(fir=True, with_conv=True)}: child {@code Conv2d_0} with
     * {@code weight [out, in, 3, 3]}, {@code bias [out]}; StyleGAN2's {@code conv_downsample_2d}: the
     * FIR blur with padding 2 on each side, then a 3×3 convolution of stride 2 without padding.
     */
    public static final class FirConvDown extends Module {
        private final Weights conv;

        /** The parameters of {@code up_or_down_sampling.Conv2d}. */
        public static final class Weights extends Module {
            final Parameter weight;
            final Parameter bias;

            Weights(int in, int out) {
                weight = parameter("weight", out, in, 3, 3);
                bias = parameter("bias", out);
            }
        }

        FirConvDown(int in, int out) {
            conv = child("Conv2d_0", new Weights(in, out));
        }

        /**
         * The stride-2 convolution is computed as a stride-1 convolution whose every other row and column is kept (an
         * upfirdn with the one-tap filter and down 2): the same sums at the kept outputs, about 3× the multiply-adds,
         * but through the JVM backend's vectorised stride-1 path; the plain stride-2 loop took 0.4 s of a 4.9 s
         * CIFAR-10 forward at batch 100 (2.7 GFLOP/s), this about a sixth of that in the same per-launch timing
         * (docs/WAVEDIFF.md, Speed).
         */
        Tensor forward(Graph g, Tensor x) {
            requireChannels(x, conv.weight.shape()[1]);
            Tensor dense = g.conv2d(g.upfirdn(x, FIR.clone(), 1, 1, 2, 2), conv.weight, conv.bias, 1, 0);
            return g.upfirdn(dense, new float[] {1f}, 1, 2, 0, 0);
        }
    }

    /**
     * WaveDiff's wavelet downsample layer of the input pyramid ({@code WaveletDownsample}): {@code weight [out, 4·in, 3, 3]},
     * {@code bias [out]}; {@code conv3x3(cat(LL, LH, HL, HH) / 2) + bias} of the official DWT.
     */
    public static final class WaveletDown extends Module {
        private final Parameter weight;
        private final Parameter bias;

        WaveletDown(int in, int out) {
            weight = parameter("weight", out, 4 * in, 3, 3);
            bias = parameter("bias", out);
        }

        Tensor forward(Graph g, Tensor x) {
            requireChannels(x, weight.shape()[1] / 4);
            Tensor[] b = officialBands(g, x);
            Tensor cat = g.concat(g.concat(g.concat(b[0], b[1]), b[2]), b[3]);
            return g.conv2d(g.scale(cat, 0.5f), weight, bias, 1, 1);
        }
    }

    /** NCSN++'s {@code NIN}: {@code W [in, out]}, {@code b [out]}. */
    public static final class Nin extends Module {
        final Parameter w;
        final Parameter b;

        Nin(int in, int out) {
            w = parameter("W", in, out);
            b = parameter("b", out);
        }

        @Override
        protected void initialise(SplittableRandom r) {
            uniform(w, r, w.shape()[0]);
            uniform(b, r, w.shape()[0]);
        }
    }

    /** NCSN++'s {@code AttnBlockpp} with skip rescaling: children GroupNorm_0, NIN_0 (q), NIN_1 (k), NIN_2 (v), NIN_3 (out). */
    public static final class Attention extends Module {
        private final int channels;
        private final GroupNorm norm;
        private final Nin[] nin = new Nin[4];

        Attention(int channels) {
            this.channels = channels;
            norm = child("GroupNorm_0", new GroupNorm(groups(channels), channels, 1e-6f));
            for (int i = 0; i < 4; i++) {
                nin[i] = child("NIN_" + i, new Nin(channels, channels));
            }
        }

        Tensor forward(Graph g, Tensor x) {
            requireChannels(x, channels);
            Tensor h = norm.forward(g, x, false);
            Tensor a = g.attention(g.nin(h, nin[0].w, nin[0].b), g.nin(h, nin[1].w, nin[1].b), g.nin(h, nin[2].w, nin[2].b), 1);
            return g.scale(g.add(x, g.nin(a, nin[3].w, nin[3].b)), RESCALE);
        }
    }

    private final Config config;
    private final Linear temb0;
    private final Linear temb1;
    private final Conv convIn;
    /** The down path in order: Block, Attention, or FirConvDown (the pyramid, right after a level's Block_down). */
    private final List<Module> downPath = new ArrayList<>();
    private final Block mid1;
    private final Attention midAttn;
    private final Block mid2;
    private final List<Module> upPath = new ArrayList<>();
    private final GroupNorm normOut;
    private final Conv convOut;
    private final Linear[] mapping;

    public WaveDiffGenerator(Config c) {
        this.config = c;
        int nf = c.nf(), t = 4 * nf, zdim = c.zdim();
        int[] mults = c.mults();
        int levels = mults.length;
        Numbered all = child("all_modules", new Numbered());
        int m = 0;
        temb0 = all.add(m++, new Linear(nf, t));
        temb1 = all.add(m++, new Linear(t, t));
        int folded = c.channels() * c.patch() * c.patch();
        convIn = all.add(m++, Conv.standard(folded, nf, 3));
        boolean wl = c.wavelet();
        Deque<Integer> hs = new ArrayDeque<>();
        Deque<Integer> high = new ArrayDeque<>();
        hs.push(nf);
        int in = nf, pyramid = folded;
        for (int l = 0; l < levels; l++) {
            int res = c.inner() >> l;
            for (int b = 0; b < c.resBlocks(); b++) {
                int out = nf * mults[l];
                downPath.add(all.add(m++, new Block(in, out, t, zdim, false, false, wl, 0)));
                in = out;
                if (c.attentionAt(res)) {
                    downPath.add(all.add(m++, new Attention(in)));
                }
                hs.push(in);
            }
            if (l != levels - 1) {
                high.push(in);
                downPath.add(all.add(m++, new Block(in, in, t, zdim, false, true, wl, 0)));
                downPath.add(all.add(m++, wl ? new WaveletDown(pyramid, in) : new FirConvDown(pyramid, in)));
                pyramid = in;
                hs.push(in);
            }
        }
        mid1 = all.add(m++, new Block(in, in, t, zdim, false, false, wl, 0));
        midAttn = all.add(m++, new Attention(in));
        mid2 = all.add(m++, new Block(in, in, t, zdim, false, false, wl, 0));
        for (int l = levels - 1; l >= 0; l--) {
            int res = c.inner() >> l;
            for (int b = 0; b < c.resBlocks() + 1; b++) {
                int out = nf * mults[l];
                upPath.add(all.add(m++, new Block(in + hs.pop(), out, t, zdim, false, false, wl, 0)));
                in = out;
            }
            if (c.attentionAt(res)) {
                upPath.add(all.add(m++, new Attention(in)));
            }
            if (l != 0) {
                upPath.add(all.add(m++, new Block(in, in, t, zdim, true, false, wl, wl ? high.pop() : 0)));
            }
        }
        normOut = all.add(m++, new GroupNorm(groups(in), in, 1e-6f));
        convOut = all.add(m, Conv.standard(in, folded, 3));
        Numbered z = child("z_transform", new Numbered());
        mapping = new Linear[c.mlp() + 1];
        mapping[0] = z.add(1, new Linear(c.nz(), zdim));
        for (int i = 1; i <= c.mlp(); i++) {
            mapping[i] = z.add(2 * i + 1, new Linear(zdim, zdim));
        }
    }

    public Config config() {
        return config;
    }

    /**
     * Initialises the parameters as the official code does for training (score SDE's {@code default_init}: every weight
     * uniform with the variance scaling {@code fan_avg}, scale 1; the residual blocks' {@code Conv_1}, the attention's
     * output {@code NIN_3} and the last convolution at scale 0 (1e-10), so that each block starts as its skip and the
     * output at 0; {@code NIN_0..2} at scale 0.1; biases 0, group-norm scales 1, the adaptive norms' γ 1 and β 0).
     */
    public void initialiseOfficial(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        String last = convOut.parameters().get(0).name();
        for (var p : parameters()) {
            String name = p.name();
            int[] shape = p.shape();
            float[] d = p.value().data();
            if (shape.length == 1) {
                if (name.endsWith("style.bias")) {
                    Arrays.fill(d, 0, d.length / 2, 1f);
                    Arrays.fill(d, d.length / 2, d.length, 0f);
                } else {
                    // a group norm's scale is its 1-D ".weight"; every other vector is a bias
                    Arrays.fill(d, name.endsWith(".weight") ? 1f : 0f);
                }
                continue;
            }
            double scale = name.endsWith("Conv_1.weight") || name.endsWith("NIN_3.W") || name.equals(last) ? 1e-10
                    : name.matches(".*NIN_[012]\\.W") ? 0.1 : 1;
            int receptive = 1;
            for (int i = 2; i < shape.length; i++) {
                receptive *= shape[i];
            }
            double fanAvg = (shape[0] + shape[1]) * (double) receptive / 2;
            double bound = Math.sqrt(3 * scale / fanAvg);
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) r.nextDouble(-bound, bound);
            }
        }
    }

    /**
     * Adds {@code x'_0 = G(x, t, z)} to {@code g}.
     *
     * @param x the wavelet coefficients {@code [N, channels, size, size]}
     * @param t the time indices {@code [N]} (0 .. T−1, as floats)
     * @param z the latents {@code [N, nz]}
     * @throws dev.prism.nn.ModelShapeException naming the generator when a shape is not the one expected
     */
    public Tensor forward(Graph g, Tensor x, Tensor t, Tensor z) {
        int[] s = x.shape();
        if (s.length != 4 || s[1] != config.channels() || s[2] != config.size() || s[3] != config.size()) {
            throw shapeError("input", "[N, " + config.channels() + ", " + config.size() + ", " + config.size() + "]", s);
        }
        if (!t.hasShape(s[0])) {
            throw shapeError("time indices", "[" + s[0] + "]", t.shape());
        }
        if (!z.hasShape(s[0], config.nz())) {
            throw shapeError("latent z", "[" + s[0] + ", " + config.nz() + "]", z.shape());
        }
        // Its 8×8 and 4×4 levels fill whole vectors only with the batch side by side; it has no Footprint to keep exact.
        boolean before = g.narrowConvolutionsSideBySide(true);
        try {
            return layers(g, x, t, z);
        } finally {
            g.narrowConvolutionsSideBySide(before);
        }
    }

    private Tensor layers(Graph g, Tensor x, Tensor t, Tensor z) {
        Tensor zemb = g.silu(mapping[0].forward(g, g.pixelNorm(z, 1e-8f)));
        for (int i = 1; i < mapping.length; i++) {
            zemb = g.silu(mapping[i].forward(g, zemb));
        }
        Tensor temb = temb1.forward(g, g.silu(temb0.forward(g, g.timestepEmbedding(t, config.nf()))));
        Tensor tembAct = g.silu(temb);

        Deque<Tensor> hs = new ArrayDeque<>();
        Deque<Tensor> skipHigh = new ArrayDeque<>();
        // The official patchify folds (p1 p2 c) and its unpatchify unfolds (c p1 p2): not each other's inverse, kept as is.
        x = g.patchify(x, config.patch(), false);
        Tensor h = convIn.forward(g, x);
        hs.push(h);
        Tensor pyramid = x;
        for (Module m : downPath) {
            if (m instanceof Block b) {
                Tensor[] r = b.forward(g, hs.peek(), tembAct, zemb, null);
                h = r[0];
                if (!b.down) {
                    hs.push(h);
                } else if (r[1] != null) {
                    skipHigh.push(r[1]);
                }
            } else if (m instanceof Attention a) {
                h = a.forward(g, hs.pop());
                hs.push(h);
            } else {
                Tensor p = m instanceof WaveletDown wd ? wd.forward(g, pyramid) : ((FirConvDown) m).forward(g, pyramid);
                pyramid = g.scale(g.add(p, h), RESCALE);
                h = pyramid;
                hs.push(h);
            }
        }
        if (config.wavelet()) {
            // The frequency bottleneck: the middle blocks on the low band at half the size, the high bands kept.
            h = bottleneck(g, mid1, hs.peek(), tembAct, zemb);
            h = midAttn.forward(g, h);
            h = bottleneck(g, mid2, mid2.forward(g, h, tembAct, zemb), tembAct, zemb);
        } else {
            h = mid2.forward(g, midAttn.forward(g, mid1.forward(g, hs.peek(), tembAct, zemb)), tembAct, zemb);
        }
        for (Module m : upPath) {
            if (m instanceof Block b) {
                h = b.up ? b.forward(g, h, tembAct, zemb, b.wavelet ? skipHigh.pop() : null)[0]
                        : b.forward(g, g.concat(h, hs.pop()), tembAct, zemb);
            } else {
                h = ((Attention) m).forward(g, h);
            }
        }
        return g.tanh(g.unpatchify(convOut.forward(g, normOut.forward(g, h, true)), config.patch(), true));
    }

    /** WaveDiff's frequency bottleneck block: {@code IDWT(2·block(LL/2); LH, HL, HH)} of {@code DWT(x)}. */
    private static Tensor bottleneck(Graph g, Block block, Tensor x, Tensor tembAct, Tensor zemb) {
        Tensor[] b = officialBands(g, x);
        Tensor low = block.forward(g, g.scale(b[0], 0.5f), tembAct, zemb);
        return inverse(g, g.scale(low, 2f), b[1], b[2], b[3]);
    }
}
