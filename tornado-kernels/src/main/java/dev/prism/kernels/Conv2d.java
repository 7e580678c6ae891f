package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.ArrayList;
import java.util.List;

/**
 * Checked launches of the 2-D convolution ({@code F.conv2d}) and its backward pass: input
 * {@code x[N,Cin,H,W]}, weight {@code w[Cout,Cin/groups,KH,KW]}, optional {@code bias[Cout]}, output
 * {@code y[N,Cout,OH,OW]}. See {@link Conv2dKernels} for the formula.
 *
 * <p>A pointwise convolution (1×1 kernel, stride 1, padding 0, dilation 1, groups 1) is a matrix product
 * per batch item, {@code y[n] = W·x[n]} with {@code W[Cout,Cin]} and {@code x[n]} as {@code [Cin, H·W]}.
 * {@link #forward} and {@link #backward} route that case through {@link GemmKernels#matmul}, bit-identical
 * to the direct kernels (which {@link #forwardDirect} and {@link #backwardDirect} always use), and the
 * weight gradient through {@link GemmKernels#matmulBatchSum}. Both weight-gradient kernels sum in double
 * ({@link Sums}), one per plane and the other per row, so they agree to the float rounding of the
 * result: the same bits except where their double sums straddle a rounding boundary. {@link #backward} sums the other
 * geometries' weight gradients in {@link #weightChunks} parts of the batch ({@link Conv2dKernels#backwardWeightChunks},
 * then {@link Conv2dKernels#weightChunksReduce}: each part's double sum kept unrounded, the parts added in double and
 * rounded once), so that the JVM backend's threads split the batch rather than the output channels;
 * {@link #backwardDirect} keeps the single sum ({@link Conv2dKernels#backwardWeight}).
 *
 * <p>For the other geometries of stride 1 and groups 1 whose padding is at most the dilated kernel's reach
 * ({@link Geometry#inputGradientIsForward}, every 3×3 "same" layer of the models), {@link #backward}
 * computes the input gradient as a forward convolution of {@code gy} with the flipped, transposed weights
 * ({@link Conv2dKernels#flipWeights}, then {@link Conv2dKernels#forward}): one kernel, and its vector
 * variant, serve the forward pass and the input gradient. It adds the same terms as
 * {@link Conv2dKernels#backwardInput} in another order (taps descending), so the two agree to rounding.
 */
public final class Conv2d {
    private static final Kernel FORWARD = Kernel.of("conv2d.forward", "forwardRow").vector("Conv2dVector", "forwardRows");
    private static final Kernel FLIP = Kernel.of("conv2d.flipWeights", "flipWeightsLane").vector("Conv2dVector", "flipWeightsRange");
    private static final Kernel TILE = Kernel.of("conv2d.batchToWidth", "batchToWidthRow");
    private static final Kernel UNTILE = Kernel.of("conv2d.widthToBatch", "widthToBatchRow");
    /**
     * Output planes at most this wide are convolved with the batch side by side ({@link #batchToWidth}): the JVM
     * variant fills whole vectors only along a row, so 4- and 8-wide rows used a quarter and a half of a 512-bit
     * vector (WaveDiff's CIFAR-10 generator at batch 100: its 4×4 and 8×8 layers at 35 and 80 GFLOP/s against 167
     * on 16×16, 2.4 of its 4.9 s per forward).
     */
    public static final int TILED_MAX_WIDTH = 8;
    private static final Kernel BACKWARD_INPUT = Kernel.of("conv2d.backwardInput", "backwardInputRow");
    private static final Kernel BACKWARD_WEIGHT = Kernel.of("conv2d.backwardWeight", "backwardWeightLane")
            .vector("Conv2dWeightGradVector", "backwardWeightLanes");
    private static final Kernel BACKWARD_WEIGHT_CHUNKS = Kernel.of("conv2d.backwardWeightChunks", "backwardWeightChunkLane")
            .vector("Conv2dWeightGradVector", "backwardWeightChunkLanes");
    private static final Kernel WEIGHT_CHUNKS_REDUCE = Kernel.of("conv2d.weightChunksReduce", "weightChunksReduceLane");
    /**
     * Parts of the batch that {@link #backward} sums a weight gradient in ({@link Conv2dKernels#backwardWeightChunks}), at
     * most: a thread of the JVM backend that takes whole parts transforms only its own batch items' inputs, where one that
     * takes whole output channels transformed the whole batch's (up to 4 threads; each part adds two floats per weight).
     */
    public static final int WEIGHT_CHUNKS = 4;
    /**
     * The fewest output positions per plane ({@code OH·OW}) for which {@link #backward} sums the weight gradient in parts
     * of the batch. One thread's half of a layer at batch 64 (AMD Zen 5, a throwaway harness; by output channels against
     * by parts): 3×3 layers at 32×32 6.4 → 4.5 ms (32 → 32 channels), 13.6 → 9.0 (96 → 32) at 512 bits, 8.5 → 7.4 and
     * 23.5 → 19.4 at 256; at 16×16 3.2 → 3.1 (64 → 64) at 512, 6.6 → 5.9 at 256; at 8×8 1.21 → 1.53 at 512 (1.92 → 1.89
     * at 256), so 8×8 planes keep the single sum.
     */
    public static final int WEIGHT_CHUNKS_MIN_PLANE = 256;

