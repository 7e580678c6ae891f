package dev.prism.diffusion.data;

/**
 * Area resampling of a square region to {@code size×size}: each output pixel is the mean of the source
 * area it covers, source pixels that are only partly covered weighted by the covered fraction (a box
 * filter, PIL's {@code Image.BOX}). Shrinking therefore averages without aliasing; enlarging repeats
 * pixels (blocky, no interpolation), blending two at the boundaries that fall inside a source pixel.
 */
final class Resample {
    private Resample() {
    }

    /**
     * Resamples the square {@code src[c, y0 .. y0+side, x0 .. x0+side]} of every channel to
     * {@code dst[dstOffset + c·size·size + y·size + x]}, each value rounded to the nearest integer (halves
     * up) and clamped to [0, 255].
     *
     * @param src planar {@code [C, srcH, srcW]} values in [0, 255]
     * @param dst written: {@code C·size·size} bytes from {@code dstOffset}
     */
    static void areaSquare(float[] src, int channels, int srcH, int srcW, int y0, int x0, int side, int size,
                           byte[] dst, int dstOffset) {
        double scale = (double) side / size;
        int span = (int) Math.ceil(scale) + 1;
        int[] first = new int[size];
        double[] weight = new double[size * span];
        for (int o = 0; o < size; o++) {
            double lo = (double) o * side / size;
            double hi = (double) (o + 1) * side / size;
            int k0 = (int) Math.floor(lo);
            first[o] = k0;
            for (int k = k0; k < hi && k < side; k++) {
                weight[o * span + (k - k0)] = (Math.min(hi, k + 1) - Math.max(lo, k)) / scale;
            }
        }
        for (int ch = 0; ch < channels; ch++) {
            int plane = ch * srcH * srcW;
            for (int oy = 0; oy < size; oy++) {
                for (int ox = 0; ox < size; ox++) {
                    double sum = 0;
                    for (int ky = 0; ky < span; ky++) {
                        double wy = weight[oy * span + ky];
                        if (wy == 0) {
                            continue;
                        }
                        int row = plane + (y0 + first[oy] + ky) * srcW + x0 + first[ox];
                        double across = 0;
                        for (int kx = 0; kx < span; kx++) {
                            double wx = weight[ox * span + kx];
                            if (wx != 0) {
                                across += wx * src[row + kx];
                            }
                        }
                        sum += wy * across;
                    }
                    double v = Math.floor(sum + 0.5);
                    dst[dstOffset + (ch * size + oy) * size + ox] = (byte) (v <= 0 ? 0 : v >= 255 ? 255 : (int) v);
                }
            }
        }
    }
}
