package dev.prism.kernels;

/**
 * Concatenation of two feature maps on the channel axis, {@code torch.cat([a, b], 1)}, and its inverse,
 * the split into the two channel slices: the skip connections of the DDPM UNet (Ho et al. 2020), whose
 * up path concatenates the activation of the matching down level with its own.
 *
 * <p>Layouts: {@code a[N, Ca, H, W]}, {@code b[N, Cb, H, W]}, {@code y[N, Ca + Cb, H, W]}, all row-major:
 * <pre>
 *   y[n, c, i, j] = a[n, c, i, j]         for c &lt; Ca
 *   y[n, c, i, j] = b[n, c − Ca, i, j]    for Ca ≤ c &lt; Ca + Cb
 * </pre>
 * The split is the same map read the other way, which makes it the backward pass of the concatenation
 * ({@code ga} and {@code gb} are the two channel slices of {@code gy}) and the other way round.
 * Checked launch factories: {@link Concat}.
 */
public final class ConcatKernels {
    private ConcatKernels() {
    }

    /**
     * {@code y = cat([a, b], 1)}: reads {@code a} and {@code b}, writes {@code y}. One work-item per
     * (output plane p = n·(Ca + Cb) + c, row i).
     */
    public static void channels(float[] a, float[] b, float[] y, int n, int ca, int cb, int h, int w) {
        for (@Parallel int p = 0; p < n * (ca + cb); p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                channelsRow(a, b, y, n, ca, cb, h, w, p, i);
            }
        }
    }

    /** Row {@code i} of output plane {@code p}, copied from the plane of {@code a} or {@code b} it comes from. */
    public static void channelsRow(float[] a, float[] b, float[] y, int n, int ca, int cb, int h, int w, int p, int i) {
        int o = (p * h + i) * w;
        int s = sliceRow(ca, cb, h, w, p, i);
        if (p % (ca + cb) < ca) {
            for (int j = 0; j < w; j++) {
                y[o + j] = a[s + j];
            }
        } else {
            for (int j = 0; j < w; j++) {
                y[o + j] = b[s + j];
            }
        }
    }

    /**
     * Where row {@code i} of plane {@code p} of {@code y} lives in its slice: the offset in {@code a} when
     * {@code p mod (Ca + Cb) < Ca}, else in {@code b}. The one index map both kernels use.
     */
    public static int sliceRow(int ca, int cb, int h, int w, int p, int i) {
        int img = p / (ca + cb);
        int ch = p - img * (ca + cb);
        int plane = ch < ca ? img * ca + ch : img * cb + ch - ca;
        return (plane * h + i) * w;
    }

    /**
     * {@code a, b = y[:, :Ca], y[:, Ca:]}: reads {@code y}, writes {@code a} and {@code b}. One work-item
     * per (input plane p = n·(Ca + Cb) + c, row i), which writes that row of {@code a} or of {@code b}.
     */
    public static void split(float[] y, float[] a, float[] b, int n, int ca, int cb, int h, int w) {
        for (@Parallel int p = 0; p < n * (ca + cb); p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                splitRow(y, a, b, n, ca, cb, h, w, p, i);
            }
        }
    }

    /** Row {@code i} of plane {@code p} of {@code y}, copied to the plane of {@code a} or {@code b} it belongs to. */
    public static void splitRow(float[] y, float[] a, float[] b, int n, int ca, int cb, int h, int w, int p, int i) {
        int s = (p * h + i) * w;
        int o = sliceRow(ca, cb, h, w, p, i);
        if (p % (ca + cb) < ca) {
            for (int j = 0; j < w; j++) {
                a[o + j] = y[s + j];
            }
        } else {
            for (int j = 0; j < w; j++) {
                b[o + j] = y[s + j];
            }
        }
    }
}
