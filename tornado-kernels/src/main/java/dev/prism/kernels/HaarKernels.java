package dev.prism.kernels;

/**
 * One-level 2-D Haar wavelet transform of every channel, the form {@code pywt.dwt2(x, 'haar')} computes
 * for even H and W (Spectral Diffusion §5.1, WaveDiff §3).
 *
 * <p>For the 2×2 block {@code a = x[2i,2j], b = x[2i,2j+1], c = x[2i+1,2j], d = x[2i+1,2j+1]}:
 * <pre>
 *   cA = (a + b + c + d) / 2      cH = (a + b - c - d) / 2
 *   cV = (a - b + c - d) / 2      cD = (a - b - c + d) / 2
 * </pre>
 * cH is the detail along H (rows), cV along W (columns), as PyWavelets names them. The transform is
 * orthonormal, so the inverse is its transpose: that makes {@link #idwt2} both the inverse of
 * {@link #dwt2} and its backward pass, and the other way round.
 *
 * <p>Layouts: the image is {@code x[N, C, H, W]}; the coefficients are band-major
 * {@code y[N, 4, C, H/2, W/2]} with bands in the order cA, cH, cV, cD — the same memory as
 * {@code [N, 4C, H/2, W/2]}, the channel concatenation WaveDiff and WG-Up use.
 * Checked launch factories: {@link Haar}.
 */
public final class HaarKernels {
    private HaarKernels() {
    }

    /**
     * Forward transform: reads {@code x[N,C,H,W]}, writes {@code y[N,4,C,H/2,W/2]}. One work-item per
     * (n·C + c, output row i).
     */
    public static void dwt2(float[] x, float[] y, int n, int c, int h, int w) {
        for (@Parallel int p = 0; p < n * c; p++) {
            for (@Parallel int i = 0; i < h / 2; i++) {
                dwt2Row(x, y, n, c, h, w, p, i);
            }
        }
    }

    /** Output row {@code i} of all four bands for image-channel {@code p = n·C + c}. */
    public static void dwt2Row(float[] x, float[] y, int n, int c, int h, int w, int p, int i) {
        int h2 = h / 2;
        int w2 = w / 2;
        int band = c * h2 * w2;
        int b = p / c;
        int ch = p - b * c;
        int top = (p * h + 2 * i) * w;
        int bottom = top + w;
        int o = ((b * 4 * c) + ch) * h2 * w2 + i * w2;
        for (int j = 0; j < w2; j++) {
            float xa = x[top + 2 * j];
            float xb = x[top + 2 * j + 1];
            float xc = x[bottom + 2 * j];
            float xd = x[bottom + 2 * j + 1];
            float s0 = xa + xb;
            float s1 = xc + xd;
            float d0 = xa - xb;
            float d1 = xc - xd;
            y[o + j] = 0.5f * (s0 + s1);
            y[o + band + j] = 0.5f * (s0 - s1);
            y[o + 2 * band + j] = 0.5f * (d0 + d1);
            y[o + 3 * band + j] = 0.5f * (d0 - d1);
        }
    }

    /**
     * Inverse transform: reads {@code y[N,4,C,H/2,W/2]}, writes {@code x[N,C,H,W]}. One work-item per
     * (n·C + c, coefficient row i), which writes image rows 2i and 2i+1.
     */
    public static void idwt2(float[] y, float[] x, int n, int c, int h, int w) {
        for (@Parallel int p = 0; p < n * c; p++) {
            for (@Parallel int i = 0; i < h / 2; i++) {
                idwt2Row(y, x, n, c, h, w, p, i);
            }
        }
    }

    /** Image rows {@code 2i} and {@code 2i+1} of image-channel {@code p = n·C + c}. */
    public static void idwt2Row(float[] y, float[] x, int n, int c, int h, int w, int p, int i) {
        int h2 = h / 2;
        int w2 = w / 2;
        int band = c * h2 * w2;
        int b = p / c;
        int ch = p - b * c;
        int top = (p * h + 2 * i) * w;
        int bottom = top + w;
        int o = ((b * 4 * c) + ch) * h2 * w2 + i * w2;
        for (int j = 0; j < w2; j++) {
            float ca = y[o + j];
            float cH = y[o + band + j];
            float cV = y[o + 2 * band + j];
            float cD = y[o + 3 * band + j];
            float s0 = ca + cH;
            float s1 = ca - cH;
            float d0 = cV + cD;
            float d1 = cV - cD;
            x[top + 2 * j] = 0.5f * (s0 + d0);
            x[top + 2 * j + 1] = 0.5f * (s0 - d0);
            x[bottom + 2 * j] = 0.5f * (s1 + d1);
            x[bottom + 2 * j + 1] = 0.5f * (s1 - d1);
        }
    }
}
