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
 * {@link Conv2dVector}'s path for 3×3 kernels of stride 1, dilation 1 and groups 1 (the models' 3×3 layers and their input
 * gradients where {@link Conv2dWinograd4Vector} does not apply: 8×8 images, the last layer (one channel out), every size at
 * 128 bits): Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray, "Fast
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
 * vector lane per tile: a tile's four columns of each input row are permuted out of whole rows where a row has
 * {@code 2L}, {@code L} or {@code L/2} columns (one, two or four tile rows a vector), otherwise the input rows are
 * split into even and odd columns first, so that they are lane-aligned loads at {@code t} and {@code t + 1}
 * ({@link #transformInput}). Then, position by position and for every block of
 * {@code CH} output channels at each, the 16 matrix products {@code M_ξ[co][tile] = Σ_ci U_ξ[co][ci]·V_ξ[ci][tile]} run
 * on an FMA micro-kernel of CH channels × 4 vectors (so that a position's {@code V_ξ} is read from the L1 cache by every
 * block), and last the output transform writes each channel's 2×2 tiles. The weights are transformed once per call,
 * in float (up to three roundings of sums of at most nine weights halved).
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
    static final int CH = L >= 16 ? 4 : 2;
    /** Tiles per block. */
    static final int BLOCK = NV * L;
    /** Stride of one row of a block's scratch: a block's tiles, plus a vector that the last tile row's store may overrun. */
    static final int STRIDE = BLOCK + L;
    /**
     * Floats of one block of output channels' {@code M_ξ} (16 positions of {@code CH} rows of {@link #STRIDE}), and a cache
     * line more, so that consecutive blocks' rows do not fall in one set of the L1 cache (at 512 bits 16·4·80 floats are
     * 5 × 4 KiB). A thread's scratch holds every block of a call's output channels: 20 KiB a block at 512 bits, 657 KiB
     * for 128 channels.
     */
    private static final int BLOCK_M = 16 * CH * STRIDE + 16;

    private static final class Scratch {
        float[] u = new float[0];
        float[] v = new float[0];
        float[] m = new float[0];
        float[] out = new float[0];
        float[] rows = new float[0];
        int[] tileN = new int[BLOCK];
        int[] tileY = new int[BLOCK];
        /** {@link #nextRegion}'s result. */
        final int[] region = new int[6];
    }

    /** Lanes {@code 0, 2, .., L−2, 1, 3, .., L−1}, and the same with the halves swapped. */
    private static final VectorShuffle<Float> EVENS_FIRST = VectorShuffle.fromOp(F, i -> i < L / 2 ? 2 * i : 2 * (i - L / 2) + 1);
    private static final VectorShuffle<Float> ODDS_FIRST = VectorShuffle.fromOp(F, i -> i < L / 2 ? 2 * i + 1 : 2 * (i - L / 2));
    /** The upper half of the lanes. */
    private static final VectorMask<Float> HIGH = VectorMask.fromLong(F, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));

    /**
     * {@link #transformInput}'s lane permutations for two tile rows of {@code L/2} tiles (padding 1): lane {@code j·L/2 + t}
     * of kind {@code e, o, f, p} takes input column {@code 2t − 1, 2t, 2t + 1, 2t + 2}; {@code PAIR_KEEP_E} and {@code PAIR_KEEP_P}
     * zero the lanes whose column is the padding ({@code −1} and {@code L}).
     */
    private static final VectorShuffle<Float> PAIR_E = pairShuffle(-1), PAIR_O = pairShuffle(0), PAIR_F = pairShuffle(1),
            PAIR_P = pairShuffle(2);
    private static final VectorMask<Float> PAIR_KEEP_E = lanes(i -> i % (L / 2) != 0);
    private static final VectorMask<Float> PAIR_KEEP_P = lanes(i -> i % (L / 2) != L / 2 - 1);

    private static VectorShuffle<Float> pairShuffle(int shift) {
        return VectorShuffle.fromOp(F, i -> Math.clamp(2 * (i % (L / 2)) + shift, 0, L - 1));
    }

    /** The same for four tile rows of {@code L/4} tiles: lanes {@code j·L/4 + t}, row {@code j} from its own vector. */
    private static final VectorShuffle<Float> QUAD_E = quadShuffle(-1), QUAD_O = quadShuffle(0), QUAD_F = quadShuffle(1),
            QUAD_P = quadShuffle(2);
    private static final VectorMask<Float> QUAD_KEEP_E = lanes(i -> i % (L / 4) != 0);
    private static final VectorMask<Float> QUAD_KEEP_P = lanes(i -> i % (L / 4) != L / 4 - 1);
    /** The second, third and fourth quarter of the lanes; the lower half. */
    private static final VectorMask<Float> SECOND = lanes(i -> i / (L / 4) == 1), THIRD = lanes(i -> i / (L / 4) == 2),
            FOURTH = lanes(i -> i / (L / 4) == 3), LOW = lanes(i -> i < L / 2);

    private static VectorShuffle<Float> quadShuffle(int shift) {
        return VectorShuffle.fromOp(F, i -> Math.clamp(2 * (i % (L / 4)) + shift, 0, L - 1));
    }

    private static VectorMask<Float> lanes(java.util.function.IntPredicate set) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = set.test(i);
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    /**
     * The same for one tile row of {@code L} tiles, its input row two vectors {@code a, b}: tile {@code t}'s column
     * {@code 2t − 1 + i} (kind {@code i}) is lane {@code 2t − 1 + i} of {@code a}, or of {@code b} past {@code L}; the
     * {@code WHOLE_HIGH_} masks take {@code b}'s lanes ({@code o} and {@code f} take {@code b} from lane {@code L/2}, {@link #HIGH}),
     * and one permutation serves {@code a} and {@code b}.
     */
    private static final VectorShuffle<Float> WHOLE_E = VectorShuffle.fromOp(F, i -> Math.floorMod(2 * i - 1, L)),
            WHOLE_O = VectorShuffle.fromOp(F, i -> 2 * i % L), WHOLE_F = VectorShuffle.fromOp(F, i -> (2 * i + 1) % L),
            WHOLE_P = VectorShuffle.fromOp(F, i -> (2 * i + 2) % L);
    private static final VectorMask<Float> WHOLE_KEEP_E = lanes(i -> i != 0), WHOLE_KEEP_P = lanes(i -> i != L - 1);
    private static final VectorMask<Float> WHOLE_HIGH_E = lanes(i -> 2 * i - 1 >= L), WHOLE_HIGH_P = lanes(i -> 2 * i + 2 >= L);

    /** Lanes {@code 0, 0, 1, 1, ..}, and the odd lanes: two vectors' first halves interleaved. */
    private static final VectorShuffle<Float> ZIP = VectorShuffle.fromOp(F, i -> i / 2);
    private static final VectorMask<Float> ODD = lanes(i -> i % 2 == 1);

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
     * {@link #MIN_CIN} input channels and {@link #MIN_COUT} output channels. With fewer input channels, each tile's input
     * transform serves one to three channels' products and the direct path is faster at every width: one thread's half of the lanes of 64×1×32×32 → 32 took 1.03 ms
     * against 0.40 direct, of 64×3×32×32 → 32 1.14 against 0.55 at 512 bits (1.50 against 1.12 at 256, 2.22 against
     * 2.11 at 128); with 4 channels the measurements split (the direct path faster at 512 bits, 0.79 against 1.23;
     * Winograd at 256, 1.68 against 2.48; at 128 bits one run each way), so 4 stays on this path. AMD Zen 5, a
     * throwaway harness timing the two paths; {@code prism bench -k conv2d.backward.last}
     * times a layer whose input gradient (one channel in) takes the direct path. The rule depends on the geometry alone,
     * so the bits do not depend on the thread count.
     */
    static boolean pays(int[] g) {
        return applies(g) && g[CIN] >= MIN_CIN && g[COUT] >= MIN_COUT;
    }

    /**
     * The fewest output channels for which {@link Conv2dVector} takes this path: {@value}. One output channel fills half
     * (a quarter where {@code CH = 4}) of each block's products and leaves the rest to be dropped: the UNet's last layer,
     * 64×32×32×32 → 1, took 1.52 to 1.58 ms on this path and 0.97 on the direct one at 256 bits held to AVX2, 1.84 to 2.05
     * against 1.50 to 1.54 at 128 bits, 1.10 against 1.05 to 1.08 at 512 (Intel Xeon, 2 threads, alternating JVMs, a
     * throwaway harness timing the launch of {@code prism bench --train}'s step).
     */
    static final int MIN_COUT = 2;

    /**
     * Lanes {@code [from, to)} of {@link Conv2dKernels#forward}, lane {@code l} being the output row
     * {@code (n·Cout + co, oy) = (l / OH, l % OH)}, for a geometry {@link #applies} accepts.
     */
    static void forwardRows(float[] x, float[] w, float[] b, float[] y, int[] g, int from, int to) {
        Scratch s = SCRATCH.get();
        int[] r = s.region;
        for (int l = from; l < to; ) {
            l = nextRegion(g, l, to, r);
            region(x, w, b, y, g, s, r[0], r[1], r[2], r[3], r[4], r[5]);
        }
    }

    /**
     * The region of a forward launch's lanes that starts at lane {@code l} (below {@code to}), as {@code r = (n0, images,
     * co0, nc, oy0, oy1)}: whole batch items where the range holds them, else whole output channels of one item, else
     * rows of one channel. Returns the lane after it. Also {@link Conv2dWinograd4Vector}'s.
     */
    static int nextRegion(int[] g, int l, int to, int[] r) {
        int oh = g[OH], cout = g[COUT];
        int perImage = cout * oh;
        int n = l / perImage;
        int rem = l - n * perImage;
        if (rem == 0 && to - l >= perImage) {
            int images = (to - l) / perImage;
            set(r, n, images, 0, cout, 0, oh);
            return l + images * perImage;
        }
        int co = rem / oh;
        int oy = rem - co * oh;
        if (oy == 0) {
            int channels = (Math.min(to, (n + 1) * perImage) - l) / oh;
            if (channels > 0) {
                set(r, n, 1, co, channels, 0, oh);
                return l + channels * oh;
            }
        }
        int oy1 = Math.min(oh, oy + (to - l));
        set(r, n, 1, co, 1, oy, oy1);
        return l + oy1 - oy;
    }

    private static void set(int[] r, int n0, int images, int co0, int nc, int oy0, int oy1) {
        r[0] = n0;
        r[1] = images;
        r[2] = co0;
        r[3] = nc;
        r[4] = oy0;
        r[5] = oy1;
    }

    /**
     * Output channels {@code [co0, co0 + nc)}, rows {@code [oy0, oy1)} of batch items {@code [n0, n0 + images)}:
     * every tile row that holds one of those rows, whole, its outputs outside the range not written.
     */
    private static void region(float[] x, float[] w, float[] b, float[] y, int[] g, Scratch s, int n0, int images, int co0, int nc,
                               int oy0, int oy1) {
        int cin = g[CIN];
        int ow = g[OW];
        int tilesX = (ow + 1) / 2;
        int ty0 = oy0 / 2, ty1 = (oy1 + 1) / 2;
        int blocks = (nc + CH - 1) / CH;
        transformWeights(w, g, s, co0, nc, blocks);
        ensure(s, cin, tilesX, g[PW], blocks);
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
                        block(x, b, y, g, s, k, tx0, cw, width, co0, nc, blocks, oy0, oy1);
                        k = 0;
                    }
                }
            }
            if (k > 0) {
                block(x, b, y, g, s, k, tx0, cw, width, co0, nc, blocks, oy0, oy1);
            }
        }
    }

    private static void ensure(Scratch s, int cin, int tilesX, int pw, int blocks) {
        if (s.v.length < 16 * positionStride(cin)) {
            s.v = new float[16 * positionStride(cin)];
        }
        if (s.m.length < blocks * BLOCK_M) {
            s.m = new float[blocks * BLOCK_M];
            s.out = new float[4 * STRIDE];
        }
        int half = half(Math.min(tilesX, BLOCK), pw);
        if (s.rows.length < rowsLength(half)) {
            s.rows = new float[rowsLength(half)];
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
    private static void block(float[] x, float[] b, float[] y, int[] g, Scratch s, int rows, int tx0, int cw, int width, int co0, int nc,
                              int blocks, int oy0, int oy1) {
        int cin = g[CIN], cout = g[COUT], oh = g[OH], ow = g[OW];
        float[] v = s.v;
        int half = half(Math.min(width, BLOCK), g[PW]);
        int tiles = rows * cw;
        int vectors = (tiles + L - 1) / L;
        transformInput(x, g, s.v, positionStride(cin), s.rows, half, s.tileN, s.tileY, rows, tx0, cw);
        float[] m = s.m, out = s.out, u = s.u;
        int plane = oh * ow;
        // a tile row's outputs fill whole vectors of an output row: written by vectors
        boolean zip = tx0 == 0 && 2 * cw == ow && (ow % L == 0 || 2 * ow == L);
        // positions outermost: a position's transformed input (cin·STRIDE floats, 20 KiB at 64 channels) stays in the L1
        // cache for every block of output channels, which stream their weights past it; each block's M goes to its own
        // slot of m, and the output transforms run after all 16 positions
        for (int xi = 0; xi < 16; xi++) {
            for (int p = 0; p < blocks; p++) {
                int vb = xi * positionStride(cin);
                int ub = xi * step(blocks, cin) + p * cin * CH;
                int mb = p * BLOCK_M + xi * CH * STRIDE;
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
        }
        for (int p = 0; p < blocks; p++) {
            int valid = Math.min(CH, nc - p * CH);
            for (int j = 0; j < valid; j++) {
                int co = co0 + p * CH + j;
                for (int q = 0; q < vectors; q++) {
                    outputs(m, p * BLOCK_M + j * STRIDE + q * L, b[co], out, q * L);
                }
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
                        if (zip && row + Math.max(ow, L) <= y.length) {
                            // a whole output row, the tiles' outputs (a, 0) and (a, 1) interleaved: whole vectors, or half a
                            // vector under a mask (not on y's last row, where the vector would pass the array's end)
                            for (int i = 0; i < 2 * cw; i += L) {
                                FloatVector left = FloatVector.fromArray(F, out, src + i / 2);
                                FloatVector right = FloatVector.fromArray(F, out, src + STRIDE + i / 2);
                                FloatVector both = left.rearrange(ZIP).blend(right.rearrange(ZIP), ODD);
                                if (2 * ow == L) {
                                    both.intoArray(y, row + i, LOW);
                                } else {
                                    both.intoArray(y, row + i);
                                }
                            }
                            continue;
                        }
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
     * {@link #rowsLength}{@code (half)} floats ({@link #half}). Also {@link Conv2dWinogradWeightVector}'s.
     *
     * <p>Each tile needs four columns of four input rows: its even columns {@code e} at {@code c0 + 2t} and
     * {@code f} at {@code c0 + 2t + 2}, its odd ones {@code o} and {@code p} one further. Two ways gather them, one lane
     * per tile, into {@code rowsBuf}, and the same arithmetic then runs on either, so the values are the same bits either
     * way ({@code Conv2dVectorTest.stackedTileRowsGiveTheSplitPathsBits}):
     * <ul>
     * <li>Whole image rows of {@code 2L}, {@code L} or {@code L/2} inputs with padding 1, rows of {@code L}, {@code L/2} or
     * {@code L/4} tiles ({@link #stacks}; 32×32, 16×16 and 8×8 images at 512 bits, 16×16, 8×8 and 4×4 at 256): one, two or
     * four tile rows of one image fill each vector, the first in the low lanes. Each input row a vector needs is loaded
     * whole (two vectors for {@code 2L} inputs; a load of a shorter row reads the next row too, lanes no permutation
     * picks); a lane permutation picks each kind of column, zeroing the padding's lanes, and blends put the rows side by
     * side, into {@code 16·L} floats after the split rows' slots. One tile row a vector keeps its input rows' columns in
     * slots {@code iy & 3}, shared with the next tile row of the image. With two or four, the transform of such a row
     * would otherwise fill half or a quarter of each vector.</li>
     * <li>Otherwise each input row is split once into its even and odd columns (from the even column {@code xs}; the two
     * halves of slot {@code iy & 3}, after {@code margin} zeros), with unmasked loads; the tiles' {@code e} and {@code o}
     * are then those halves read from an offset (swapped when {@code c0} is odd), {@code f} and {@code p} one float
     * further, the padding being the zeros around them. A tile row after one of the same image split this way shares
     * two input rows with it, already in their slots.</li>
     * </ul>
     */
    static void transformInput(float[] x, int[] g, float[] v, int vstep, float[] rowsBuf, int half,
                               int[] tileN, int[] tileY, int rows, int tx0, int cw) {
        int cin = g[CIN], h = g[H], wi = g[W], ph = g[PH], pw = g[PW];
        int c0 = 2 * tx0 - pw;
        int xs = Math.max(0, c0 & ~1);
        int span = Math.max(0, Math.min(wi, c0 + 2 * cw + 2) - xs);
        int evens = (span + 1) / 2, odds = span / 2;
        int splits = (span + 2 * L - 1) / (2 * L);
        int margin = margin(pw);
        boolean swap = (c0 & 1) != 0;
        int offE = margin + (swap ? c0 - 1 - xs : c0 - xs) / 2 + (swap ? half : 0);
        int offO = margin + (swap ? c0 + 1 - xs : c0 - xs) / 2 + (swap ? 0 : half);
        boolean whole = stacks(g, tx0, cw, 1), paired = stacks(g, tx0, cw, 2), quads = stacks(g, tx0, cw, 4);
        int packed = 8 * half;
        FloatVector zero = FloatVector.zero(F);
        // the slots' margins: zero whatever an earlier geometry's layout left there
        for (int i = 0; i < 8 * half; i += L) {
            zero.intoArray(rowsBuf, i);
        }
        int last = packed + 16 * L;
        if (quads) {
            zero.intoArray(rowsBuf, last);
            System.arraycopy(x, x.length - wi, rowsBuf, last, wi);
        }
        // Input transform: V[ξ][ci][k·cw + t]
        for (int ci = 0; ci < cin; ci++) {
            int split = -2;
            for (int k = 0; k < rows; k++) {
                int n = tileN[k];
                int iyBase = 2 * tileY[k] - ph;
                // input row r's e start at rowsBuf[eR], its o, f and p dO, dF and dP further (stacked: vectors of their own)
                int e0, e1, e2, e3;
                boolean stacked;
                int at = ci * STRIDE + k * cw;
                if (paired && k + 1 < rows && tileN[k + 1] == n && tileY[k + 1] == tileY[k] + 1) {
                    int plane = (n * cin + ci) * h;
                    for (int r = 0; r < 4; r++) {
                        int ia = iyBase + r, ib = ia + 2;
                        FloatVector a = ia >= 0 && ia < h ? FloatVector.fromArray(F, x, (plane + ia) * wi) : zero;
                        FloatVector b = ib >= 0 && ib < h ? FloatVector.fromArray(F, x, (plane + ib) * wi) : zero;
                        int o = packed + 4 * r * L;
                        a.rearrange(PAIR_E, PAIR_KEEP_E).blend(b.rearrange(PAIR_E, PAIR_KEEP_E), HIGH).intoArray(rowsBuf, o);
                        a.rearrange(PAIR_O).blend(b.rearrange(PAIR_O), HIGH).intoArray(rowsBuf, o + L);
                        a.rearrange(PAIR_F).blend(b.rearrange(PAIR_F), HIGH).intoArray(rowsBuf, o + 2 * L);
                        a.rearrange(PAIR_P, PAIR_KEEP_P).blend(b.rearrange(PAIR_P, PAIR_KEEP_P), HIGH).intoArray(rowsBuf, o + 3 * L);
                    }
                    e0 = packed;
                    e1 = e0 + 4 * L;
                    e2 = e1 + 4 * L;
                    e3 = e2 + 4 * L;
                    stacked = true;
                    k++;
                } else if (quads && k + 3 < rows && tileN[k + 3] == n && tileY[k + 3] == tileY[k] + 3) {
                    int plane = (n * cin + ci) * h;
                    for (int r = 0; r < 4; r++) {
                        // input rows ia, ia + 2, ia + 4, ia + 6 for the four tile rows; a load reads the row after
                        // it as well, lanes no permutation picks
                        // (x's last row, whose load would pass the array's end, is read from its copy in rowsBuf)
                        int ia = iyBase + r, ib = ia + 2, ic = ia + 4, id = ia + 6;
                        int xa = (plane + ia) * wi, xb = (plane + ib) * wi, xc = (plane + ic) * wi, xd = (plane + id) * wi;
                        FloatVector a = ia < 0 || ia >= h ? zero : xa + L <= x.length ? FloatVector.fromArray(F, x, xa)
                                : FloatVector.fromArray(F, rowsBuf, last);
                        FloatVector b = ib < 0 || ib >= h ? zero : xb + L <= x.length ? FloatVector.fromArray(F, x, xb)
                                : FloatVector.fromArray(F, rowsBuf, last);
                        FloatVector c = ic < 0 || ic >= h ? zero : xc + L <= x.length ? FloatVector.fromArray(F, x, xc)
                                : FloatVector.fromArray(F, rowsBuf, last);
                        FloatVector d = id < 0 || id >= h ? zero : xd + L <= x.length ? FloatVector.fromArray(F, x, xd)
                                : FloatVector.fromArray(F, rowsBuf, last);
                        int o = packed + 4 * r * L;
                        a.rearrange(QUAD_E, QUAD_KEEP_E).blend(b.rearrange(QUAD_E, QUAD_KEEP_E), SECOND)
                                .blend(c.rearrange(QUAD_E, QUAD_KEEP_E), THIRD).blend(d.rearrange(QUAD_E, QUAD_KEEP_E), FOURTH)
                                .intoArray(rowsBuf, o);
                        a.rearrange(QUAD_O).blend(b.rearrange(QUAD_O), SECOND).blend(c.rearrange(QUAD_O), THIRD)
                                .blend(d.rearrange(QUAD_O), FOURTH).intoArray(rowsBuf, o + L);
                        a.rearrange(QUAD_F).blend(b.rearrange(QUAD_F), SECOND).blend(c.rearrange(QUAD_F), THIRD)
                                .blend(d.rearrange(QUAD_F), FOURTH).intoArray(rowsBuf, o + 2 * L);
                        a.rearrange(QUAD_P, QUAD_KEEP_P).blend(b.rearrange(QUAD_P, QUAD_KEEP_P), SECOND)
                                .blend(c.rearrange(QUAD_P, QUAD_KEEP_P), THIRD).blend(d.rearrange(QUAD_P, QUAD_KEEP_P), FOURTH)
                                .intoArray(rowsBuf, o + 3 * L);
                    }
                    e0 = packed;
                    e1 = e0 + 4 * L;
                    e2 = e1 + 4 * L;
                    e3 = e2 + 4 * L;
                    stacked = true;
                    k += 3;
                } else if (whole) {
                    // one tile row of L tiles: each input row is two vectors; its four kinds of columns go to slot iy & 3,
                    // shared with the next tile row of the image
                    int plane = (n * cin + ci) * h;
                    boolean follows = split == k - 1 && tileN[k - 1] == n && tileY[k - 1] + 1 == tileY[k];
                    split = k;
                    for (int r = follows ? 2 : 0; r < 4; r++) {
                        int iy = iyBase + r;
                        int o = packed + 4 * (iy & 3) * L;
                        if (iy < 0 || iy >= h) {
                            zero.intoArray(rowsBuf, o);
                            zero.intoArray(rowsBuf, o + L);
                            zero.intoArray(rowsBuf, o + 2 * L);
                            zero.intoArray(rowsBuf, o + 3 * L);
                            continue;
                        }
                        FloatVector a = FloatVector.fromArray(F, x, (plane + iy) * wi);
                        FloatVector b = FloatVector.fromArray(F, x, (plane + iy) * wi + L);
                        a.rearrange(WHOLE_E, WHOLE_KEEP_E).blend(b.rearrange(WHOLE_E), WHOLE_HIGH_E).intoArray(rowsBuf, o);
                        a.rearrange(WHOLE_O).blend(b.rearrange(WHOLE_O), HIGH).intoArray(rowsBuf, o + L);
                        a.rearrange(WHOLE_F).blend(b.rearrange(WHOLE_F), HIGH).intoArray(rowsBuf, o + 2 * L);
                        a.rearrange(WHOLE_P).blend(b.rearrange(WHOLE_P, WHOLE_KEEP_P), WHOLE_HIGH_P).intoArray(rowsBuf, o + 3 * L);
                    }
                    e0 = packed + 4 * (iyBase & 3) * L;
                    e1 = packed + 4 * ((iyBase + 1) & 3) * L;
                    e2 = packed + 4 * ((iyBase + 2) & 3) * L;
                    e3 = packed + 4 * ((iyBase + 3) & 3) * L;
                    stacked = true;
                } else {
                    boolean follows = split == k - 1 && tileN[k - 1] == n && tileY[k - 1] + 1 == tileY[k];
                    split = k;
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
                        if (src + 2 * splits * L <= x.length) {
                            // [evens of v0 | evens of v1] and [odds of v0 | odds of v1]; what the last pair reads past the row
                            // is overwritten with zeros below
                            for (int q = 0; q < splits; q++) {
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
                    e0 = 2 * (iyBase & 3) * half + offE;
                    e1 = 2 * ((iyBase + 1) & 3) * half + offE;
                    e2 = 2 * ((iyBase + 2) & 3) * half + offE;
                    e3 = 2 * ((iyBase + 3) & 3) * half + offE;
                    stacked = false;
                }
                int dO = stacked ? L : offO - offE, dF = stacked ? 2 * L : 1, dP = stacked ? 3 * L : offO - offE + 1;
                int o0 = e0 + dO, o1 = e1 + dO, o2 = e2 + dO, o3 = e3 + dO;
                int f0 = e0 + dF, f1 = e1 + dF, f2 = e2 + dF, f3 = e3 + dF;
                int p0 = e0 + dP, p1 = e1 + dP, p2 = e2 + dP, p3 = e3 + dP;
                int vectors = stacked ? 1 : (cw + L - 1) / L;
                for (int q = 0; q < vectors; q++) {
                    int c = q * L;
                    // rows: Bᵀ d, on the even columns at t and t + 1 and the odd ones at t and t + 1
                    FloatVector ve0 = FloatVector.fromArray(F, rowsBuf, e0 + c), ve1 = FloatVector.fromArray(F, rowsBuf, e1 + c);
                    FloatVector ve2 = FloatVector.fromArray(F, rowsBuf, e2 + c), ve3 = FloatVector.fromArray(F, rowsBuf, e3 + c);
                    FloatVector vo0 = FloatVector.fromArray(F, rowsBuf, o0 + c), vo1 = FloatVector.fromArray(F, rowsBuf, o1 + c);
                    FloatVector vo2 = FloatVector.fromArray(F, rowsBuf, o2 + c), vo3 = FloatVector.fromArray(F, rowsBuf, o3 + c);
                    FloatVector vf0 = FloatVector.fromArray(F, rowsBuf, f0 + c), vf1 = FloatVector.fromArray(F, rowsBuf, f1 + c);
                    FloatVector vf2 = FloatVector.fromArray(F, rowsBuf, f2 + c), vf3 = FloatVector.fromArray(F, rowsBuf, f3 + c);
                    FloatVector vp0 = FloatVector.fromArray(F, rowsBuf, p0 + c), vp1 = FloatVector.fromArray(F, rowsBuf, p1 + c);
                    FloatVector vp2 = FloatVector.fromArray(F, rowsBuf, p2 + c), vp3 = FloatVector.fromArray(F, rowsBuf, p3 + c);
                    int o = at + c;
                    int st = vstep;
                    // row i of Bᵀ d B, position ξ = 4i + j at v[ξ·st + o]: columns e − f, o + f, f − o, o − p
                    FloatVector re = ve0.sub(ve2), ro = vo0.sub(vo2), rf = vf0.sub(vf2), rp = vp0.sub(vp2);
                    re.sub(rf).intoArray(v, o);
                    ro.add(rf).intoArray(v, o + st);
                    rf.sub(ro).intoArray(v, o + 2 * st);
                    ro.sub(rp).intoArray(v, o + 3 * st);
                    re = ve1.add(ve2);
                    ro = vo1.add(vo2);
                    rf = vf1.add(vf2);
                    rp = vp1.add(vp2);
                    re.sub(rf).intoArray(v, o + 4 * st);
                    ro.add(rf).intoArray(v, o + 5 * st);
                    rf.sub(ro).intoArray(v, o + 6 * st);
                    ro.sub(rp).intoArray(v, o + 7 * st);
                    re = ve2.sub(ve1);
                    ro = vo2.sub(vo1);
                    rf = vf2.sub(vf1);
                    rp = vp2.sub(vp1);
                    re.sub(rf).intoArray(v, o + 8 * st);
                    ro.add(rf).intoArray(v, o + 9 * st);
                    rf.sub(ro).intoArray(v, o + 10 * st);
                    ro.sub(rp).intoArray(v, o + 11 * st);
                    re = ve1.sub(ve3);
                    ro = vo1.sub(vo3);
                    rf = vf1.sub(vf3);
                    rp = vp1.sub(vp3);
                    re.sub(rf).intoArray(v, o + 12 * st);
                    ro.add(rf).intoArray(v, o + 13 * st);
                    rf.sub(ro).intoArray(v, o + 14 * st);
                    ro.sub(rp).intoArray(v, o + 15 * st);
                }
            }
        }
    }

    /**
     * True when {@link #transformInput} puts {@code rows} tile rows (2 or 4) in each vector: whole rows ({@code tx0 = 0}) of
     * {@code L/rows} tiles, input rows of {@code 2·L/rows} floats, padding 1 on the left ({@code ow = w}).
     */
    static boolean stacks(int[] g, int tx0, int cw, int rows) {
        int wi = 2 * L / rows;
        return tx0 == 0 && rows * cw == L && g[W] == wi && g[PW] == 1 && g[OW] == wi;
    }

    /**
     * Floats of {@link #transformInput}'s {@code rowsBuf}: eight split rows of {@link #half} floats, 16 vectors of stacked
     * tile rows' columns, and a vector for a copy of the input's last row.
     */
    static int rowsLength(int half) {
        return 8 * half + 17 * L;
    }

    /**
     * {@code Aᵀ M A} of one channel's vector of tiles, plus that channel's {@code bias}: {@code M_ξ} at
     * {@code m[ξ·CH·STRIDE + at]}; output {@code (a, b)} of each tile to {@code out[(2a + b)·STRIDE + to]}.
     */
    private static void outputs(float[] m, int at, float bias, float[] out, int to) {
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
        s00.add(s01).add(s02).add(bias).intoArray(out, to);
        s01.sub(s02).sub(s03).add(bias).intoArray(out, STRIDE + to);
        s10.add(s11).add(s12).add(bias).intoArray(out, 2 * STRIDE + to);
        s11.sub(s12).sub(s13).add(bias).intoArray(out, 3 * STRIDE + to);
    }

    /**
     * {@code M_ξ} of 4 output channels × 4 vectors of tiles: {@code m[mb + j·STRIDE + q·L] = Σ_ci u[ub + 4ci + j]·v[vb + ci·STRIDE + q·L]},
     * {@code ci} ascending.
     */
    static void product44(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
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
    static void product41(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
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
    static void product24(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
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
    static void product21(float[] v, int vb, float[] u, int ub, int cin, float[] m, int mb) {
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
