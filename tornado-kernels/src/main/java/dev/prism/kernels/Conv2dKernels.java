package dev.prism.kernels;

/**
 * Direct 2-D convolution, the operation PyTorch's {@code F.conv2d} computes (cross-correlation with zero
 * padding, stride, dilation and groups), and its backward pass.
 *
 * <p>Layouts, row-major: input {@code x[N, Cin, H, W]}, weight {@code w[Cout, Cin/groups, KH, KW]},
 * output {@code y[N, Cout, OH, OW]}. Output channel {@code co} belongs to group
 * {@code g = co / (Cout/groups)} and reads input channels {@code g·Cin/groups ..}. With
 * {@code iy = oy·sh − ph + ky·dh} and {@code ix = ox·sw − pw + kx·dw}:
 * <pre>
 *   y[n,co,oy,ox] = Σ_{ci in group, ky, kx} w[co, ci − g·Cin/groups, ky, kx] · x[n, ci, iy, ix]
 * </pre>
 * where terms with {@code (iy, ix)} outside the input are zero and are skipped. The forward adds
 * {@code b[co]} to each finished sum (zeros for a layer without bias: a sum that starts at +0 is never −0, so
 * adding +0 leaves every bit as it was), the same operations as a separate {@link GemmKernels#addBias} after it,
 * without another pass over {@code y}.
 *
 * <p>The geometry is one {@code int[]} argument (TornadoVM allows at most 15 kernel arguments), laid
 * out as the indices {@link #N} .. {@link #OW} below; {@link Conv2d.Geometry#pack()} builds it after
 * checking it.
 *
 * <p>Summation order: each output element adds its terms in ascending {@code (ci, ky, kx)}; each element
 * of the input gradient in ascending {@code (co, ky, kx)}; each weight-gradient element in double
 * ({@link Sums}) over the rows {@code (n, oy)} in ascending order. For a 1×1 kernel (stride 1, no
 * padding, groups 1) the forward and input-gradient orders are exactly those of the equivalent
 * {@link GemmKernels} products, so the routed and the direct results are bit-identical.
 *
 * <p>Each innermost loop runs over a contiguous output row. Every helper has a separate copy of that loop
 * for horizontal stride 1: HotSpot C2 removes array bounds checks only for indices whose scale is a
 * constant, so {@code x[b + ox·sw]} keeps a check per element; the stride-1 loop measured 1.4× faster
 * on the 64×64 3×3 case. Both loops add the same terms in the same order.
 */
public final class Conv2dKernels {
    /** Index of the batch size N in the geometry array. */
    public static final int N = 0;
    /** Input channels Cin. */
    public static final int CIN = 1;
    /** Input height H. */
    public static final int H = 2;
    /** Input width W. */
    public static final int W = 3;
    /** Output channels Cout. */
    public static final int COUT = 4;
    /** Kernel height KH. */
    public static final int KH = 5;
    /** Kernel width KW. */
    public static final int KW = 6;
    /** Vertical stride sh. */
    public static final int SH = 7;
    /** Horizontal stride sw. */
    public static final int SW = 8;
    /** Zero padding above and below, ph. */
    public static final int PH = 9;
    /** Zero padding left and right, pw. */
    public static final int PW = 10;
    /** Vertical dilation dh. */
    public static final int DH = 11;
    /** Horizontal dilation dw. */
    public static final int DW = 12;
    /** Groups. */
    public static final int GROUPS = 13;
    /** Output height {@code OH = (H + 2ph − dh·(KH−1) − 1)/sh + 1}. */
    public static final int OH = 14;
    /** Output width {@code OW = (W + 2pw − dw·(KW−1) − 1)/sw + 1}. */
    public static final int OW = 15;
    /** Length of the geometry array. */
    public static final int GEOMETRY_LENGTH = 16;

    private Conv2dKernels() {
    }

