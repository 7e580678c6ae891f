package dev.prism.kernels;

/**
 * The DeepPrism channel convolution: one small 3-D filter slid over (channel, H, W) of every image
 * (DeepPrism eq. (3), {@code DeepPrism(u; w) = Conv3D(w, u)}), with the channel boundary chosen from
 * DeepPrism Table 1: zero padding (an interval, Dirichlet), replicate padding (a line, Neumann) or
 * circular padding (a circle, periodic).
 *
 * <p>For an image {@code x[N,C,H,W]}, a filter {@code f[KC,KH,KW]} (each size odd) and a scalar bias
 * {@code b[0]}, with {@code pc = KC/2, ph = KH/2, pw = KW/2}:
 * <pre>
 *   y[n,c,i,j] = b[0] + Σ_{dc,dy,dx} f[dc,dy,dx] · x[n, src(c+dc-pc), i+dy-ph, j+dx-pw]
 * </pre>
 * a cross-correlation, as {@code torch.nn.functional.conv3d} computes it. Spatially, rows and columns
 * outside the image read zero ("same" output size). Along the channels, {@code src(q)} is {@code q}
 * inside {@code [0, C)} and otherwise
 * <ul>
 *   <li>{@link #ZEROS}: none — the tap reads zero;</li>
 *   <li>{@link #REPLICATE}: {@code clamp(q, 0, C-1)}, the edge channel;</li>
 *   <li>{@link #CIRCULAR}: {@code q mod C} (non-negative). This is what {@code F.pad(..., mode='circular')}
 *       gives whenever PyTorch accepts it ({@code KC/2 <= C}); for a filter deeper than that the
 *       wrap simply continues around the circle, so {@code C = 1} sees every tap on its one channel.</li>
 * </ul>
 *
 * <p>The separable PrismConv (DeepPrism eq. (2)) is two passes of the same kernel, with filters
 * {@code (1,K,K)} and {@code (K,1,1)}; see {@link PrismConv#separableForward}.
 *
 * <p>Layouts are row-major: {@code x, y, gx, gy [N,C,H,W]}, {@code f, gf [KC,KH,KW]},
 * {@code b, gb [1]}, {@code partials [N·C, 2·(KC·KH·KW + 1)]}. Checked launch factories: {@link PrismConv}.
 */
public final class PrismConvKernels {
    /** Channel padding code: channels outside {@code [0, C)} read zero. */
    public static final int ZEROS = 0;
    /** Channel padding code: channels outside {@code [0, C)} read the nearest edge channel. */
    public static final int REPLICATE = 1;
    /** Channel padding code: channel {@code q} reads channel {@code q mod C}. */
    public static final int CIRCULAR = 2;

    private PrismConvKernels() {
    }

    /**
     * The channel that padded channel position {@code q} reads, or {@code -1} when it reads zero.
     * DeepPrism Table 1: zero / replicate / circular channel padding.
     */
    public static int sourceChannel(int q, int c, int mode) {
        if (q >= 0 && q < c) {
            return q;
        }
        if (mode == REPLICATE) {
            return q < 0 ? 0 : c - 1;
        }
        if (mode == CIRCULAR) {
            int r = q % c;
            return r < 0 ? r + c : r;
        }
        return -1;
    }

