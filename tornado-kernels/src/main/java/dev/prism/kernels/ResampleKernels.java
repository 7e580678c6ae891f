package dev.prism.kernels;

/**
 * 2× resampling of images {@code [N,C,H,W]}: nearest-neighbour upsampling
 * ({@code F.interpolate(x, scale_factor=2, mode='nearest')}) and 2×2 average pooling
 * ({@code F.avg_pool2d(x, 2)}), with their backward passes.
 *
 * <p>Two kernels serve all four: {@link #upsample2x} copies each input element, times a scale, into its
 * 2×2 output block, and {@link #pool2x} sums each 2×2 input block, times a scale. Upsampling is
 * {@code upsample2x} with scale 1 and its backward (the sum of the 2×2 block of the upstream gradient)
 * is {@code pool2x} with scale 1; average pooling is {@code pool2x} with scale 1/4 and its backward (each
 * gradient spread over its block, divided by 4) is {@code upsample2x} with scale 1/4. Both scales are
 * powers of two, so the scaling is exact. Also WaveDiff's patchify / unpatchify ({@link #patchify},
 * {@link #unpatchify}: p×p patches as channels and back, permutations) and StyleGAN2's FIR resampling
 * ({@link #upfirdn}). Checked launch factories: {@link Resample}.
 */
public final class ResampleKernels {
    private ResampleKernels() {
    }