    private Conv2d() {
    }

    /**
     * The geometry of one convolution, checked when it is made; {@link #pack()} gives the kernels'
     * geometry argument. Strides and dilations are at least 1, padding at least 0, {@code groups} divides
     * {@code cin} and {@code cout}, and the dilated kernel fits the padded input, so that
     * {@code oh = (h + 2·ph − dh·(kh−1) − 1)/sh + 1} and {@code ow} likewise are positive.
     */
    public record Geometry(int n, int cin, int h, int w, int cout, int kh, int kw,
                           int sh, int sw, int ph, int pw, int dh, int dw, int groups) {

        public Geometry {
            Check c = Check.of("conv2d").positive("n", n).positive("cin", cin).positive("h", h).positive("w", w)
                    .positive("cout", cout).positive("kh", kh).positive("kw", kw).positive("sh", sh).positive("sw", sw)
                    .nonNegative("ph", ph).nonNegative("pw", pw).positive("dh", dh).positive("dw", dw)
                    .positive("groups", groups)
                    .that(cin % groups == 0, "groups", "a divisor of cin = " + cin, groups)
                    .that(cout % groups == 0, "groups", "a divisor of cout = " + cout, groups);
            int oh = outputSize(h, kh, sh, ph, dh);
            int ow = outputSize(w, kw, sw, pw, dw);
            c.that(oh > 0, "oh", "> 0 where oh = (h + 2·ph − dh·(kh−1) − 1)/sh + 1 with h = " + h + ", ph = " + ph
                    + ", dh = " + dh + ", kh = " + kh + ", sh = " + sh, oh);
            c.that(ow > 0, "ow", "> 0 where ow = (w + 2·pw − dw·(kw−1) − 1)/sw + 1 with w = " + w + ", pw = " + pw
                    + ", dw = " + dw + ", kw = " + kw + ", sw = " + sw, ow);
            c.size("x", n, cin, h, w);
            c.size("y", n, cout, oh, ow);
            c.size("w", cout, cin / groups, kh, kw);
        }

        /** Square kernel, stride, padding and dilation. */
        public static Geometry of(int n, int cin, int h, int w, int cout, int k, int stride, int padding, int dilation,
                                  int groups) {
            return new Geometry(n, cin, h, w, cout, k, k, stride, stride, padding, padding, dilation, dilation, groups);
        }

        private static int outputSize(int size, int k, int stride, int pad, int dilation) {
            // floorDiv: when the dilated kernel does not fit, the size comes out <= 0 instead of rounding up to 1
            return Math.floorDiv(size + 2 * pad - dilation * (k - 1) - 1, stride) + 1;
        }

        public int oh() {
            return outputSize(h, kh, sh, ph, dh);
        }

        public int ow() {
            return outputSize(w, kw, sw, pw, dw);
        }

        public int xSize() {
            return n * cin * h * w;
        }

        public int wSize() {
            return cout * (cin / groups) * kh * kw;
        }

        public int ySize() {
            return n * cout * oh() * ow();
        }

        /**
         * True where {@link Conv2d#forwardSideBySide} lays the batch side by side: more than one image, output rows at most
         * {@link #TILED_MAX_WIDTH} wide, stride 1, dilation 1, groups 1, and the output exactly as wide as the input
         * plus its padding allows ({@code OW = W + 2·pw − kw + 1}, so that each image's outputs sit at the same
         * offset as its inputs).
         */
        public boolean tileable() {
            return n > 1 && ow() <= TILED_MAX_WIDTH && sh == 1 && sw == 1 && dh == 1 && dw == 1 && groups == 1;
        }

        /** True for the 1×1, stride 1, padding 0, dilation 1, groups 1 case that is a matrix product. */
        public boolean isPointwise() {
            return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && dh == 1 && dw == 1 && groups == 1;
        }

        /**
         * True when the input gradient is a forward convolution of the output gradient
         * ({@link #inputGradientAsForward}): stride 1, groups 1, and padding at most the dilated kernel's
         * reach, {@code ph <= dh·(kh−1)} and {@code pw <= dw·(kw−1)}, so that the transposed padding is not
         * negative.
         */
        public boolean inputGradientIsForward() {
            return sh == 1 && sw == 1 && groups == 1 && ph <= dh * (kh - 1) && pw <= dw * (kw - 1);
        }

        /**
         * The forward convolution that computes the input gradient when {@link #inputGradientIsForward}:
         * input {@code gy[N, Cout, OH, OW]}, weights {@link Conv2dKernels#flipWeights} of these
         * ({@code [Cin, Cout, KH, KW]}), output {@code gx[N, Cin, H, W]}, stride 1, the same dilation, padding
         * {@code dh·(kh−1) − ph} and {@code dw·(kw−1) − pw}; its output size is {@code h × w}.
         */
        public Geometry inputGradientAsForward() {
            if (!inputGradientIsForward()) {
                throw new IllegalStateException("conv2d " + this + ": the input gradient is not a forward convolution"
                        + " (it needs stride 1, groups 1 and ph <= dh·(kh−1), pw <= dw·(kw−1))");
            }
            return new Geometry(n, cout, oh(), ow(), cin, kh, kw, 1, 1, dh * (kh - 1) - ph, dw * (kw - 1) - pw, dh, dw, 1);
        }

        /**
         * The kernels' geometry argument: a new {@code int[16]} with the fields at the indices
         * {@link Conv2dKernels#N} .. {@link Conv2dKernels#OW}: {@code n, cin, h, w, cout, kh, kw, sh, sw, ph,
         * pw, dh, dw, groups, oh, ow}.
         */
        public int[] pack() {
            int[] g = new int[Conv2dKernels.GEOMETRY_LENGTH];
            g[Conv2dKernels.N] = n;
            g[Conv2dKernels.CIN] = cin;
            g[Conv2dKernels.H] = h;
            g[Conv2dKernels.W] = w;
            g[Conv2dKernels.COUT] = cout;
            g[Conv2dKernels.KH] = kh;
            g[Conv2dKernels.KW] = kw;
            g[Conv2dKernels.SH] = sh;
            g[Conv2dKernels.SW] = sw;
            g[Conv2dKernels.PH] = ph;
            g[Conv2dKernels.PW] = pw;
            g[Conv2dKernels.DH] = dh;
            g[Conv2dKernels.DW] = dw;
            g[Conv2dKernels.GROUPS] = groups;
            g[Conv2dKernels.OH] = oh();
            g[Conv2dKernels.OW] = ow();
            return g;
        }

        long macs() {
            return (long) n * cout * oh() * ow() * (cin / groups) * kh * kw;
        }

        @Override
        public String toString() {
            return n + "x" + cin + "x" + h + "x" + w + " -> " + cout + " k" + kh + "x" + kw + " s" + sh + "x" + sw
                    + " p" + ph + "x" + pw + " d" + dh + "x" + dw + " g" + groups;
        }
    }

