package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static dev.prism.kernels.Conv2dKernels.CIN;
import static dev.prism.kernels.Conv2dKernels.COUT;
import static dev.prism.kernels.Conv2dKernels.DH;
import static dev.prism.kernels.Conv2dKernels.DW;
import static dev.prism.kernels.Conv2dKernels.GROUPS;
import static dev.prism.kernels.Conv2dKernels.H;
import static dev.prism.kernels.Conv2dKernels.KH;
import static dev.prism.kernels.Conv2dKernels.KW;
import static dev.prism.kernels.Conv2dKernels.OH;
import static dev.prism.kernels.Conv2dKernels.OW;
import static dev.prism.kernels.Conv2dKernels.PH;
import static dev.prism.kernels.Conv2dKernels.PW;
import static dev.prism.kernels.Conv2dKernels.SH;
import static dev.prism.kernels.Conv2dKernels.SW;
import static dev.prism.kernels.Conv2dKernels.W;

/**
 * {@link Conv2dVector}'s path for 3×3 kernels of stride 1, dilation 1 and groups 1 (every 3×3 layer of the
 * models, and their input gradients): Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016). Each 2×2 block of outputs, a tile, is computed from
 * the 4×4 input patch under it as {@code Aᵀ [Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B)] A}: 16 multiply-adds per input
 * channel and output channel where the direct convolution spends 36, the rest being additions.
 *
 * <p>The transforms, with {@code d} a 4×4 patch and {@code g} a 3×3 filter:
 * <pre>
 * Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]   Aᵀ = [1 1 1 0; 0 1 −1 −1]
 * </pre>
 *
 * <p>How it runs. Tiles are numbered over (batch item, tile row, tile column) and taken in blocks of
 * {@code NV·L} (whole tile rows where a row has fewer tiles; L, the lanes of {@link VectorMath#FLOAT}). For a
 * block, the input transform writes {@code V[ξ][ci][tile]} for the 16 positions ξ of the 4×4 transform, one
 * vector lane per tile: the input rows are split into even and odd columns first, so that a tile's four
 * columns are lane-aligned loads at {@code t} and {@code t + 1}. Then, per block of {@code CH} output
 * channels, 16 matrix products {@code M_ξ[co][tile] = Σ_ci U_ξ[co][ci]·V_ξ[ci][tile]} run on the same FMA
 * micro-kernel as the direct path (CH channels × 4 vectors), and the output transform writes each channel's
 * 2×2 tiles. The weights are transformed once per call, in float (up to three roundings of sums of at most nine
 * weights halved).
 *
 * <p>Accuracy: each output is a different sum from the direct convolution's: the input transform adds up to
 * four inputs (two roundings), the products run over {@code ci} as float FMAs, the output transform adds nine
 * of them. The error is a small multiple of the direct sum's (the transformed values are up to 4× the
 * inputs' and 2.25× the weights' magnitudes); {@code Conv2dVectorTest} holds it to the shared tolerance
 * against the plain loops on every geometry it runs. A tile's result depends only on its position, never on
 * how the lanes were split among threads: tiles start at even output rows and columns, and a range that
 * starts at an odd row computes the whole tile and writes only its second row.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use: no allocation in steady state.
 */