    /**
     * {@code y[p, 2i+a, 2j+b] = s·x[p, i, j]} for a, b ∈ {0, 1}, with {@code x[planes, h, w]} and
     * {@code y[planes, 2h, 2w]}; writes {@code y}. One work-item per (plane p, input row i), which writes
     * output rows 2i and 2i+1.
     */
    public static void upsample2x(float[] x, float[] y, int planes, int h, int w, float s) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                upsample2xRow(x, y, planes, h, w, s, p, i);
            }
        }
    }

    /** Input row {@code i} of plane {@code p} of {@link #upsample2x}. */
    public static void upsample2xRow(float[] x, float[] y, int planes, int h, int w, float s, int p, int i) {
        int in = (p * h + i) * w;
        int top = (p * 2 * h + 2 * i) * 2 * w;
        int bottom = top + 2 * w;
        for (int j = 0; j < w; j++) {
            float v = s * x[in + j];
            y[top + 2 * j] = v;
            y[top + 2 * j + 1] = v;
            y[bottom + 2 * j] = v;
            y[bottom + 2 * j + 1] = v;
        }
    }

    /**
     * {@code y[p, i, j] = s·((x[p,2i,2j] + x[p,2i,2j+1]) + (x[p,2i+1,2j] + x[p,2i+1,2j+1]))}, with
     * {@code x[planes, h, w]} (h, w even) and {@code y[planes, h/2, w/2]}; writes {@code y}. One work-item
     * per (plane p, output row i).
     */
    public static void pool2x(float[] x, float[] y, int planes, int h, int w, float s) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int i = 0; i < h / 2; i++) {
                pool2xRow(x, y, planes, h, w, s, p, i);
            }
        }
    }

    /** Output row {@code i} of plane {@code p} of {@link #pool2x}. */
    public static void pool2xRow(float[] x, float[] y, int planes, int h, int w, float s, int p, int i) {
        int w2 = w / 2;
        int out = (p * (h / 2) + i) * w2;
        int top = (p * h + 2 * i) * w;
        int bottom = top + w;
        for (int j = 0; j < w2; j++) {
            float upper = x[top + 2 * j] + x[top + 2 * j + 1];
            float lower = x[bottom + 2 * j] + x[bottom + 2 * j + 1];
            y[out + j] = s * (upper + lower);
        }
    }

    // ---------------------------------------------------------------- patches as channels (space-to-depth)

    /**
     * Non-overlapping p×p patches as channels, WaveDiff's patchify: with {@code x[n, c, h, w]} (h, w multiples of p) and
     * {@code y[n, c·p², h/p, w/p]},
     * <pre>
     *   y[b, k, i, j] = x[b, ci, i·p + p1, j·p + p2]
     *   k = (p1·p + p2)·c + ci    order 0: einops "n c (h p1) (w p2) -> n (p1 p2 c) h w"
     *   k = ci·p² + p1·p + p2     order 1: einops "n c (h p1) (w p2) -> n (c p1 p2) h w"
     * </pre>
     * Writes {@code y}, copies only (exact). One work-item per (output plane {@code o = b·c·p² + k}, output row i).
     */
    public static void patchify(float[] x, float[] y, int n, int c, int h, int w, int p, int order) {
        for (@Parallel int o = 0; o < n * c * p * p; o++) {
            for (@Parallel int i = 0; i < h / p; i++) {
                patchifyRow(x, y, n, c, h, w, p, order, o, i);
            }
        }
    }

    /** Output row {@code i} of output plane {@code o} of {@link #patchify}: a strided read of one input row. */
    public static void patchifyRow(float[] x, float[] y, int n, int c, int h, int w, int p, int order, int o, int i) {
        int pp = p * p;
        int b = o / (c * pp);
        int k = o - b * c * pp;
        int ci = order == 0 ? k % c : k / pp;
        int q = order == 0 ? k / c : k - ci * pp;
        int p1 = q / p;
        int p2 = q - p1 * p;
        int wp = w / p;
        int out = (o * (h / p) + i) * wp;
        int in = ((b * c + ci) * h + i * p + p1) * w + p2;
        for (int j = 0; j < wp; j++) {
            y[out + j] = x[in + j * p];
        }
    }

    /**
     * The inverse of {@link #patchify} (the same {@code order}), WaveDiff's unpatchify: with the image {@code x[n, c, h, w]}
     * (h, w multiples of p) and {@code y[n, c·p², h/p, w/p]},
     * <pre>
     *   x[b, ci, i·p + p1, j·p + p2] = y[b, k, i, j]
     *   k = (p1·p + p2)·c + ci    order 0: einops "n (p1 p2 c) h w -> n c (h p1) (w p2)"
     *   k = ci·p² + p1·p + p2     order 1: einops "n (c p1 p2) h w -> n c (h p1) (w p2)"
     * </pre>
     * Writes {@code x}, copies only (exact). One work-item per (image plane {@code o = b·c + ci}, image row r).
     */
    public static void unpatchify(float[] y, float[] x, int n, int c, int h, int w, int p, int order) {
        for (@Parallel int o = 0; o < n * c; o++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int r = 0; r < Math.max(h, 0); r++) {
                unpatchifyRow(y, x, n, c, h, w, p, order, o, r);
            }
        }
    }

    /** Image row {@code r} of image plane {@code o} of {@link #unpatchify}: p strided writes of patch rows. */
    public static void unpatchifyRow(float[] y, float[] x, int n, int c, int h, int w, int p, int order, int o, int r) {
        int b = o / c;
        int ci = o - b * c;
        int i = r / p;
        int p1 = r - i * p;
        int hp = h / p;
        int wp = w / p;
        int out = (o * h + r) * w;
        for (int p2 = 0; p2 < p; p2++) {
            int k = order == 0 ? (p1 * p + p2) * c + ci : (ci * p + p1) * p + p2;
            int in = ((b * c * p * p + k) * hp + i) * wp;
            for (int j = 0; j < wp; j++) {
                x[out + j * p + p2] = y[in + j];
            }
        }
    }

    // ---------------------------------------------------------------- FIR resampling (StyleGAN2's upfirdn2d)

    /**
     * Upsample, FIR-filter, downsample: {@code upfirdn2d} of StyleGAN2, which NCSN++ and WaveDiff's
     * generator use for their FIR up- and downsampling (kernel {@code [1,3,3,1]}). Per plane p, with the
     * separable 2-D filter {@code k[i]·k[j]} from the 1-D taps {@code k[kt]}:
     * <pre>
     *   u[r, s]    = x[p, r/up, s/up] if r and s are multiples of up, else 0      (zero insertion)
     *   y[p, o, q] = Σ_{i,j<kt} k[kt−1−i]·k[kt−1−j] · u[o·down + i − pad, q·down + j − pad]
     * </pre>
     * with {@code u = 0} outside {@code [0, h·up) × [0, w·up)}: the input zero-padded by {@code pad} before,
     * and by whatever {@code oh}, {@code ow} imply after, then convolved with the (flipped) filter, as
     * {@code upfirdn2d_native} does for non-negative pads. Reads {@code x[planes, h, w]}, writes
     * {@code y[planes, oh, ow]}. One work-item per (plane p, output row o).
     */
    public static void upfirdn(float[] x, float[] k, float[] y, int planes, int h, int w, int oh, int ow,
                               int up, int down, int pad, int kt) {
        for (@Parallel int p = 0; p < planes; p++) {
            for (@Parallel int o = 0; o < oh; o++) {
                upfirdnRow(x, k, y, planes, h, w, oh, ow, up, down, pad, kt, p, o);
            }
        }
    }

    /**
     * Output row {@code o} of plane {@code p} of {@link #upfirdn}. Only the taps that land on an input sample are
     * visited: the filter rows {@code i} with {@code r = o·down + i − pad} in {@code [0, h·up)} and a multiple of up,
     * found once per row, and for each output column the filter columns likewise, found with one division per
     * output (a division per tap made the kernel division-bound). Each output adds its row sums in ascending
     * {@code i} and each row sum its terms in ascending {@code j}, as the definition reads.
     */
    public static void upfirdnRow(float[] x, float[] k, float[] y, int planes, int h, int w, int oh, int ow,
                                  int up, int down, int pad, int kt, int p, int o) {
        int out = (p * oh + o) * ow;
        int r0 = o * down - pad;
        int i0 = Math.max(0, -r0);
        int firstRow = (r0 + i0) / up;
        int rowRem = r0 + i0 - firstRow * up;
        if (rowRem != 0) {
            i0 += up - rowRem;
            firstRow++;
        }
        int iEnd = Math.min(kt, h * up - r0);
        for (int q = 0; q < ow; q++) {
            int c0 = q * down - pad;
            int j0 = Math.max(0, -c0);
            int firstCol = (c0 + j0) / up;
            int colRem = c0 + j0 - firstCol * up;
            if (colRem != 0) {
                j0 += up - colRem;
                firstCol++;
            }
            int jEnd = Math.min(kt, w * up - c0);
            float acc = 0f;
            int row = p * h + firstRow;
            for (int i = i0; i < iEnd; i += up) {
                int col = row * w + firstCol;
                float s = 0f;
                for (int j = j0; j < jEnd; j += up) {
                    s += k[kt - 1 - j] * x[col];
                    col++;
                }
                acc += k[kt - 1 - i] * s;
                row++;
            }
            y[out + q] = acc;
        }
    }
}