    /**
     * {@code y = conv2d(x, w) + bias} ({@code bias} may be null); writes {@code y}. Pointwise geometries
     * run as one batched matrix product and {@link GemmKernels#addBias}, the others on {@link Conv2dKernels#forward},
     * which adds the bias itself.
     */
    public static List<Launch> forward(float[] x, float[] w, float[] bias, float[] y, Geometry g) {
        return forward("conv2d.forward", x, w, bias, y, g, g != null && g.isPointwise());
    }

    /**
     * {@link #forward}, except that where {@link Geometry#tileable} holds the batch runs side by side ({@link #tiled}).
     * Opt-in: its two scratch arrays hold {@code N·W + (N−1)·pw} columns, neither per image nor independent of the
     * batch, and whether a layer runs so depends on its size, which {@code Footprint}'s extrapolation of a model's
     * arrays from small probe plans does not model; WaveDiff's generator, which has no footprint, asks for it.
     */
    public static List<Launch> forwardSideBySide(float[] x, float[] w, float[] bias, float[] y, Geometry g) {
        if (g != null && !g.isPointwise() && g.tileable()) {
            return tiled(x, w, bias, y, g);
        }
        return forward(x, w, bias, y, g);
    }

    /**
     * {@link #forward} for a batch of narrow planes: the images side by side ({@link Conv2dKernels#batchToWidth}, a
     * gap of the horizontal padding between them), one convolution of that single wide image, and the outputs back
     * in their places ({@link Conv2dKernels#widthToBatch}). Each output sums the same terms in the same order as the
     * direct kernel (the gap's zeros stand where the padding's would). The two scratch arrays are this factory's.
     */
    private static List<Launch> tiled(float[] x, float[] w, float[] bias, float[] y, Geometry g) {
        Check c = Check.of("conv2d.forward");
        c.length("x", x, g.xSize());
        weight(c, w, g);
        c.length("y", y, g.ySize()).distinct("x", x, "y", y).distinct("w", w, "y", y);
        if (bias != null) {
            c.length("bias", bias, g.cout()).distinct("bias", bias, "y", y);
        }
        int gap = g.pw();
        int width = g.n() * g.w() + (g.n() - 1) * gap;
        Geometry wide = new Geometry(1, g.cin(), g.h(), width, g.cout(), g.kh(), g.kw(), 1, 1, g.ph(), g.pw(), 1, 1, 1);
        float[] xt = new float[wide.xSize()], yt = new float[wide.ySize()];
        List<Launch> launches = new ArrayList<>(4);
        launches.add(TILE.with(x, xt, g.n(), g.cin(), g.h(), g.w(), gap).writes(1).grid(g.cin(), g.h())
                .launch(0, 4L * g.xSize() + 4L * wide.xSize()));
        launches.addAll(forward("conv2d.forward", xt, w, bias, yt, wide, false));
        launches.add(UNTILE.with(yt, y, g.n(), g.cout(), g.oh(), g.ow(), wide.ow(), g.w() + gap).writes(1).grid(g.cout(), g.oh())
                .launch(0, 4L * g.ySize() + 4L * wide.ySize()));
        return launches;
    }

