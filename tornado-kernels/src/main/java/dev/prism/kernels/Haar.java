package dev.prism.kernels;

/**
 * Checked launches of the Haar wavelet kernels in {@link HaarKernels}: image {@code x[N,C,H,W]},
 * coefficients {@code y[N,4,C,H/2,W/2]} (bands cA, cH, cV, cD). H and W must be even.
 */
public final class Haar {
    private Haar() {
    }

    /** {@code y = DWT(x)}; writes {@code y}. */
    public static Launch dwt2(float[] x, float[] y, int n, int c, int h, int w) {
        Check k = check("haar.dwt2", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("x", x, size).length("y", y, size).distinct("x", x, "y", y);
        int lanes = n * c * (h / 2);
        return new Launch("haar.dwt2", new Object[] {x, y, n, c, h, w}, new int[] {1}, lanes,
                () -> HaarKernels.dwt2(x, y, n, c, h, w),
                (from, to) -> {
                    for (int l = from; l < to; l++) {
                        HaarKernels.dwt2Row(x, y, c, h, w, l / (h / 2), l % (h / 2));
                    }
                },
                3L * size, 8L * size).withGrid(n * c, h / 2);
    }

    /** {@code x = IDWT(y)}; writes {@code x}. */
    public static Launch idwt2(float[] y, float[] x, int n, int c, int h, int w) {
        Check k = check("haar.idwt2", n, c, h, w);
        int size = k.size("x", n, c, h, w);
        k.length("y", y, size).length("x", x, size).distinct("y", y, "x", x);
        int lanes = n * c * (h / 2);
        return new Launch("haar.idwt2", new Object[] {y, x, n, c, h, w}, new int[] {1}, lanes,
                () -> HaarKernels.idwt2(y, x, n, c, h, w),
                (from, to) -> {
                    for (int l = from; l < to; l++) {
                        HaarKernels.idwt2Row(y, x, c, h, w, l / (h / 2), l % (h / 2));
                    }
                },
                3L * size, 8L * size).withGrid(n * c, h / 2);
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