    /** Reads {@code x}, {@code w}, {@code b[Cout]}; writes {@code y}. One work-item per output row (n·Cout + co, oy). */
    public static void forward(float[] x, float[] w, float[] b, float[] y, int[] g) {
        for (@Parallel int nco = 0; nco < g[N] * g[COUT]; nco++) {
            for (@Parallel int oy = 0; oy < g[OH]; oy++) {
                forwardRow(x, w, b, y, g, nco, oy);
            }
        }
    }

    /** Output row {@code y[n, co, oy, :]} for {@code nco = n·Cout + co}, the bias {@code b[co]} added last. */
    public static void forwardRow(float[] x, float[] w, float[] b, float[] y, int[] g, int nco, int oy) {
        int cin = g[CIN], h = g[H], wi = g[W], cout = g[COUT], kh = g[KH], kw = g[KW];
        int sh = g[SH], sw = g[SW], ph = g[PH], pw = g[PW], dh = g[DH], dw = g[DW];
        int oh = g[OH], ow = g[OW];
        int cinG = cin / g[GROUPS];
        int coutG = cout / g[GROUPS];
        int n = nco / cout;
        int co = nco - n * cout;
        int yRow = (nco * oh + oy) * ow;
        for (int ox = 0; ox < ow; ox++) {
            y[yRow + ox] = 0f;
        }
        for (int cil = 0; cil < cinG; cil++) {
            int xPlane = (n * cin + (co / coutG) * cinG + cil) * h * wi;
            int wBase = (co * cinG + cil) * kh * kw;
            for (int ky = 0; ky < kh; ky++) {
                int iy = oy * sh - ph + ky * dh;
                if (iy >= 0 && iy < h) {
                    int xRow = xPlane + iy * wi;
                    for (int kx = 0; kx < kw; kx++) {
                        float wv = w[wBase + ky * kw + kx];
                        int off = kx * dw - pw;
                        int lo = firstInside(off, sw);
                        int hi = endInside(off, sw, wi, ow);
                        int xb = xRow + off;
                        if (sw == 1) {
                            for (int ox = lo; ox < hi; ox++) {
                                y[yRow + ox] += wv * x[xb + ox];
                            }
                        } else {
                            for (int ox = lo; ox < hi; ox++) {
                                y[yRow + ox] += wv * x[xb + ox * sw];
                            }
                        }
                    }
                }
            }
        }
        float bias = b[co];
        for (int ox = 0; ox < ow; ox++) {
            y[yRow + ox] += bias;
        }
    }

    /**
     * The input gradient {@code gx = ∂L/∂x} for the output gradient {@code gy[N,Cout,OH,OW]}: the
     * transposed convolution of {@code gy} with {@code w},
     * {@code gx[n,ci,iy,ix] = Σ w[co, ci − g·Cin/groups, ky, kx]·gy[n,co,oy,ox]} over the (co, ky, kx) whose
     * output position {@code (oy, ox)} reads {@code (iy, ix)}. Reads {@code gy}, {@code w}; writes
     * {@code gx}. One work-item per input row (n·Cin + ci, iy), which gathers from every output row that
     * reads it, so no two work-items write one element.
     */
    public static void backwardInput(float[] gy, float[] w, float[] gx, int[] g) {
        for (@Parallel int nci = 0; nci < g[N] * g[CIN]; nci++) {
            for (@Parallel int iy = 0; iy < g[H]; iy++) {
                backwardInputRow(gy, w, gx, g, nci, iy);
            }
        }
    }