    /** {@link #forward} on the direct kernel whatever the geometry. */
    public static List<Launch> forwardDirect(float[] x, float[] w, float[] bias, float[] y, Geometry g) {
        return forward("conv2d.forwardDirect", x, w, bias, y, g, false);
    }

    /**
     * Backward of {@link #forward} for the output gradient {@code gy[N,Cout,OH,OW]}: the input gradient
     * {@code gx[N,Cin,H,W]} (the transposed convolution of {@code gy}), the weight gradient
     * {@code gw[Cout,Cin/groups,KH,KW]} and the bias gradient {@code gb[Cout] = Σ_{n,oy,ox} gy}. Each is
     * overwritten, or skipped when null. Pointwise geometries run {@code gx[n] = Wᵀ·gy[n]} and
     * {@code gw = Σ_n gy[n]·x[n]ᵀ} as matrix products; where {@link Geometry#inputGradientIsForward} holds,
     * {@code gx} is {@link Conv2dKernels#flipWeights} into a scratch array this factory allocates
     * ({@code w}'s length), then {@link Conv2dKernels#forward}.
     */
    public static List<Launch> backward(float[] x, float[] w, float[] gy, float[] gx, float[] gw, float[] gb, Geometry g) {
        return backward("conv2d.backward", x, w, gy, gx, gw, gb, g, false);
    }

