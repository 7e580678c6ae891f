package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the resampling kernels in {@link ResampleKernels}. Shapes are given as the
 * forward input's {@code [N,C,H,W]} (for patchify and unpatchify, the image's).
 *
 * <p>Odd sizes: average pooling rejects an odd H or W (PyTorch would silently drop the last row or
 * column, which in a UNet means the skip connection no longer lines up with the upsampled path).
 */
public final class Resample {
    private static final Kernel UPSAMPLE = Kernel.of("resample.upsample2x", "upsample2xRow");
    private static final Kernel POOL = Kernel.of("resample.pool2x", "pool2xRow");
    private static final Kernel UPFIRDN = Kernel.of("resample.upfirdn", "upfirdnRow").vector("ResampleVector", "upfirdnRows");
    private static final Kernel PATCHIFY = Kernel.of("resample.patchify", "patchifyRow");
    private static final Kernel UNPATCHIFY = Kernel.of("resample.unpatchify", "unpatchifyRow");

    private Resample() {
    }

    /** {@code y[N,C,2H,2W] = F.interpolate(x[N,C,H,W], scale_factor=2, mode='nearest')}; writes {@code y}. */
    public static Launch upsample2x(float[] x, float[] y, int n, int c, int h, int w) {
        return upsample("resample.upsample2x", "x", x, "y", y, n, c, h, w, 1f);
    }

    /**
     * Backward of {@link #upsample2x}: {@code gx[n,c,i,j] = Σ} of the 2×2 block {@code gy[n,c,2i..2i+1,2j..2j+1]},
     * for the forward input shape {@code [N,C,H,W]}; writes {@code gx}.
     */
    public static Launch upsample2xBackward(float[] gy, float[] gx, int n, int c, int h, int w) {
        image("resample.upsample2xBackward", n, c, h, w);
        return pool("resample.upsample2xBackward", "gy", gy, "gx", gx, n, c, 2 * h, 2 * w, 1f);
    }

    /** {@code y[N,C,H/2,W/2] = F.avg_pool2d(x[N,C,H,W], 2)}, H and W even; writes {@code y}. */
    public static Launch avgPool2x(float[] x, float[] y, int n, int c, int h, int w) {
        return pool("resample.avgPool2x", "x", x, "y", y, n, c, h, w, 0.25f);
    }

    /**
     * Backward of {@link #avgPool2x} for the forward input shape {@code [N,C,H,W]}:
     * {@code gx[n,c,i,j] = gy[n,c,i/2,j/2] / 4}; writes {@code gx}.
     */
    public static Launch avgPool2xBackward(float[] gy, float[] gx, int n, int c, int h, int w) {
        image("resample.avgPool2xBackward", n, c, h, w).even("h", h).even("w", w);
        return upsample("resample.avgPool2xBackward", "gy", gy, "gx", gx, n, c, h / 2, w / 2, 0.25f);
    }

    /** Checks and launches {@link ResampleKernels#upsample2x} on input {@code [n,c,h,w]}. */
    private static Launch upsample(String name, String inName, float[] in, String outName, float[] out,
                                   int n, int c, int h, int w, float s) {
        Check k = image(name, n, c, h, w);
        int size = k.size(inName, n, c, h, w);
        int outSize = k.size(outName, n, c, 2 * h, 2 * w);
        k.length(inName, in, size).length(outName, out, outSize).distinct(inName, in, outName, out);
        int planes = n * c;
        return UPSAMPLE.with(in, out, planes, h, w, s).writes(1).grid(planes, h).launch(size, 4L * size + 4L * outSize);
    }

    /** Checks and launches {@link ResampleKernels#pool2x} on input {@code [n,c,h,w]}, h and w even. */
    private static Launch pool(String name, String inName, float[] in, String outName, float[] out,
                               int n, int c, int h, int w, float s) {
        Check k = image(name, n, c, h, w).even("h", h).even("w", w);
        int size = k.size(inName, n, c, h, w);
        int outSize = size / 4;
        k.length(inName, in, size).length(outName, out, outSize).distinct(inName, in, outName, out);
        int planes = n * c;
        return POOL.with(in, out, planes, h, w, s).writes(1).grid(planes, h / 2).launch(size, 4L * size + 4L * outSize);
    }