final class Conv2dWinogradVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Vectors of tiles per micro-kernel call. */
    private static final int NV = 4;
    /** Output channels per micro-kernel block: 4 with 16 float lanes (32 registers), else 2. */
    private static final int CH = L >= 16 ? 4 : 2;
    /** Tiles per block. */
    static final int BLOCK = NV * L;
    /** Stride of one row of a block's scratch: a block's tiles, plus a vector that the last tile row's store may overrun. */
    static final int STRIDE = BLOCK + L;

    private static final class Scratch {
        float[] u = new float[0];
        float[] v = new float[0];
        float[] m = new float[0];
        float[] out = new float[0];
        float[] rows = new float[0];
        int[] tileN = new int[BLOCK];
        int[] tileY = new int[BLOCK];
    }

    /** Lanes {@code 0, 2, .., L−2, 1, 3, .., L−1}, and the same with the halves swapped. */
    private static final VectorShuffle<Float> EVENS_FIRST = VectorShuffle.fromOp(F, i -> i < L / 2 ? 2 * i : 2 * (i - L / 2) + 1);
    private static final VectorShuffle<Float> ODDS_FIRST = VectorShuffle.fromOp(F, i -> i < L / 2 ? 2 * i + 1 : 2 * (i - L / 2));
    /** The upper half of the lanes. */
    private static final VectorMask<Float> HIGH = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dWinogradVector() {
    }

    /** True for the geometries this path computes: 3×3, stride 1, dilation 1, groups 1 ({@link #pays}: which of them take it). */
    static boolean applies(int[] g) {
        return g[KH] == 3 && g[KW] == 3 && g[SH] == 1 && g[SW] == 1 && g[DH] == 1 && g[DW] == 1 && g[GROUPS] == 1;
    }

    /** The fewest input channels for which {@link Conv2dVector} takes this path: {@value}. */
    static final int MIN_CIN = 4;

    /**
     * True when {@link Conv2dVector#forwardRows} takes this path: a geometry {@link #applies} accepts, with at least
     * {@link #MIN_CIN} input channels. With fewer, each tile's input transform serves one to three channels' products
     * and the direct path is faster at every width: one thread's half of the lanes of 64×1×32×32 → 32 took 1.03 ms
     * against 0.40 direct, of 64×3×32×32 → 32 1.14 against 0.55 at 512 bits (1.50 against 1.12 at 256, 2.22 against
     * 2.11 at 128); with 4 channels the measurements split (the direct path faster at 512 bits, 0.79 against 1.23;
     * Winograd at 256, 1.68 against 2.48; at 128 bits one run each way), so 4 stays on this path. AMD Zen 5, a
     * throwaway harness timing the two paths; {@code prism bench -k conv2d.backward.last}
     * times a layer whose input gradient (one channel in) takes the direct path. The rule depends on the geometry alone,
     * so the bits do not depend on the thread count.
     */
    static boolean pays(int[] g) {
        return applies(g) && g[CIN] >= MIN_CIN;
    }

    /**
     * Lanes {@code [from, to)} of {@link Conv2dKernels#forward}, lane {@code l} being the output row
     * {@code (n·Cout + co, oy) = (l / OH, l % OH)}, for a geometry {@link #applies} accepts.
     */
    static void forwardRows(float[] x, float[] w, float[] y, int[] g, int from, int to) {
        int oh = g[OH], cout = g[COUT];
        int perImage = cout * oh;
        Scratch s = SCRATCH.get();
        int l = from;
        while (l < to) {
            int n = l / perImage;
            int rem = l - n * perImage;
            if (rem == 0 && to - l >= perImage) {
                int images = (to - l) / perImage;
                region(x, w, y, g, s, n, images, 0, cout, 0, oh);
                l += images * perImage;
                continue;
            }
            int co = rem / oh;
            int oy = rem - co * oh;
            if (oy == 0) {
                int channels = (Math.min(to, (n + 1) * perImage) - l) / oh;
                if (channels > 0) {
                    region(x, w, y, g, s, n, 1, co, channels, 0, oh);
                    l += channels * oh;
                    continue;
                }
            }
            int oy1 = Math.min(oh, oy + (to - l));
            region(x, w, y, g, s, n, 1, co, 1, oy, oy1);
            l += oy1 - oy;
        }
    }

    /**
     * Output channels {@code [co0, co0 + nc)}, rows {@code [oy0, oy1)} of batch items {@code [n0, n0 + images)}:
     * every tile row that holds one of those rows, whole, its outputs outside the range not written.
     */
    private static void region(float[] x, float[] w, float[] y, int[] g, Scratch s, int n0, int images, int co0, int nc,
                               int oy0, int oy1) {
        int cin = g[CIN];
        int ow = g[OW];
        int tilesX = (ow + 1) / 2;
        int ty0 = oy0 / 2, ty1 = (oy1 + 1) / 2;
        int blocks = (nc + CH - 1) / CH;
        transformWeights(w, g, s, co0, nc, blocks);
        ensure(s, cin, tilesX, g[PW]);
        // A block is `rowsPer` tile rows of `width` tiles from column tx0: whole rows when a row has at most BLOCK
        // tiles, else BLOCK-wide pieces of one row.
        int width = Math.min(tilesX, BLOCK);
        int rowsPer = BLOCK / width;
        int[] tileN = s.tileN, tileY = s.tileY;
        for (int tx0 = 0; tx0 < tilesX; tx0 += width) {
            int cw = Math.min(width, tilesX - tx0);
            int k = 0;
            for (int n = n0; n < n0 + images; n++) {
                for (int ty = ty0; ty < ty1; ty++) {
                    tileN[k] = n;
                    tileY[k] = ty;
                    if (++k == rowsPer) {
                        block(x, y, g, s, k, tx0, cw, width, co0, nc, blocks, oy0, oy1);
                        k = 0;
                    }
                }
            }
            if (k > 0) {
                block(x, y, g, s, k, tx0, cw, width, co0, nc, blocks, oy0, oy1);
            }
        }
    }

    private static void ensure(Scratch s, int cin, int tilesX, int pw) {
        if (s.v.length < 16 * positionStride(cin)) {
            s.v = new float[16 * positionStride(cin)];
        }
        if (s.m.length < 16 * CH * STRIDE) {
            s.m = new float[16 * CH * STRIDE];
            s.out = new float[4 * STRIDE];
        }
        int half = half(Math.min(tilesX, BLOCK), pw);
        if (s.rows.length < 8 * half) {
            s.rows = new float[8 * half];
        }
    }

    /**
     * Floats between two positions ξ of the transformed input: {@code cin} rows of {@link #STRIDE}, and a cache line more,
     * so that the 16 stores of a tile's transform do not fall in one set of the L1 cache when that size is a multiple of
     * 4 KiB (64 channels: 20 KiB; a quarter of the whole convolution's time went to those stores on AMD Zen 5).
     */
    static int positionStride(int cin) {
        return cin * STRIDE + 16;
    }

    /** Length of one even- or odd-column row of a tile row piece of {@code cw} tiles: cw + 1 columns, whole vectors, one spare. */
    static int half(int cw, int pw) {
        return (margin(pw) + cw + 4 * L + 2 + L - 1) / L * L;
    }

    /** Zeros before a split input row in its slot: the left padding's reach, and one more. */
    private static int margin(int pw) {
        return pw / 2 + 2;
    }


    /**
     * {@code U_ξ = G g Gᵀ} of output channels {@code [co0, co0 + nc)}, laid out {@code u[ξ][block][ci][CH]}; a short last
     * block repeats its last channel (results the output transform drops).
     */
    private static void transformWeights(float[] w, int[] g, Scratch s, int co0, int nc, int blocks) {
        int cin = g[CIN];
        int step = step(blocks, cin);
        int size = 16 * step;
        if (s.u.length < size) {
            s.u = new float[size];
        }
        float[] u = s.u;
        for (int p = 0; p < blocks; p++) {
            for (int ci = 0; ci < cin; ci++) {
                for (int j = 0; j < CH; j++) {
                    int co = co0 + Math.min(p * CH + j, nc - 1);
                    int f = (co * cin + ci) * 9;
                    float g00 = w[f], g01 = w[f + 1], g02 = w[f + 2];
                    float g10 = w[f + 3], g11 = w[f + 4], g12 = w[f + 5];
                    float g20 = w[f + 6], g21 = w[f + 7], g22 = w[f + 8];
                    int base = (p * cin + ci) * CH + j;
                    // rows of G g: g0, ½(g0 + g1 + g2), ½(g0 − g1 + g2), g2; then the same along each row (· Gᵀ)
                    row(u, base, step, g00, g01, g02);
                    row(u, base + 4 * step, step, 0.5f * (g00 + g10 + g20), 0.5f * (g01 + g11 + g21), 0.5f * (g02 + g12 + g22));
                    row(u, base + 8 * step, step, 0.5f * (g00 - g10 + g20), 0.5f * (g01 - g11 + g21), 0.5f * (g02 - g12 + g22));
                    row(u, base + 12 * step, step, g20, g21, g22);
                }
            }
        }
    }

    /** Row {@code (a, b, c)} of {@code G g} times {@code Gᵀ} at {@code u[at + j·step]}. */
    private static void row(float[] u, int at, int step, float a, float b, float c) {
        u[at] = a;
        u[at + step] = 0.5f * (a + b + c);
        u[at + 2 * step] = 0.5f * (a - b + c);
        u[at + 3 * step] = c;
    }

    /**
     * Floats between two positions ξ of the transformed weights: one position's {@code [block][ci][CH]}, and a cache line
     * more, so that the 16 positions a filter writes do not fall in one set of the L1 cache when that size is a multiple
     * of 4 KiB (64 → 128 channels: 64 KiB apart, 40 ns per filter against 10 with the offset; AMD Zen 5).
     */
    private static int step(int blocks, int cin) {
        return blocks * cin * CH + 16;
    }

    /**
     * One block: {@code rows} tile rows ({@code s.tileN}, {@code s.tileY}) of {@code cw} tiles from column {@code tx0},
     * tile {@code (k, t)} at index {@code k·cw + t}.
     */
    private static void block(float[] x, float[] y, int[] g, Scratch s, int rows, int tx0, int cw, int width, int co0, int nc,
                              int blocks, int oy0, int oy1) {
        int cin = g[CIN], cout = g[COUT], oh = g[OH], ow = g[OW];
        float[] v = s.v;
        int half = half(Math.min(width, BLOCK), g[PW]);
        int tiles = rows * cw;
        int vectors = (tiles + L - 1) / L;
        transformInput(x, g, s.v, positionStride(cin), s.rows, half, s.tileN, s.tileY, rows, tx0, cw);
        float[] m = s.m, out = s.out, u = s.u;
        int plane = oh * ow;
        for (int p = 0; p < blocks; p++) {
            for (int xi = 0; xi < 16; xi++) {
                int vb = xi * positionStride(cin);
                int ub = xi * step(blocks, cin) + p * cin * CH;
                int mb = xi * CH * STRIDE;
                int q = 0;
                for (; q + NV <= vectors; q += NV) {
                    if (CH == 4) {
                        product44(v, vb + q * L, u, ub, cin, m, mb + q * L);
                    } else {
                        product24(v, vb + q * L, u, ub, cin, m, mb + q * L);
                    }
                }
                for (; q < vectors; q++) {
                    if (CH == 4) {
                        product41(v, vb + q * L, u, ub, cin, m, mb + q * L);
                    } else {
                        product21(v, vb + q * L, u, ub, cin, m, mb + q * L);
                    }
                }
            }
            int valid = Math.min(CH, nc - p * CH);
            for (int j = 0; j < valid; j++) {
                for (int q = 0; q < vectors; q++) {
                    outputs(m, j * STRIDE + q * L, out, q * L);
                }
                int co = co0 + p * CH + j;
                for (int k = 0; k < rows; k++) {
                    int n = s.tileN[k];
                    int base = (n * cout + co) * plane;
                    for (int a = 0; a < 2; a++) {
                        int oy = 2 * s.tileY[k] + a;
                        if (oy < oy0 || oy >= oy1) {
                            continue;
                        }
                        int row = base + oy * ow;
                        int src = 2 * a * STRIDE + k * cw;
                        for (int t = 0; t < cw; t++) {
                            int ox = 2 * (tx0 + t);
                            y[row + ox] = out[src + t];
                            if (ox + 1 < ow) {
                                y[row + ox + 1] = out[src + STRIDE + t];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * The input transform of a block of tiles: {@code rows} tile rows ({@code tileN[k]}, {@code tileY[k]}) of {@code cw} tiles
     * from tile column {@code tx0}, tile {@code (k, t)} at index {@code k·cw + t}: {@code V_ξ = (Bᵀ d B)_ξ} of input channel
     * {@code ci} at {@code v[ξ·vstep + ci·STRIDE + k·cw + t]}, one lane per tile. Lanes past a row's {@code cw} tiles are
     * overwritten by the next row's, the last row's fall in the spare vector of {@link #STRIDE}. {@code rowsBuf} holds
     * {@code 8·half} floats ({@link #half}). Also {@link Conv2dWinogradWeightVector}'s.
     */
    static void transformInput(float[] x, int[] g, float[] v, int vstep, float[] rowsBuf, int half,
                               int[] tileN, int[] tileY, int rows, int tx0, int cw) {
        int cin = g[CIN], h = g[H], wi = g[W], ph = g[PH], pw = g[PW];
        int cwv = (cw + L - 1) / L;
        // The tiles read input columns c0 .. c0 + 2·cw + 1 (those outside the row are the padding). Each input row is split once into its
        // even and odd columns from the even column xs (the two halves of slot iy & 3, after `margin` zeros), with
        // unmasked loads; the tiles' even columns E[k] = x[c0 + 2k] and odd ones O[k] = x[c0 + 1 + 2k] are then those
        // halves read from an offset (swapped when c0 is odd), the padding being the zeros around them.
        int c0 = 2 * tx0 - pw;
        int xs = Math.max(0, c0 & ~1);
        int span = Math.max(0, Math.min(wi, c0 + 2 * cw + 2) - xs);
        int evens = (span + 1) / 2, odds = span / 2;
        int pairs = (span + 2 * L - 1) / (2 * L);
        int margin = margin(pw);
        boolean swap = (c0 & 1) != 0;
        int offE = margin + (swap ? c0 - 1 - xs : c0 - xs) / 2 + (swap ? half : 0);
        int offO = margin + (swap ? c0 + 1 - xs : c0 - xs) / 2 + (swap ? 0 : half);
        FloatVector zero = FloatVector.zero(F);
        // the slots' margins: zero whatever an earlier geometry's layout left there
        for (int i = 0; i < 8 * half; i += L) {
            zero.intoArray(rowsBuf, i);
        }
        // Input transform: V[ξ][ci][k·cw + t]
        for (int ci = 0; ci < cin; ci++) {
            for (int k = 0; k < rows; k++) {
                int n = tileN[k];
                int iyBase = 2 * tileY[k] - ph;
                // the tile row after one of the same image shares two input rows with it, already in their slots
                boolean follows = k > 0 && tileN[k - 1] == n && tileY[k - 1] + 1 == tileY[k];
                for (int r = follows ? 2 : 0; r < 4; r++) {
                    int iy = iyBase + r;
                    int e = 2 * (iy & 3) * half, o = e + half;
                    if (iy < 0 || iy >= h) {
                        for (int i = 0; i < 2 * half; i += L) {
                            zero.intoArray(rowsBuf, e + i);
                        }
                        continue;
                    }
                    int src = ((n * cin + ci) * h + iy) * wi + xs;
                    if (src + 2 * pairs * L <= x.length) {
                        // [evens of v0 | evens of v1] and [odds of v0 | odds of v1]; what the last pair reads past the row
                        // is overwritten with zeros below
                        for (int q = 0; q < pairs; q++) {
                            FloatVector v0 = FloatVector.fromArray(F, x, src + 2 * q * L);
                            FloatVector v1 = FloatVector.fromArray(F, x, src + 2 * q * L + L);
                            v0.rearrange(EVENS_FIRST).blend(v1.rearrange(ODDS_FIRST), HIGH).intoArray(rowsBuf, e + margin + q * L);
                            v0.rearrange(ODDS_FIRST).blend(v1.rearrange(EVENS_FIRST), HIGH).intoArray(rowsBuf, o + margin + q * L);
                        }
                    } else {
                        // the last rows of x, where a whole pair would read past the array
                        for (int m = 0; m < evens; m++) {
                            rowsBuf[e + margin + m] = x[src + 2 * m];
                        }
                        for (int m = 0; m < odds; m++) {
                            rowsBuf[o + margin + m] = x[src + 2 * m + 1];
                        }
                    }
                    zero.intoArray(rowsBuf, e + margin + evens);
                    zero.intoArray(rowsBuf, e + margin + evens + L);
                    zero.intoArray(rowsBuf, o + margin + odds);
                    zero.intoArray(rowsBuf, o + margin + odds + L);
                }
                int at = ci * STRIDE + k * cw;
                int s0 = 2 * (iyBase & 3) * half, s1 = 2 * ((iyBase + 1) & 3) * half;
                int s2 = 2 * ((iyBase + 2) & 3) * half, s3 = 2 * ((iyBase + 3) & 3) * half;
                for (int q = 0; q < cwv; q++) {
                    int c = q * L;
                    // rows: Bᵀ d, on the even columns at t and t + 1 and the odd ones at t and t + 1
                    FloatVector e0 = FloatVector.fromArray(F, rowsBuf, s0 + offE + c), e1 = FloatVector.fromArray(F, rowsBuf, s1 + offE + c);
                    FloatVector e2 = FloatVector.fromArray(F, rowsBuf, s2 + offE + c), e3 = FloatVector.fromArray(F, rowsBuf, s3 + offE + c);
                    FloatVector o0 = FloatVector.fromArray(F, rowsBuf, s0 + offO + c), o1 = FloatVector.fromArray(F, rowsBuf, s1 + offO + c);
                    FloatVector o2 = FloatVector.fromArray(F, rowsBuf, s2 + offO + c), o3 = FloatVector.fromArray(F, rowsBuf, s3 + offO + c);
                    FloatVector f0 = FloatVector.fromArray(F, rowsBuf, s0 + offE + c + 1), f1 = FloatVector.fromArray(F, rowsBuf, s1 + offE + c + 1);
                    FloatVector f2 = FloatVector.fromArray(F, rowsBuf, s2 + offE + c + 1), f3 = FloatVector.fromArray(F, rowsBuf, s3 + offE + c + 1);
                    FloatVector p0 = FloatVector.fromArray(F, rowsBuf, s0 + offO + c + 1), p1 = FloatVector.fromArray(F, rowsBuf, s1 + offO + c + 1);
                    FloatVector p2 = FloatVector.fromArray(F, rowsBuf, s2 + offO + c + 1), p3 = FloatVector.fromArray(F, rowsBuf, s3 + offO + c + 1);
                    int o = at + c;
                    int st = vstep;
                    // row i of Bᵀ d B, position ξ = 4i + j at v[ξ·st + o]: columns e − f, o + f, f − o, o − p
                    FloatVector re = e0.sub(e2), ro = o0.sub(o2), rf = f0.sub(f2), rp = p0.sub(p2);
                    re.sub(rf).intoArray(v, o);
                    ro.add(rf).intoArray(v, o + st);
                    rf.sub(ro).intoArray(v, o + 2 * st);
                    ro.sub(rp).intoArray(v, o + 3 * st);
                    re = e1.add(e2);
                    ro = o1.add(o2);
                    rf = f1.add(f2);
                    rp = p1.add(p2);
                    re.sub(rf).intoArray(v, o + 4 * st);
                    ro.add(rf).intoArray(v, o + 5 * st);
                    rf.sub(ro).intoArray(v, o + 6 * st);
                    ro.sub(rp).intoArray(v, o + 7 * st);
                    re = e2.sub(e1);
                    ro = o2.sub(o1);
                    rf = f2.sub(f1);
                    rp = p2.sub(p1);
                    re.sub(rf).intoArray(v, o + 8 * st);
                    ro.add(rf).intoArray(v, o + 9 * st);
                    rf.sub(ro).intoArray(v, o + 10 * st);
                    ro.sub(rp).intoArray(v, o + 11 * st);
                    re = e1.sub(e3);
                    ro = o1.sub(o3);
                    rf = f1.sub(f3);
                    rp = p1.sub(p3);
                    re.sub(rf).intoArray(v, o + 12 * st);
                    ro.add(rf).intoArray(v, o + 13 * st);
                    rf.sub(ro).intoArray(v, o + 14 * st);
                    ro.sub(rp).intoArray(v, o + 15 * st);
                }
            }
        }
    }

    /**
     * {@code Aᵀ M A} of one channel's vector of tiles: {@code M_ξ} at {@code m[ξ·CH·STRIDE + at]}; output {@code (a, b)} of
     * each tile to {@code out[(2a + b)·STRIDE + to]}.
     */
    private static void outputs(float[] m, int at, float[] out, int to) {
        int step = CH * STRIDE;
        // rows of Aᵀ M: s0c = m0c + m1c + m2c, s1c = m1c − m2c − m3c (m_rc at ξ = 4r + c); written out, no vector
        // crosses a call or a loop
        FloatVector m00 = FloatVector.fromArray(F, m, at), m01 = FloatVector.fromArray(F, m, at + step);
        FloatVector m02 = FloatVector.fromArray(F, m, at + 2 * step), m03 = FloatVector.fromArray(F, m, at + 3 * step);
        FloatVector m10 = FloatVector.fromArray(F, m, at + 4 * step), m11 = FloatVector.fromArray(F, m, at + 5 * step);
        FloatVector m12 = FloatVector.fromArray(F, m, at + 6 * step), m13 = FloatVector.fromArray(F, m, at + 7 * step);
        FloatVector m20 = FloatVector.fromArray(F, m, at + 8 * step), m21 = FloatVector.fromArray(F, m, at + 9 * step);
        FloatVector m22 = FloatVector.fromArray(F, m, at + 10 * step), m23 = FloatVector.fromArray(F, m, at + 11 * step);
        FloatVector m30 = FloatVector.fromArray(F, m, at + 12 * step), m31 = FloatVector.fromArray(F, m, at + 13 * step);
        FloatVector m32 = FloatVector.fromArray(F, m, at + 14 * step), m33 = FloatVector.fromArray(F, m, at + 15 * step);
        FloatVector s00 = m00.add(m10).add(m20), s01 = m01.add(m11).add(m21);
        FloatVector s02 = m02.add(m12).add(m22), s03 = m03.add(m13).add(m23);
        FloatVector s10 = m10.sub(m20).sub(m30), s11 = m11.sub(m21).sub(m31);
        FloatVector s12 = m12.sub(m22).sub(m32), s13 = m13.sub(m23).sub(m33);
        s00.add(s01).add(s02).intoArray(out, to);
        s01.sub(s02).sub(s03).intoArray(out, STRIDE + to);
        s10.add(s11).add(s12).intoArray(out, 2 * STRIDE + to);
        s11.sub(s12).sub(s13).intoArray(out, 3 * STRIDE + to);
    }

    /**
     * {@code M_ξ} of 4 output channels × 4 vectors of tiles: {@code m[mb + j·STRIDE + q·L] = Σ_ci u[ub + 4ci + j]·v[vb + ci·STRIDE + q·L]},
     * {@code ci} ascending.
     */
    private static void product44(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        for (int ci = 0; ci < cin; ci++) {
            int i = vb + ci * STRIDE;
            FloatVector x0 = FloatVector.fromArray(F, v, i);
            FloatVector x1 = FloatVector.fromArray(F, v, i + L);
            FloatVector x2 = FloatVector.fromArray(F, v, i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(F, v, i + 3 * L);
            int k = ub + 4 * ci;
            FloatVector wv = FloatVector.broadcast(F, u[k]);
            a0 = x0.fma(wv, a0);
            a1 = x1.fma(wv, a1);
            a2 = x2.fma(wv, a2);
            a3 = x3.fma(wv, a3);
            wv = FloatVector.broadcast(F, u[k + 1]);
            b0 = x0.fma(wv, b0);
            b1 = x1.fma(wv, b1);
            b2 = x2.fma(wv, b2);
            b3 = x3.fma(wv, b3);
            wv = FloatVector.broadcast(F, u[k + 2]);
            c0 = x0.fma(wv, c0);
            c1 = x1.fma(wv, c1);
            c2 = x2.fma(wv, c2);
            c3 = x3.fma(wv, c3);
            wv = FloatVector.broadcast(F, u[k + 3]);
            d0 = x0.fma(wv, d0);
            d1 = x1.fma(wv, d1);
            d2 = x2.fma(wv, d2);
            d3 = x3.fma(wv, d3);
        }
        a0.intoArray(m, mb);
        a1.intoArray(m, mb + L);
        a2.intoArray(m, mb + 2 * L);
        a3.intoArray(m, mb + 3 * L);
        b0.intoArray(m, mb + STRIDE);
        b1.intoArray(m, mb + STRIDE + L);
        b2.intoArray(m, mb + STRIDE + 2 * L);
        b3.intoArray(m, mb + STRIDE + 3 * L);
        c0.intoArray(m, mb + 2 * STRIDE);
        c1.intoArray(m, mb + 2 * STRIDE + L);
        c2.intoArray(m, mb + 2 * STRIDE + 2 * L);
        c3.intoArray(m, mb + 2 * STRIDE + 3 * L);
        d0.intoArray(m, mb + 3 * STRIDE);
        d1.intoArray(m, mb + 3 * STRIDE + L);
        d2.intoArray(m, mb + 3 * STRIDE + 2 * L);
        d3.intoArray(m, mb + 3 * STRIDE + 3 * L);
    }

    /** {@link #product44} for one vector of tiles. */
    private static void product41(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, c0 = a0, d0 = a0;
        for (int ci = 0; ci < cin; ci++) {
            FloatVector x0 = FloatVector.fromArray(F, v, vb + ci * STRIDE);
            int k = ub + 4 * ci;
            a0 = x0.fma(FloatVector.broadcast(F, u[k]), a0);
            b0 = x0.fma(FloatVector.broadcast(F, u[k + 1]), b0);
            c0 = x0.fma(FloatVector.broadcast(F, u[k + 2]), c0);
            d0 = x0.fma(FloatVector.broadcast(F, u[k + 3]), d0);
        }
        a0.intoArray(m, mb);
        b0.intoArray(m, mb + STRIDE);
        c0.intoArray(m, mb + 2 * STRIDE);
        d0.intoArray(m, mb + 3 * STRIDE);
    }

    /** {@link #product44} for 2 output channels ({@code u[ub + 2ci + j]}), for 16-register machines. */
    private static void product24(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int ci = 0; ci < cin; ci++) {
            int i = vb + ci * STRIDE;
            FloatVector x0 = FloatVector.fromArray(F, v, i);
            FloatVector x1 = FloatVector.fromArray(F, v, i + L);
            FloatVector x2 = FloatVector.fromArray(F, v, i + 2 * L);
            FloatVector x3 = FloatVector.fromArray(F, v, i + 3 * L);
            int k = ub + 2 * ci;
            FloatVector wa = FloatVector.broadcast(F, u[k]);
            a0 = x0.fma(wa, a0);
            a1 = x1.fma(wa, a1);
            a2 = x2.fma(wa, a2);
            a3 = x3.fma(wa, a3);
            FloatVector wb = FloatVector.broadcast(F, u[k + 1]);
            b0 = x0.fma(wb, b0);
            b1 = x1.fma(wb, b1);
            b2 = x2.fma(wb, b2);
            b3 = x3.fma(wb, b3);
        }
        a0.intoArray(m, mb);
        a1.intoArray(m, mb + L);
        a2.intoArray(m, mb + 2 * L);
        a3.intoArray(m, mb + 3 * L);
        b0.intoArray(m, mb + STRIDE);
        b1.intoArray(m, mb + STRIDE + L);
        b2.intoArray(m, mb + STRIDE + 2 * L);
        b3.intoArray(m, mb + STRIDE + 3 * L);
    }

    /** {@link #product24} for one vector of tiles. */
    private static void product21(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0;
        for (int ci = 0; ci < cin; ci++) {
            FloatVector x0 = FloatVector.fromArray(F, v, vb + ci * STRIDE);
            int k = ub + 2 * ci;
            a0 = x0.fma(FloatVector.broadcast(F, u[k]), a0);
            b0 = x0.fma(FloatVector.broadcast(F, u[k + 1]), b0);
        }
        a0.intoArray(m, mb);
        b0.intoArray(m, mb + STRIDE);
    }
}