    /** {@link #backward} on the direct kernels whatever the geometry. */
    public static List<Launch> backwardDirect(float[] x, float[] w, float[] gy, float[] gx, float[] gw, float[] gb,
                                              Geometry g) {
        return backward("conv2d.backwardDirect", x, w, gy, gx, gw, gb, g, true);
    }

    private static List<Launch> forward(String name, float[] x, float[] w, float[] bias, float[] y, Geometry g,
                                        boolean route) {
        Check c = Check.of(name);
        geometry(c, g);
        c.length("x", x, g.xSize());
        weight(c, w, g);
        c.length("y", y, g.ySize()).distinct("x", x, "y", y).distinct("w", w, "y", y);
        if (bias != null) {
            c.length("bias", bias, g.cout()).distinct("bias", bias, "y", y);
        }
        int hw = g.h() * g.w();
        List<Launch> launches = new ArrayList<>(2);
        if (route) {
            // y[n] (Cout×HW) = W (Cout×Cin, the same for every n) · x[n] (Cin×HW)
            launches.add(Gemm.matmul(w, x, y, g.n(), g.cout(), hw, g.cin(), false, false,
                    0, g.cin() * hw, g.cout() * hw, false));
            if (bias != null) {
                launches.add(Gemm.addBias(y, bias, g.n(), g.cout(), hw));
            }
        } else {
            // the kernel adds the bias to each finished sum; a layer without one gets zeros (the same bits)
            float[] b = bias != null ? bias : new float[g.cout()];
            Kernel.Builder k = FORWARD.with(x, w, b, y, g.pack()).writes(3).grid(g.n() * g.cout(), g.oh());
            if (bias == null) {
                k.owned(b);
            }
            launches.add(k.launch(2 * g.macs() + (long) g.ySize(), bytes(g) + 4L * g.cout()));
        }
        return launches;
    }