    /**
     * WaveDiff's patchify: the non-overlapping p×p patches of the image {@code x[N,C,H,W]} (H and W multiples of p,
     * p ≥ 1) as channels, {@code y[N, C·p², H/p, W/p]}, {@code y[b, k, i, j] = x[b, ci, i·p + p1, j·p + p2]} with
     * {@code k = (p1·p + p2)·C + ci} ({@code channelMajor} false: einops {@code "n c (h p1) (w p2) -> n (p1 p2 c) h w"},
     * the official generator's) or {@code k = ci·p² + p1·p + p2} (true: {@code "n c (h p1) (w p2) -> n (c p1 p2) h w"});
     * see {@link ResampleKernels#patchify}. Writes {@code y}; a copy, exact.
     */
    public static Launch patchify(float[] x, float[] y, int n, int c, int h, int w, int p, boolean channelMajor) {
        return patchify("resample.patchify", "x", x, "y", y, n, c, h, w, p, channelMajor);
    }

    /**
     * WaveDiff's unpatchify, the inverse of {@link #patchify} with the same {@code channelMajor}: {@code y[N, C·p², H/p, W/p]}
     * back to the image {@code x[N,C,H,W]} (einops {@code "n (p1 p2 c) h w -> n c (h p1) (w p2)"}, or
     * {@code "n (c p1 p2) h w -> n c (h p1) (w p2)"} when {@code channelMajor}, the official generator's); the sizes are
     * the image's. See {@link ResampleKernels#unpatchify}. Writes {@code x}; a copy, exact.
     */
    public static Launch unpatchify(float[] y, float[] x, int n, int c, int h, int w, int p, boolean channelMajor) {
        return unpatchify("resample.unpatchify", "y", y, "x", x, n, c, h, w, p, channelMajor);
    }

    /**
     * Backward of {@link #patchify} for the image {@code [N,C,H,W]}: {@code gx = patchifyᵀ(gy) = unpatchify(gy)}, because
     * patchify is a permutation. Writes {@code gx}.
     */
    public static Launch patchifyBackward(float[] gy, float[] gx, int n, int c, int h, int w, int p, boolean channelMajor) {
        return unpatchify("resample.patchifyBackward", "gy", gy, "gx", gx, n, c, h, w, p, channelMajor);
    }

    /**
     * Backward of {@link #unpatchify} for the image {@code [N,C,H,W]}: {@code gy = unpatchifyᵀ(gx) = patchify(gx)}, because
     * unpatchify is a permutation. Writes {@code gy}.
     */
    public static Launch unpatchifyBackward(float[] gx, float[] gy, int n, int c, int h, int w, int p, boolean channelMajor) {
        return patchify("resample.unpatchifyBackward", "gx", gx, "gy", gy, n, c, h, w, p, channelMajor);
    }

    /** Checks and launches {@link ResampleKernels#patchify} from the image {@code in[n,c,h,w]} to the patches {@code out}. */
    private static Launch patchify(String name, String inName, float[] in, String outName, float[] out,
                                   int n, int c, int h, int w, int p, boolean channelMajor) {
        Check k = patches(name, n, c, h, w, p);
        int size = k.size(inName, n, c, h, w);
        k.length(inName, in, size).length(outName, out, size).distinct(inName, in, outName, out);
        return PATCHIFY.with(in, out, n, c, h, w, p, channelMajor ? 1 : 0).writes(1).grid(n * c * p * p, h / p).launch(0, 8L * size);
    }

    /** Checks and launches {@link ResampleKernels#unpatchify} from the patches {@code in} to the image {@code out[n,c,h,w]}. */
    private static Launch unpatchify(String name, String inName, float[] in, String outName, float[] out,
                                     int n, int c, int h, int w, int p, boolean channelMajor) {
        Check k = patches(name, n, c, h, w, p);
        int size = k.size(outName, n, c, h, w);
        k.length(inName, in, size).length(outName, out, size).distinct(inName, in, outName, out);
        return UNPATCHIFY.with(in, out, n, c, h, w, p, channelMajor ? 1 : 0).writes(1).grid(n * c, h).launch(0, 8L * size);
    }

