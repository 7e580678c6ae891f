package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the DeepPrism channel convolution in {@link PrismConvKernels}.
 *
 * <p>Prism convolution (DeepPrism eq. (3)): image {@code x[N,C,H,W]}, filter {@code f[KC,KH,KW]} with
 * odd sizes, optional bias {@code b[1]}, output {@code y[N,C,H,W]}; spatial zero padding of
 * {@code KH/2, KW/2} and channel padding of {@code KC/2} in the chosen {@link ChannelPadding}. It equals
 * {@code F.conv3d(x.unsqueeze(1), f.view(1,1,KC,KH,KW), b, padding=(KC//2, KH//2, KW//2)).squeeze(1)}
 * for zero padding, and the same after {@code F.pad(x.unsqueeze(1), (0,0,0,0,KC//2,KC//2), mode)} with
 * channel padding 0 for replicate and circular padding.
 *
 * <p>Separable PrismConv (DeepPrism eq. (2)): a spatial filter {@code fs[K,K]} (the paper's
 * {@code w_s}) shared by every channel, then a channel filter {@code fc[K]} ({@code w_c}), then the bias:
 * K + K² parameters. It is a Prism convolution with filter {@code (1,K,K)} followed by one with
 * {@code (K,1,1)}, and runs as exactly those launches.
 *
 * <p>A bias may be {@code null}, meaning none: the launch then reads a fresh {@code float[1]} holding
 * zero, so that a device backend never sees a null argument. Likewise a {@code null} bias gradient
 * is written to a fresh {@code float[1]} nobody reads. Every output is overwritten, never accumulated into.
 */
public final class PrismConv {
    private static final Kernel FORWARD = Kernel.of("prismconv.forward", "forwardRow").vector("PrismConvVector", "forwardRows");
    private static final Kernel BACKWARD_DATA = Kernel.of("prismconv.backwardData", "backwardDataRow");
    private static final Kernel WEIGHT_PARTIALS = Kernel.of("prismconv.weightPartials", "weightPartialsLane")
            .vector("PrismConvWeightVector", "weightPartialsLanes");
    private static final Kernel WEIGHT_REDUCE = Kernel.of("prismconv.weightReduce", "weightReduceLane");
    private PrismConv() {
    }

    /**
     * Channel boundary of the Prism convolution, DeepPrism Table 1, with the {@code int} code the
     * kernels take ({@link PrismConvKernels#ZEROS} …). A filter deeper than the image
     * ({@code KC/2 > C}, which PyTorch refuses for circular padding) is accepted in every mode: replicate
     * keeps clamping and circular keeps wrapping modulo C.
     */
    public enum ChannelPadding {
        /** Channels outside {@code [0, C)} are zero: the spectrum is an interval (Dirichlet boundary). */
        ZEROS(PrismConvKernels.ZEROS, "zeros"),
        /** Channels outside {@code [0, C)} repeat the edge channel: a line (Neumann boundary). */
        REPLICATE(PrismConvKernels.REPLICATE, "replicate"),
        /** Channel {@code q} is channel {@code q mod C}: a circle (periodic boundary). */
        CIRCULAR(PrismConvKernels.CIRCULAR, "circular");

        private final int code;
        private final String torchName;

        ChannelPadding(int code, String torchName) {
            this.code = code;
            this.torchName = torchName;
        }

        /** The code the kernels take as their {@code mode} argument. */
        public int code() {
            return code;
        }

        /** The name PyTorch's {@code F.pad} and {@code padding_mode} use. */
        public String torchName() {
            return torchName;
        }

        /**
         * The padding with kernel code {@code code}.
         *
         * @throws IllegalArgumentException for any other code
         */
        public static ChannelPadding ofCode(int code) {
            for (ChannelPadding p : values()) {
                if (p.code == code) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown channel padding code " + code
                    + ": expected 0 (zeros), 1 (replicate) or 2 (circular)");
        }

        /**
         * The padding PyTorch calls {@code name} ({@code zeros}, {@code replicate}, {@code circular}).
         *
         * @throws IllegalArgumentException for any other name
         */
        public static ChannelPadding ofTorchName(String name) {
            for (ChannelPadding p : values()) {
                if (p.torchName.equals(name)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown channel padding '" + name
                    + "': expected zeros, replicate or circular");
        }
    }

    /**
     * Length of the {@code partials} scratch that {@link #weightPartials} needs: {@code N·C·2·(KC·KH·KW + 1)},
     * each partial sum being a pair of floats ({@link Sums#storeSplit}).
     */
    public static int partialsLength(int n, int c, int kc, int kh, int kw) {
        return Check.of("prismconv.weightPartials").size("partials", n, c, 2 * (kc * kh * kw + 1));
    }

    /** Length of the {@code partials} scratch of {@link #separableBackward}: {@code N·C·2·(K² + 1)}. */
    public static int separablePartialsLength(int n, int c, int k) {
        return Check.of("prismconv.separable.backward").size("partials", n, c, 2 * (k * k + 1));
    }

    /** {@link #forward(float[], float[], float[], float[], int, int, int, int, int, int, int, ChannelPadding)} with a 3×3×3 filter. */
    public static Launch forward(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                 ChannelPadding padding) {
        return forward(x, f, b, y, n, c, h, w, 3, 3, 3, padding);
    }

    /**
     * {@code y = Prism(x; f) + b}, DeepPrism eq. (3). Reads {@code x[N,C,H,W]}, {@code f[KC,KH,KW]},
     * {@code b[1]} (or null: no bias); writes {@code y[N,C,H,W]}.
     */
    public static Launch forward(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                 int kc, int kh, int kw, ChannelPadding padding) {
        String name = "prismconv.forward";
        Check k = check(name, n, c, h, w, kc, kh, kw, padding);
        int size = k.size("x", n, c, h, w);
        int taps = kc * kh * kw;
        k.length("x", x, size).length("f", f, taps).length("y", y, size).distinct("x", x, "y", y);
        float[] bias = biasOrZero(k, "b", b);
        int mode = padding.code();
        Kernel.Builder launch = FORWARD.with(x, f, bias, y, n, c, h, w, kc, kh, kw, mode).writes(3).grid(n * c, h);
        if (b == null) {
            // A zero bias this factory made for 'no bias' is a constant no caller can declare.
            launch.owned(bias);
        }
        return launch.launch(2L * size * taps, 4L * (2L * size + taps + 1));
    }

    /**
     * {@code gx = ∂L/∂x} of {@link #forward} for {@code gy = ∂L/∂y}. Reads {@code gy[N,C,H,W]},
     * {@code f[KC,KH,KW]}; writes {@code gx[N,C,H,W]}.
     */
    public static Launch backwardData(float[] gy, float[] f, float[] gx, int n, int c, int h, int w,
                                      int kc, int kh, int kw, ChannelPadding padding) {
        String name = "prismconv.backwardData";
        Check k = check(name, n, c, h, w, kc, kh, kw, padding);
        int size = k.size("gy", n, c, h, w);
        int taps = kc * kh * kw;
        k.length("gy", gy, size).length("f", f, taps).length("gx", gx, size).distinct("gy", gy, "gx", gx);
        int mode = padding.code();
        return BACKWARD_DATA.with(gy, f, gx, n, c, h, w, kc, kh, kw, mode).writes(2).grid(n * c, h)
                .launch(2L * size * taps, 4L * (2L * size + taps));
    }

    /**
     * {@code gf = ∂L/∂f} and {@code gb = ∂L/∂b} of {@link #forward}: the two launches
     * {@link #weightPartials} then {@link #weightReduce}. Reads {@code x}, {@code gy}; uses
     * {@code partials} (at least {@link #partialsLength} elements) as scratch; writes
     * {@code gf[KC,KH,KW]} and {@code gb[1]} (or nothing for a null {@code gb}).
     */
    public static List<Launch> backwardWeight(float[] x, float[] gy, float[] partials, float[] gf, float[] gb,
                                              int n, int c, int h, int w, int kc, int kh, int kw,
                                              ChannelPadding padding) {
        Launch first = weightPartials(x, gy, partials, n, c, h, w, kc, kh, kw, padding);
        return List.of(first, weightReduce(partials, gf, gb, n * c, kc * kh * kw));
    }

    /**
     * Per image-channel partial sums of the filter and bias gradients, see
     * {@link PrismConvKernels#weightPartials}. Reads {@code x}, {@code gy}; writes the first
     * {@link #partialsLength} elements of {@code partials}.
     */
    public static Launch weightPartials(float[] x, float[] gy, float[] partials, int n, int c, int h, int w,
                                        int kc, int kh, int kw, ChannelPadding padding) {
        String name = "prismconv.weightPartials";
        Check k = check(name, n, c, h, w, kc, kh, kw, padding);
        int size = k.size("x", n, c, h, w);
        int taps = kc * kh * kw;
        int need = k.size("partials", n, c, 2 * (taps + 1));
        k.length("x", x, size).length("gy", gy, size).atLeast("partials", partials, need)
                .distinct("x", x, "partials", partials).distinct("gy", gy, "partials", partials);
        int mode = padding.code();
        return WEIGHT_PARTIALS.with(x, gy, partials, n, c, h, w, kc, kh, kw, mode).writes(2).grid(n * c)
                .launch(2L * size * (taps + 1), 4L * (2L * size + need));
    }

    /**
     * Sums the {@code rows} rows of {@code partials[rows, 2·(taps + 1)]} (pairs of floats) into {@code gf[taps]} and
     * {@code gb[1]} (a null {@code gb} goes to a fresh {@code float[1]}), see
     * {@link PrismConvKernels#weightReduce}.
     */
    public static Launch weightReduce(float[] partials, float[] gf, float[] gb, int rows, int taps) {
        String name = "prismconv.weightReduce";
        Check k = Check.of(name).positive("rows", rows).positive("taps", taps);
        int need = k.size("partials", rows, 2 * (taps + 1));
        k.atLeast("partials", partials, need).length("gf", gf, taps).distinct("partials", partials, "gf", gf);
        float[] gbias = gb == null ? new float[1] : gb;
        k.length("gb", gbias, 1).distinct("partials", partials, "gb", gbias).distinct("gf", gf, "gb", gbias);
        return WEIGHT_REDUCE.with(partials, gf, gbias, rows, taps).writes(1, 2).grid(taps + 1).launch(need, 4L * (need + taps + 1L));
    }

    /**
     * Separable PrismConv, DeepPrism eq. (2): {@code t = Conv2D(fs, x)} per channel, then
     * {@code y = Conv1D(fc, t) + b} along the channels. Reads {@code x[N,C,H,W]}, {@code fs[K,K]},
     * {@code fc[K]}, {@code b[1]} (or null); writes the intermediate {@code t[N,C,H,W]} (scratch) and
     * {@code y[N,C,H,W]}. Two launches of {@link #forward}: filter {@code (1,K,K)}, then {@code (K,1,1)}.
     */
    public static List<Launch> separableForward(float[] x, float[] fs, float[] fc, float[] b, float[] t, float[] y,
                                                int n, int c, int h, int w, int k, ChannelPadding padding) {
        Check chk = checkSeparable("prismconv.separable.forward", n, c, h, w, k, padding);
        int size = chk.size("x", n, c, h, w);
        chk.length("x", x, size).length("fs", fs, (long) k * k).length("fc", fc, k).length("t", t, size)
                .length("y", y, size).distinct("x", x, "t", t).distinct("t", t, "y", y);
        biasOrZero(chk, "b", b);
        return List.of(
                forward(x, fs, null, t, n, c, h, w, 1, k, k, ChannelPadding.ZEROS),
                forward(t, fc, b, y, n, c, h, w, k, 1, 1, padding));
    }

    /**
     * Gradients of {@link #separableForward} for {@code gy = ∂L/∂y}: writes {@code gx[N,C,H,W]},
     * {@code gfs[K,K]}, {@code gfc[K]} and {@code gb[1]} (or nothing for null). Reads {@code x},
     * {@code gy}, {@code fs}, {@code fc}. Scratch: {@code t[N,C,H,W]}, which first receives the
     * intermediate {@code Conv2D(fs, x)} again (so nothing need be kept from the forward pass) and then
     * its gradient; {@code partials} of at least {@link #separablePartialsLength} elements.
     *
     * <p>Seven launches: spatial forward into {@code t}; channel filter partials and reduce (gfc, gb);
     * channel backward-data into {@code t}; spatial filter partials and reduce (gfs); spatial
     * backward-data into {@code gx}.
     */
    public static List<Launch> separableBackward(float[] x, float[] gy, float[] fs, float[] fc, float[] t,
                                                 float[] partials, float[] gx, float[] gfs, float[] gfc, float[] gb,
                                                 int n, int c, int h, int w, int k, ChannelPadding padding) {
        Check chk = checkSeparable("prismconv.separable.backward", n, c, h, w, k, padding);
        int size = chk.size("x", n, c, h, w);
        chk.length("x", x, size).length("gy", gy, size).length("fs", fs, (long) k * k).length("fc", fc, k)
                .length("t", t, size).atLeast("partials", partials, chk.size("partials", n, c, 2 * (k * k + 1)))
                .length("gx", gx, size).length("gfs", gfs, (long) k * k).length("gfc", gfc, k)
                .distinct("x", x, "t", t).distinct("gy", gy, "t", t).distinct("t", t, "gx", gx)
                .distinct("x", x, "gx", gx).distinct("gy", gy, "gx", gx);
        if (gb != null) {
            chk.length("gb", gb, 1);
        }
        int rows = n * c;
        return List.of(
                forward(x, fs, null, t, n, c, h, w, 1, k, k, ChannelPadding.ZEROS),
                weightPartials(t, gy, partials, n, c, h, w, k, 1, 1, padding),
                weightReduce(partials, gfc, gb, rows, k),
                backwardData(gy, fc, t, n, c, h, w, k, 1, 1, padding),
                weightPartials(x, t, partials, n, c, h, w, 1, k, k, ChannelPadding.ZEROS),
                weightReduce(partials, gfs, null, rows, k * k),
                backwardData(t, fs, gx, n, c, h, w, 1, k, k, ChannelPadding.ZEROS));
    }

    /** Checks shared by every factory: positive sizes, odd filter sizes, a padding mode. */
    private static Check check(String kernel, int n, int c, int h, int w, int kc, int kh, int kw,
                               ChannelPadding padding) {
        return dims(kernel, n, c, h, w).odd("kc", kc).odd("kh", kh).odd("kw", kw).that(padding != null,
                "padding", "zeros, replicate or circular", "null");
    }

    /** The same for the separable factories, whose one filter size is {@code k}. */
    private static Check checkSeparable(String kernel, int n, int c, int h, int w, int k, ChannelPadding padding) {
        return dims(kernel, n, c, h, w).odd("k", k).that(padding != null,
                "padding", "zeros, replicate or circular", "null");
    }

    private static Check dims(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }

    private static float[] biasOrZero(Check k, String name, float[] b) {
        if (b == null) {
            return new float[1];
        }
        k.length(name, b, 1);
        return b;
    }
}