    /** Input-gradient row {@code gx[n, ci, iy, :]} for {@code nci = n·Cin + ci}. */
    public static void backwardInputRow(float[] gy, float[] w, float[] gx, int[] g, int nci, int iy) {
        int cin = g[CIN], h = g[H], wi = g[W], cout = g[COUT], kh = g[KH], kw = g[KW];
        int sh = g[SH], sw = g[SW], ph = g[PH], pw = g[PW], dh = g[DH], dw = g[DW];
        int oh = g[OH], ow = g[OW];
        int cinG = cin / g[GROUPS];
        int coutG = cout / g[GROUPS];
        int n = nci / cin;
        int ci = nci - n * cin;
        int grp = ci / cinG;
        int cil = ci - grp * cinG;
        int gxRow = (nci * h + iy) * wi;
        for (int ix = 0; ix < wi; ix++) {
            gx[gxRow + ix] = 0f;
        }
        for (int col = 0; col < coutG; col++) {
            int co = grp * coutG + col;
            int gyPlane = (n * cout + co) * oh * ow;
            int wBase = (co * cinG + cil) * kh * kw;
            for (int ky = 0; ky < kh; ky++) {
                // output row oy reads input row iy = oy·sh − ph + ky·dh
                int t = iy + ph - ky * dh;
                int oy = t / sh;
                if (t >= 0 && oy * sh == t && oy < oh) {
                    int gyRow = gyPlane + oy * ow;
                    for (int kx = 0; kx < kw; kx++) {
                        float wv = w[wBase + ky * kw + kx];
                        int off = kx * dw - pw;
                        int lo = firstInside(off, sw);
                        int hi = endInside(off, sw, wi, ow);
                        int gb = gxRow + off;
                        if (sw == 1) {
                            for (int ox = lo; ox < hi; ox++) {
                                gx[gb + ox] += wv * gy[gyRow + ox];
                            }
                        } else {
                            for (int ox = lo; ox < hi; ox++) {
                                gx[gb + ox * sw] += wv * gy[gyRow + ox];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The weights of the input gradient written as a forward convolution, for stride 1 and groups 1:
     * {@code wf[ci, co, ky, kx] = w[co, ci, KH−1−ky, KW−1−kx]} (input and output channels swapped, both
     * spatial axes flipped), {@code wf[Cin, Cout, KH, KW]}. With it, {@code gx = conv2d(gy, wf)} at stride 1,
     * dilation {@code (dh, dw)} and padding {@code (dh·(KH−1) − ph, dw·(KW−1) − pw)} gives
     * {@code gx[n,ci,iy,ix] = Σ_{co,ky,kx} w[co,ci,ky,kx]·gy[n,co,iy+ph−ky·dh, ix+pw−kx·dw]}, the sum
     * {@link #backwardInput} computes ({@link Conv2d#backward} routes such geometries so). Reads {@code w};
     * writes {@code wf}. One work-item per element of {@code wf}.
     */
    public static void flipWeights(float[] w, float[] wf, int[] g) {
        for (@Parallel int l = 0; l < g[CIN] * g[COUT] * g[KH] * g[KW]; l++) {
            flipWeightsLane(w, wf, g, l);
        }
    }

    /** Element {@code wf[l]}, {@code l = ((ci·Cout + co)·KH + ky)·KW + kx}, of {@link #flipWeights}. */
    public static void flipWeightsLane(float[] w, float[] wf, int[] g, int l) {
        int cin = g[CIN], cout = g[COUT], kh = g[KH], kw = g[KW];
        int kx = l % kw;
        int r = l / kw;
        int ky = r % kh;
        r = r / kh;
        int co = r % cout;
        int ci = r / cout;
        wf[l] = w[((co * cin + ci) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)];
    }

    /**
     * The batch laid side by side along the width, for a convolution of narrow planes: {@code xt[c, y, j·(W + gap) + x]
     * = x[j, c, y, x]}, and {@code xt = 0} in the {@code gap} columns between images, so {@code xt[C, H, N·W + (N−1)·gap]}.
     * With {@code gap} at least the horizontal padding, a stride-1 convolution of {@code xt} with that padding computes
     * every image's output, each at {@code j·(W + gap)} in its rows, from the same terms ({@link #widthToBatch} takes
     * them out). Reads {@code x[N, C, H, W]}, writes {@code xt}. One work-item per row {@code (c, y)} of {@code xt}.
     */
    public static void batchToWidth(float[] x, float[] xt, int n, int c, int h, int w, int gap) {
        for (@Parallel int p = 0; p < c; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                batchToWidthRow(x, xt, n, c, h, w, gap, p, i);
            }
        }
    }

    /** Row {@code i} of channel {@code p} of {@link #batchToWidth}. */
    public static void batchToWidthRow(float[] x, float[] xt, int n, int c, int h, int w, int gap, int p, int i) {
        int width = n * w + (n - 1) * gap;
        int out = (p * h + i) * width;
        for (int j = 0; j < n; j++) {
            int in = ((j * c + p) * h + i) * w;
            int at = out + j * (w + gap);
            for (int q = 0; q < w; q++) {
                xt[at + q] = x[in + q];
            }
            if (j + 1 < n) {
                for (int q = 0; q < gap; q++) {
                    xt[at + w + q] = 0f;
                }
            }
        }
    }

    /**
     * The inverse layout of {@link #batchToWidth}: {@code y[j, c, y, x] = yt[c, y, j·stride + x]} for {@code x < W}, from
     * {@code yt[C, H, width]}. Reads {@code yt}, writes {@code y[N, C, H, W]}. One work-item per row {@code (c, y)} of
     * {@code yt}.
     */
    public static void widthToBatch(float[] yt, float[] y, int n, int c, int h, int w, int width, int stride) {
        for (@Parallel int p = 0; p < c; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                widthToBatchRow(yt, y, n, c, h, w, width, stride, p, i);
            }
        }
    }

    /** Row {@code i} of channel {@code p} of {@link #widthToBatch}. */
    public static void widthToBatchRow(float[] yt, float[] y, int n, int c, int h, int w, int width, int stride, int p, int i) {
        int in = (p * h + i) * width;
        for (int j = 0; j < n; j++) {
            int out = ((j * c + p) * h + i) * w;
            int from = in + j * stride;
            for (int q = 0; q < w; q++) {
                y[out + q] = yt[from + q];
            }
        }
    }

    /**
     * The weight gradient {@code gw[co,cil,ky,kx] = Σ_{n,oy,ox} gy[n,co,oy,ox]·x[n, g·Cin/groups + cil, iy, ix]}.
     * Reads {@code x}, {@code gy}; writes {@code gw}. One work-item per filter row {@code (co, cil, ky)},
     * which owns its {@code KW} elements, so the sum over the batch and the positions needs no cross-lane
     * reduction.
     */
    public static void backwardWeight(float[] x, float[] gy, float[] gw, int[] g) {
        for (@Parallel int l = 0; l < g[COUT] * (g[CIN] / g[GROUPS]) * g[KH]; l++) {
            backwardWeightLane(x, gy, gw, g, l);
        }
    }

    /**
     * Filter row {@code l = (co·Cin/groups + cil)·KH + ky} of the weight gradient: {@code gw[l·KW + kx]} for
     * every {@code kx}, each summed in double ({@link Sums}) over the output rows {@code (n, oy)} in
     * ascending order and rounded to float once. With horizontal stride 1 three taps at a time share each
     * gradient value over the columns where all three read inside the input row ({@link #edgeColumns} adds
     * the rest); otherwise, and for the last {@code KW mod 3} taps, one tap at a time.
     */
    public static void backwardWeightLane(float[] x, float[] gy, float[] gw, int[] g, int l) {
        backwardWeightSums(x, gy, gw, g, l, 0, g[N], l * g[KW], false);
    }

    /**
     * The weight gradient in {@code chunks} parts, {@link #weightChunk}'s batch items each: part {@code c}'s sums
     * {@code Σ_{n in chunk c, oy, ox} gy·x} of element {@code k} ({@code gw}'s index), each in double ({@link Sums}), as the
     * pair {@code partials[2·(c·size + k)], partials[2·(c·size + k) + 1]} ({@link Sums#storeSplit}, {@code size} the
     * weight's length), so that {@link #weightChunksReduce} adds them unrounded. Reads {@code x}, {@code gy}; writes
     * {@code partials}. One work-item per (chunk, filter row) as in {@link #backwardWeight}: the threads of a backend
     * that splits the lanes take whole chunks of the batch instead of whole output channels.
     */
    public static void backwardWeightChunks(float[] x, float[] gy, float[] partials, int[] g, int chunks) {
        for (@Parallel int l = 0; l < chunks * g[COUT] * (g[CIN] / g[GROUPS]) * g[KH]; l++) {
            backwardWeightChunkLane(x, gy, partials, g, chunks, l);
        }
    }

    /** Lane {@code l = c·rows + r} of {@link #backwardWeightChunks}: filter row {@code r} over chunk {@code c}'s batch items. */
    public static void backwardWeightChunkLane(float[] x, float[] gy, float[] partials, int[] g, int chunks, int l) {
        int rows = g[COUT] * (g[CIN] / g[GROUPS]) * g[KH];
        int c = l / rows;
        int r = l - c * rows;
        backwardWeightSums(x, gy, partials, g, r, weightChunk(g[N], chunks, c), weightChunk(g[N], chunks, c + 1),
                c * rows * g[KW] + r * g[KW], true);
    }

    /** The first batch item of chunk {@code c} of {@code chunks} over {@code n} items: {@code ⌊c·n / chunks⌋}. */
    public static int weightChunk(int n, int chunks, int c) {
        return c * n / chunks;
    }

    /**
     * Second half of {@link #backwardWeightChunks}: {@code gw[k]}, the {@code chunks} pairs of element {@code k} summed in
     * double ({@link Sums#sumSplit}) and rounded to float once. Reads {@code partials}; writes {@code gw}. One work-item
     * per element.
     */
    public static void weightChunksReduce(float[] partials, float[] gw, int chunks, int size) {
        for (@Parallel int k = 0; k < size; k++) {
            weightChunksReduceLane(partials, gw, chunks, size, k);
        }
    }

    /** Element {@code k} of {@link #weightChunksReduce}. */
    public static void weightChunksReduceLane(float[] partials, float[] gw, int chunks, int size, int k) {
        gw[k] = (float) Sums.sumSplit(partials, 2 * k, 2 * size, chunks);
    }

    /**
     * Filter row {@code l} of the weight gradient summed over the batch items {@code [n0, n1)} (see
     * {@link #backwardWeightLane}): element {@code kx}'s double sum to {@code out[at + kx]} rounded to float, or with
     * {@code split} as the pair {@code out[2·(at + kx)], out[2·(at + kx) + 1]} ({@link Sums#storeSplit}).
     */
    public static void backwardWeightSums(float[] x, float[] gy, float[] out, int[] g, int l, int n0, int n1, int at,
                                          boolean split) {
        int cin = g[CIN], h = g[H], wi = g[W], cout = g[COUT], kh = g[KH], kw = g[KW];
        int sh = g[SH], sw = g[SW], ph = g[PH], pw = g[PW], dh = g[DH], dw = g[DW];
        int oh = g[OH], ow = g[OW];
        int cinG = cin / g[GROUPS];
        int coutG = cout / g[GROUPS];
        int ky = l % kh;
        int r = l / kh;
        int cil = r % cinG;
        int co = r / cinG;
        int ci = (co / coutG) * cinG + cil;
        int kx = 0;
        if (sw == 1) {
            for (; kx + 3 <= kw; kx += 3) {
                // tap kx + t reads input column ox + off + t·dw
                int off = kx * dw - pw;
                // output columns where all three taps read inside the row; at least 0 wide
                int lo = firstInside(off, 1);
                int hi = Math.max(lo, endInside(off + 2 * dw, 1, wi, ow));
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                for (int n = n0; n < n1; n++) {
                    int gyPlane = (n * cout + co) * oh * ow;
                    int xPlane = (n * cin + ci) * h * wi;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * sh - ph + ky * dh;
                        if (iy >= 0 && iy < h) {
                            int gyRow = gyPlane + oy * ow;
                            int xb = xPlane + iy * wi + off;
                            for (int ox = lo; ox < hi; ox++) {
                                double e = gy[gyRow + ox];
                                s0 += e * x[xb + ox];
                                s1 += e * x[xb + ox + dw];
                                s2 += e * x[xb + ox + 2 * dw];
                            }
                            s0 += edgeColumns(gy, gyRow, x, xb, wi, ow, off, lo, hi);
                            s1 += edgeColumns(gy, gyRow, x, xb + dw, wi, ow, off + dw, lo, hi);
                            s2 += edgeColumns(gy, gyRow, x, xb + 2 * dw, wi, ow, off + 2 * dw, lo, hi);
                        }
                    }
                }
                put(out, at + kx, s0, split);
                put(out, at + kx + 1, s1, split);
                put(out, at + kx + 2, s2, split);
            }
        }
        for (; kx < kw; kx++) {
            int off = kx * dw - pw;
            int lo = firstInside(off, sw);
            int hi = endInside(off, sw, wi, ow);
            double s = 0;
            for (int n = n0; n < n1 && lo < hi; n++) {
                int gyPlane = (n * cout + co) * oh * ow;
                int xPlane = (n * cin + ci) * h * wi;
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * sh - ph + ky * dh;
                    if (iy >= 0 && iy < h) {
                        int xb = xPlane + iy * wi + off;
                        if (sw == 1) {
                            s += Sums.dot(gy, gyPlane + oy * ow + lo, x, xb + lo, hi - lo);
                        } else {
                            s += Sums.dotStrided(gy, gyPlane + oy * ow + lo, 1, x, xb + lo * sw, sw, hi - lo);
                        }
                    }
                }
            }
            put(out, at + kx, s, split);
        }
    }

    /** {@code s} rounded to {@code out[i]}, or with {@code split} as the pair at {@code 2i} ({@link Sums#storeSplit}). */
    public static void put(float[] out, int i, double s, boolean split) {
        if (split) {
            Sums.storeSplit(out, 2 * i, s);
        } else {
            out[i] = (float) s;
        }
    }

    /**
     * The output columns of one tap (stride 1, input column {@code ox + off}) that the three-tap loop
     * over {@code [lo, hi)} left out: {@code Σ gy[gyRow + ox]·x[xb + ox]} over the {@code ox} outside
     * {@code [lo, hi)} whose input column lies in {@code [0, w)}, in double. Shared with the prism
     * convolution's filter gradient ({@link PrismConvKernels#weightPartialsLane}, {@code ow = w}).
     */
    public static double edgeColumns(float[] gy, int gyRow, float[] x, int xb, int w, int ow, int off, int lo, int hi) {
        int first = firstInside(off, 1);
        int end = endInside(off, 1, w, ow);
        int after = Math.max(hi, first);
        // a length of 0 or less sums nothing
        return Sums.dot(gy, gyRow + first, x, xb + first, Math.min(lo, end) - first)
                + Sums.dot(gy, gyRow + after, x, xb + after, end - after);
    }

    /** The first {@code ox >= 0} whose input column {@code ox·stride + off} is {@code >= 0}. */
    public static int firstInside(int off, int stride) {
        return off >= 0 ? 0 : (stride - 1 - off) / stride;
    }

    /**
     * One past the last {@code ox < count} whose input column {@code ox·stride + off} is {@code < size};
     * at most {@link #firstInside} when there is none.
     */
    public static int endInside(int off, int stride, int size, int count) {
        int last = size - 1 - off;
        return last < 0 ? 0 : Math.min(count, last / stride + 1);
    }
}
