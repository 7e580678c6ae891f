package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the 2× resampling kernels in {@link ResampleKernels}. Shapes are given as the
 * forward input's {@code [N,C,H,W]}.
 *
 * <p>Odd sizes: average pooling rejects an odd H or W (PyTorch would silently drop the last row or
 * column, which in a UNet means the skip connection no longer lines up with the upsampled path).
 */
public final class Resample {
    private static final Kernel UPSAMPLE = Kernel.of("resample.upsample2x", "upsample2xRow");
    private static final Kernel POOL = Kernel.of("resample.pool2x", "pool2xRow");
    private static final Kernel UPFIRDN = Kernel.of("resample.upfirdn", "upfirdnRow").vector("ResampleVector", "upfirdnRows");
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