    /** The checks of a patchify of the image {@code [n,c,h,w]}: sizes positive, h and w multiples of p. */
    private static Check patches(String kernel, int n, int c, int h, int w, int p) {
        Check k = image(kernel, n, c, h, w).positive("p", p);
        return k.that(h % p == 0, "h", "a multiple of p = " + p, h).that(w % p == 0, "w", "a multiple of p = " + p, w);
    }

    /**
     * The output size along one axis of {@link #upfirdn}: {@code (size·up + pad0 + pad1 − kt)/down + 1}
     * (floor), as {@code upfirdn2d}.
     */
    public static int upfirdnSize(int size, int up, int down, int pad0, int pad1, int kt) {
        return Math.floorDiv(size * up + pad0 + pad1 - kt, down) + 1;
    }

    /**
     * {@code y = upfirdn2d(x, outer(taps, taps), up, down, pad=(pad0, pad1))} on {@code x[N,C,H,W]}, the same
     * up, down and pads on both axes, {@code y[N,C,OH,OW]} with sizes from {@link #upfirdnSize}; see
     * {@link ResampleKernels#upfirdn}. Writes {@code y}.
     *
     * @param taps the 1-D filter; the 2-D filter is their outer product (a normalised {@code [1,3,3,1]}
     *             times the gain of StyleGAN2's {@code _setup_kernel} is one)
     * @throws IllegalArgumentException for a negative pad, a pad0 of kt or more, or an empty output
     */
    public static Launch upfirdn(float[] x, float[] taps, float[] y, int n, int c, int h, int w, int up, int down, int pad0, int pad1) {
        Check k = image("resample.upfirdn", n, c, h, w);
        int kt = taps == null ? 0 : taps.length;
        int oh = firOutput(k, h, up, down, pad0, pad1, kt), ow = firOutput(k, w, up, down, pad0, pad1, kt);
        int size = k.size("x", n, c, h, w), outSize = k.size("y", n, c, oh, ow);
        k.length("x", x, size).length("y", y, outSize).distinct("x", x, "y", y).distinct("taps", taps, "y", y);
        int planes = n * c;
        return UPFIRDN.with(x, taps, y, planes, h, w, oh, ow, up, down, pad0, kt).writes(2).grid(planes, oh)
                .launch(2L * outSize * kt * kt / ((long) up * up), 4L * size + 4L * outSize);
    }

    /**
     * Backward of {@link #upfirdn} (forward input {@code [N,C,H,W]}, forward arguments as given): the adjoint
     * is an upfirdn too, with up and down swapped, the taps reversed and the leading pad {@code kt − 1 − pad0}
     * on the upstream gradient {@code gy[N,C,OH,OW]}, cut to {@code [H, W]}. Writes {@code gx}.
     */
    public static Launch upfirdnBackward(float[] gy, float[] taps, float[] gx, int n, int c, int h, int w,
                                         int up, int down, int pad0, int pad1) {
        Check k = image("resample.upfirdnBackward", n, c, h, w);
        int kt = taps == null ? 0 : taps.length;
        int oh = firOutput(k, h, up, down, pad0, pad1, kt), ow = firOutput(k, w, up, down, pad0, pad1, kt);
        int size = k.size("gx", n, c, h, w), outSize = k.size("gy", n, c, oh, ow);
        k.length("gy", gy, outSize).length("gx", gx, size).distinct("gy", gy, "gx", gx);
        float[] reversed = new float[kt];
        for (int i = 0; i < kt; i++) {
            reversed[i] = taps[kt - 1 - i];
        }
        int planes = n * c;
        return UPFIRDN.with(gy, reversed, gx, planes, oh, ow, h, w, down, up, kt - 1 - pad0, kt).writes(2).owned(reversed)
                .grid(planes, h).launch(2L * outSize * kt * kt / ((long) up * up), 4L * size + 4L * outSize);
    }

    /** Checks the arguments of an upfirdn along one axis of {@code size} and returns the output size there. */
    private static int firOutput(Check k, int size, int up, int down, int pad0, int pad1, int kt) {
        k.positive("up", up).positive("down", down).positive("taps.length", kt).range("pad0", pad0, 0, kt - 1).nonNegative("pad1", pad1);
        int out = upfirdnSize(size, up, down, pad0, pad1, kt);
        k.that(out >= 1, "pad1", "an output of at least 1 out of " + size, out);
        return out;
    }

    private static Check image(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }
}