    private static List<Launch> backward(String name, float[] x, float[] w, float[] gy, float[] gx, float[] gw, float[] gb,
                                         Geometry g, boolean direct) {
        Check c = Check.of(name);
        geometry(c, g);
        boolean route = !direct && g.isPointwise();
        c.length("x", x, g.xSize());
        weight(c, w, g);
        c.length("gy", gy, g.ySize());
        int hw = g.h() * g.w();
        int[] geo = g.pack();
        List<Launch> launches = new ArrayList<>(3);
        if (gx != null) {
            c.length("gx", gx, g.xSize()).distinct("gy", gy, "gx", gx).distinct("w", w, "gx", gx);
            if (route) {
                // gx[n] (Cin×HW) = Wᵀ (Cin×Cout) · gy[n] (Cout×HW)
                launches.add(Gemm.matmul(w, gy, gx, g.n(), g.cin(), hw, g.cout(), true, false,
                        0, g.cout() * hw, g.cin() * hw, false));
            } else if (!direct && g.inputGradientIsForward()) {
                // gx = conv2d(gy, flipped and transposed w): the forward kernel and its variant serve both.
                // The flipped weights are scratch of this launch pair; the weights change every training
                // step, so the flip runs every time, before the convolution that reads it.
                float[] wf = new float[g.wSize()];
                launches.add(FLIP.with(w, wf, geo).writes(1).grid(g.wSize()).launch(0, 8L * g.wSize()));
                launches.addAll(forward(name, gy, wf, null, gx, g.inputGradientAsForward(), false));
            } else {
                launches.add(BACKWARD_INPUT.with(gy, w, gx, geo).writes(2).grid(g.n() * g.cin(), g.h())
                        .launch(2 * g.macs(), bytes(g)));
            }
        }
        if (gw != null) {
            c.length("gw", gw, g.wSize()).distinct("gy", gy, "gw", gw).distinct("x", x, "gw", gw);
            if (route) {
                // gw (Cout×Cin) = Σ_n gy[n] (Cout×HW) · x[n]ᵀ (HW×Cin): batch stride 0 on C sums over n
                launches.add(Gemm.matmul(gy, x, gw, g.n(), g.cout(), g.cin(), hw, false, true,
                        g.cout() * hw, g.cin() * hw, 0, false));
            } else if (!direct) {
                // each part of the batch's sums as unrounded pairs, then their sum rounded once; the partials are
                // scratch of this launch pair, as long for every batch and image size (a plan's arrays are either
                // that or a multiple of the batch: Footprint)
                int chunks = weightChunks(g);
                float[] partials = new float[2 * WEIGHT_CHUNKS * g.wSize()];
                launches.add(BACKWARD_WEIGHT_CHUNKS.with(x, gy, partials, geo, chunks).writes(2)
                        .grid(chunks * (g.wSize() / g.kw())).launch(2 * g.macs(), bytes(g) + 8L * chunks * g.wSize()));
                launches.add(WEIGHT_CHUNKS_REDUCE.with(partials, gw, chunks, g.wSize()).writes(1).grid(g.wSize())
                        .launch((long) chunks * g.wSize(), 8L * chunks * g.wSize() + 4L * g.wSize()));
            } else {
                launches.add(BACKWARD_WEIGHT.with(x, gy, gw, geo).writes(2).grid(g.wSize() / g.kw())
                        .launch(2 * g.macs(), bytes(g)));
            }
        }
        if (gb != null) {
            c.length("gb", gb, g.cout());
            launches.add(Gemm.biasGrad(gy, gb, g.n(), g.cout(), g.oh() * g.ow()));
        }
        return launches;
    }

    /**
     * The parts of the batch {@link #backward} sums {@code g}'s weight gradient in, when it is not a pointwise geometry:
     * {@link #WEIGHT_CHUNKS} at most, one per batch item at most, and 1 (the whole batch, one sum) for planes of fewer
     * than {@link #WEIGHT_CHUNKS_MIN_PLANE} outputs.
     */
    public static int weightChunks(Geometry g) {
        return g.oh() * g.ow() < WEIGHT_CHUNKS_MIN_PLANE ? 1 : Math.min(g.n(), WEIGHT_CHUNKS);
    }

    /** The compulsory traffic of one pass: x, w and y (or their gradients) once each. */
    private static long bytes(Geometry g) {
        return 4L * ((long) g.xSize() + g.wSize() + g.ySize());
    }

    private static void geometry(Check c, Geometry g) {
        if (g == null) {
            throw c.fail("geometry", "a Conv2d.Geometry", "null");
        }
    }

    private static void weight(Check c, float[] w, Geometry g) {
        int expected = g.wSize();
        if (w == null || w.length != expected) {
            throw c.fail("w", "length " + expected + " = [cout, cin/groups, kh, kw] = [" + g.cout() + ", "
                    + g.cin() / g.groups() + ", " + g.kh() + ", " + g.kw() + "] for groups = " + g.groups(),
                    w == null ? "null" : w.length);
        }
    }
}
