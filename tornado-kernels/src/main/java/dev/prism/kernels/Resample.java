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

    private static Check image(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }
}
