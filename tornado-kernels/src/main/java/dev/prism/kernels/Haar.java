package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the Haar wavelet kernels in {@link HaarKernels}: image {@code x[N,C,H,W]},
 * coefficients {@code y[N,4,C,H/2,W/2]} (bands cA, cH, cV, cD). H and W must be even.
 */
public final class Haar {
    private static final Kernel DWT2 = Kernel.of("haar.dwt2", "dwt2Row");
    private static final Kernel IDWT2 = Kernel.of("haar.idwt2", "idwt2Row");

    private Haar() {
    }

    /** {@code y = DWT(x)}; writes {@code y}. */
    public static Launch dwt2(float[] x, float[] y, int n, int c, int h, int w) {
        Check k = check("haar.dwt2", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("y", y, size).distinct("x", x, "y", y);
        return DWT2.with(x, y, n, c, h, w).writes(1).grid(n * c, h / 2).launch(3L * size, 8L * size);
    }

    /** {@code x = IDWT(y)}; writes {@code x}. */
    public static Launch idwt2(float[] y, float[] x, int n, int c, int h, int w) {
        Check k = check("haar.idwt2", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("y", y, size).length("x", x, size).distinct("y", y, "x", x);
        return IDWT2.with(y, x, n, c, h, w).writes(1).grid(n * c, h / 2).launch(3L * size, 8L * size);
    }

    /**
     * Backward of {@link #dwt2}: {@code gx = DWTᵀ(gy) = IDWT(gy)}, because the Haar transform is
     * orthonormal. Writes {@code gx}.
     */
    public static Launch dwt2Backward(float[] gy, float[] gx, int n, int c, int h, int w) {
        return idwt2(gy, gx, n, c, h, w);
    }

    /** Backward of {@link #idwt2}: {@code gy = IDWTᵀ(gx) = DWT(gx)}. Writes {@code gy}. */
    public static Launch idwt2Backward(float[] gx, float[] gy, int n, int c, int h, int w) {
        return dwt2(gx, gy, n, c, h, w);
    }

    private static Check check(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).even("h", h).even("w", w);
    }
}