    /**
     * Forward: reads {@code x[N,C,H,W]}, {@code f[KC,KH,KW]}, {@code b[1]}; writes {@code y[N,C,H,W]}.
     * DeepPrism eq. (3). One work-item per (n·C + c, row i).
     */
    public static void forward(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                               int kc, int kh, int kw, int mode) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                forwardRow(x, f, b, y, n, c, h, w, kc, kh, kw, mode, p, i);
            }
        }
    }

    /**
     * Output row {@code y[n, ch, i, :]} for {@code p = n·C + ch}: the bias, then for every filter tap
     * {@code (dc, dy)} whose source row lies inside the image, that source row through
     * {@link #accumulateRow}. The source channel of each {@code dc} is resolved once per row.
     */
    public static void forwardRow(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                  int kc, int kh, int kw, int mode, int p, int i) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int out = (p * h + i) * w;
        float bias = b[0];
        for (int j = 0; j < w; j++) {
            y[out + j] = bias;
        }
        // source row i + dy - ph must lie in [0, h)
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        for (int dc = 0; dc < kc; dc++) {
            int cs = sourceChannel(ch + dc - pc, c, mode);
            if (cs >= 0) {
                int plane = (img * c + cs) * h;
                for (int dy = dyLo; dy < dyHi; dy++) {
                    accumulateRow(y, out, x, (plane + i + dy - ph) * w, f, (dc * kh + dy) * kw, 1, w, kw);
                }
            }
        }
    }

    /**
     * One source row through one row of filter taps, into one output row:
     * {@code dst[out+j] += Σ_{d<kw} f[tap + step·d] · src[s + j + d - pw]} for every {@code j} in
     * {@code [0, w)}, skipping the taps whose source column {@code j + d - pw} falls outside
     * {@code [0, w)} (spatial zero padding), added in ascending {@code d}. {@code s} is the index of the
     * source row's column 0; {@code step} is 1 for the filter as stored and -1 (with {@code tap} at the
     * row's last element) for the mirrored filter of the backward pass.
     *
     * <p>The interior columns {@code [pw, w - pw)}, where every tap is inside, take three taps per pass
     * with no bounds test, so each output element is loaded and stored once per three taps; the
     * {@code pw} columns at each border test each tap. Sharing this helper makes the backward-data
     * gather the same arithmetic as the forward pass, with the filter row reversed.
     */
    public static void accumulateRow(float[] dst, int out, float[] src, int s, float[] f, int tap, int step,
                                     int w, int kw) {
        int pw = kw / 2;
        int lo = Math.min(pw, w);
        int hi = Math.max(lo, w - pw);
        int d = 0;
        for (; d + 3 <= kw; d += 3) {
            float f0 = f[tap + step * d];
            float f1 = f[tap + step * (d + 1)];
            float f2 = f[tap + step * (d + 2)];
            int base = s + d - pw;
            for (int j = lo; j < hi; j++) {
                dst[out + j] = dst[out + j] + f0 * src[base + j] + f1 * src[base + j + 1] + f2 * src[base + j + 2];
            }
        }
        for (; d < kw; d++) {
            float fd = f[tap + step * d];
            int base = s + d - pw;
            for (int j = lo; j < hi; j++) {
                dst[out + j] += fd * src[base + j];
            }
        }
        for (int j = 0; j < lo; j++) {
            accumulateBorder(dst, out, src, s, f, tap, step, w, kw, j);
        }
        for (int j = hi; j < w; j++) {
            accumulateBorder(dst, out, src, s, f, tap, step, w, kw, j);
        }
    }

    /** Column {@code j} of {@link #accumulateRow} with a bounds test per tap, for the border columns. */
    public static void accumulateBorder(float[] dst, int out, float[] src, int s, float[] f, int tap, int step,
                                        int w, int kw, int j) {
        int pw = kw / 2;
        float acc = dst[out + j];
        for (int d = 0; d < kw; d++) {
            int col = j + d - pw;
            if (col >= 0 && col < w) {
                acc += f[tap + step * d] * src[s + col];
            }
        }
        dst[out + j] = acc;
    }

    /**
     * Backward with respect to the input: reads {@code gy[N,C,H,W]}, {@code f}; writes
     * {@code gx[N,C,H,W]}, {@code gx = ∂L/∂x} for {@code gy = ∂L/∂y} of {@link #forward}.
     * A gather: one work-item per (n·C + c, row i) of {@code gx}, which sums every output that read it.
     */
    public static void backwardData(float[] gy, float[] f, float[] gx, int n, int c, int h, int w,
                                    int kc, int kh, int kw, int mode) {
        for (@Parallel int p = 0; p < n * c; p++) {
            // Math.max: not h alone, so that TornadoVM keeps it under a worker grid (Parallel, "Loop bounds").
            for (@Parallel int i = 0; i < Math.max(h, 0); i++) {
                backwardDataRow(gy, f, gx, n, c, h, w, kc, kh, kw, mode, p, i);
            }
        }
    }

    /**
     * Row {@code gx[n, cs, i, :]} for {@code p = n·C + cs}:
     * {@code gx[n,cs,i,j] = Σ f[dc,dy,dx] · gy[n, co, i-dy+ph, j-dx+pw]} over every output channel
     * {@code co} with {@code src(co+dc-pc) = cs}. For tap {@code dc} those channels form one range:
     * with {@code q = cs-dc+pc}, it is {@code {q}} for zero padding (dropped when outside
     * {@code [0, C)}), {@code {q mod C}} for circular padding, and for replicate padding {@code {q}}
     * widened to {@code [0, q]} on the first channel and to {@code [q, C-1]} on the last, because
     * every output whose tap clamps onto an edge channel read that channel.
     */
    public static void backwardDataRow(float[] gy, float[] f, float[] gx, int n, int c, int h, int w,
                                       int kc, int kh, int kw, int mode, int p, int i) {
        int img = p / c;
        int cs = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int out = (p * h + i) * w;
        for (int j = 0; j < w; j++) {
            gx[out + j] = 0f;
        }
        // output row i - dy + ph must lie in [0, h)
        int dyLo = Math.max(0, i + ph - h + 1);
        int dyHi = Math.min(kh, i + ph + 1);
        for (int dc = 0; dc < kc; dc++) {
            int q = cs - dc + pc;
            int lo = q;
            int hi = q;
            if (mode == REPLICATE) {
                if (cs == 0) {
                    lo = 0;
                }
                if (cs == c - 1) {
                    hi = c - 1;
                }
            } else if (mode == CIRCULAR) {
                lo = sourceChannel(q, c, CIRCULAR);
                hi = lo;
            }
            lo = Math.max(lo, 0);
            hi = Math.min(hi, c - 1);
            for (int co = lo; co <= hi; co++) {
                int plane = (img * c + co) * h;
                for (int dy = dyLo; dy < dyHi; dy++) {
                    // gy[.., i-dy+ph, j-dx+pw] with dx = kw-1-d is gy[.., j+d-pw]: the mirrored filter row
                    accumulateRow(gx, out, gy, (plane + i - dy + ph) * w, f, (dc * kh + dy) * kw + kw - 1, -1, w, kw);
                }
            }
        }
    }

    /**
     * First half of the filter and bias gradients: reads {@code x}, {@code gy}; writes
     * {@code partials[N·C, 2·(KC·KH·KW + 1)]}, the contribution of image-channel {@code p = n·C + c}:
     * for tap {@code t = (dc·KH + dy)·KW + dx} the sum
     * {@code Σ_{i,j} gy[n,c,i,j] · x[n, src(c+dc-pc), i+dy-ph, j+dx-pw]}, and for {@code t = KC·KH·KW}
     * (the bias) {@code Σ_{i,j} gy[n,c,i,j]}. Each sum is taken in double ({@link Sums}) and stored as
     * the pair {@code partials[p, 2t], partials[p, 2t + 1]} ({@link Sums#storeSplit}), so that the
     * reduction over image-channels sees it unrounded. One work-item per (n, c).
     */
    public static void weightPartials(float[] x, float[] gy, float[] partials, int n, int c, int h, int w,
                                      int kc, int kh, int kw, int mode) {
        for (@Parallel int p = 0; p < n * c; p++) {
            weightPartialsLane(x, gy, partials, n, c, h, w, kc, kh, kw, mode, p);
        }
    }

    /**
     * The {@code KC·KH·KW + 1} partial sums of image-channel {@code p = n·C + c}, see
     * {@link #weightPartials}: the taps of each filter row three at a time ({@link #tapTriple}), the rest
     * one at a time ({@link #tapSingle}), then the bias. A tap whose channel reads zero padding sums
     * nothing.
     */
    public static void weightPartialsLane(float[] x, float[] gy, float[] partials, int n, int c, int h, int w,
                                          int kc, int kh, int kw, int mode, int p) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int taps = kc * kh * kw;
        int base = 2 * p * (taps + 1);
        int g = p * h * w;
        for (int dc = 0; dc < kc; dc++) {
            int cs = sourceChannel(ch + dc - pc, c, mode);
            for (int dy = 0; dy < kh; dy++) {
                // source row i + dy - ph must lie in [0, h)
                int iLo = cs >= 0 ? Math.max(0, ph - dy) : 0;
                int iHi = cs >= 0 ? Math.min(h, h + ph - dy) : 0;
                // source row of gradient row i: src + i·w
                int src = ((img * c + cs) * h + dy - ph) * w;
                int out = base + 2 * (dc * kh + dy) * kw;
                int dx = 0;
                for (; dx + 3 <= kw; dx += 3) {
                    tapTriple(x, gy, partials, out + 2 * dx, g, src, w, iLo, iHi, dx - pw);
                }
                for (; dx < kw; dx++) {
                    tapSingle(x, gy, partials, out + 2 * dx, g, src, w, iLo, iHi, dx - pw);
                }
            }
        }
        Sums.storeSplit(partials, base + 2 * taps, Sums.sum(gy, g, h * w));
    }

    /**
     * Three taps of a filter row, whose source columns are {@code j + o}, {@code j + o + 1}, {@code j + o + 2}
     * for gradient column {@code j}: each the sum, over the gradient rows {@code i} in {@code [iLo, iHi)} and
     * the columns whose source lies inside the row, of {@code gy[g + i·w + j] · x[src + i·w + j + o + t]}, in
     * double ({@link Sums}), stored as three pairs from {@code partials[at]}. Over the columns where all three
     * read inside the row, each gradient value and each source value is widened once and used by the three
     * taps in turn; {@link Conv2dKernels#edgeColumns} adds the rest. Rows in ascending order.
     */
    public static void tapTriple(float[] x, float[] gy, float[] partials, int at, int g, int src, int w,
                                 int iLo, int iHi, int o) {
        // columns where all three taps read inside the row; at least 0 wide
        int lo = Math.max(0, -o);
        int hi = Math.max(lo, Math.min(w, w - o - 2));
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        for (int i = iLo; i < iHi; i++) {
            int gr = g + i * w;
            int xr = src + i * w + o;
            if (lo < hi) {
                // x[xr + j + t] is tap t's source at column j
                double xa = x[xr + lo];
                double xb = x[xr + lo + 1];
                for (int j = lo; j < hi; j++) {
                    double xc = x[xr + j + 2];
                    double gv = gy[gr + j];
                    s0 += gv * xa;
                    s1 += gv * xb;
                    s2 += gv * xc;
                    xa = xb;
                    xb = xc;
                }
            }
            s0 += Conv2dKernels.edgeColumns(gy, gr, x, xr, w, w, o, lo, hi);
            s1 += Conv2dKernels.edgeColumns(gy, gr, x, xr + 1, w, w, o + 1, lo, hi);
            s2 += Conv2dKernels.edgeColumns(gy, gr, x, xr + 2, w, w, o + 2, lo, hi);
        }
        Sums.storeSplit(partials, at, s0);
        Sums.storeSplit(partials, at + 2, s1);
        Sums.storeSplit(partials, at + 4, s2);
    }

    /** One tap, as {@link #tapTriple} defines them, one {@link Sums#dot} per row: the pair at {@code partials[at]}. */
    public static void tapSingle(float[] x, float[] gy, float[] partials, int at, int g, int src, int w,
                                 int iLo, int iHi, int o) {
        int lo = Math.max(0, -o);
        int hi = Math.min(w, w - o);
        double s = 0;
        for (int i = iLo; i < iHi && lo < hi; i++) {
            s += Sums.dot(gy, g + i * w + lo, x, src + i * w + o + lo, hi - lo);
        }
        Sums.storeSplit(partials, at, s);
    }

    /**
     * Second half of the filter and bias gradients: reads {@code partials[rows, 2·(taps + 1)]}; writes
     * {@code gf[taps]} (the sum of pair column {@code t} over the rows) and {@code gb[0]} (the sum of the
     * last pair column), each summed in double and rounded to float once. One work-item per filter
     * element, plus one for the bias.
     */
    public static void weightReduce(float[] partials, float[] gf, float[] gb, int rows, int taps) {
        for (@Parallel int t = 0; t < taps + 1; t++) {
            weightReduceLane(partials, gf, gb, rows, taps, t);
        }
    }

    /** Pair column {@code t} of {@code partials} summed over its rows ({@link Sums#sumSplit}), see {@link #weightReduce}. */
    public static void weightReduceLane(float[] partials, float[] gf, float[] gb, int rows, int taps, int t) {
        float s = (float) Sums.sumSplit(partials, 2 * t, 2 * (taps + 1), rows);
        if (t < taps) {
            gf[t] = s;
        } else {
            gb[0] = s;
        }
    }
}
