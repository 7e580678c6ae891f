package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static dev.prism.kernels.Conv2dKernels.CIN;
import static dev.prism.kernels.Conv2dKernels.COUT;
import static dev.prism.kernels.Conv2dKernels.N;
import static dev.prism.kernels.Conv2dKernels.OH;
import static dev.prism.kernels.Conv2dKernels.OW;

/**
 * {@link Conv2dWeightGradVector}'s path for the geometries {@link #pays} accepts (3×3, stride 1,
 * dilation 1, groups 1): the weight gradient by Winograd's F(2×2, 3×3) run backwards. With the forward tile
 * {@code Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A}, each tile adds {@code Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ d B)]G} to the 3×3 gradient of the
 * filter, so {@code gw = Gᵀ M G} with {@code M_ξ[co][ci] = Σ_tiles (A dY Aᵀ)_ξ[co] · (Bᵀ d B)_ξ[ci]}: 16 products
 * per tile and channel pair where the direct sum spends 36. Tiles where the output has no row or column
 * ({@code oy >= OH}, {@code ox >= OW}) take a zero gradient there, so every tile adds exactly the direct sum's terms
 * of its outputs.
 *
 * <p>How it runs. A thread's lane range (filter rows {@code (co·Cin + ci)·3 + ky}) names output channels
 * {@code [coA, coB]}; the thread sums over every tile of its batch items (the whole batch for
 * {@link Conv2dKernels#backwardWeight}, a part of it for {@link Conv2dKernels#backwardWeightChunks}, whose lanes give
 * each thread whole parts and all output channels), in the same blocks as the forward path
 * ({@link Conv2dWinogradVector#transformInput} makes {@code V_ξ[ci][tile]}, one lane per tile). The output gradient's
 * transform {@code Y'_ξ[tile][co]} takes one lane per output channel: the block's output gradient is copied
 * channel-last first. The products run on an FMA micro-kernel of {@code CI}
 * input channels (broadcast from {@code V}) × 2 vectors of output channels ({@code Y'}), over the tiles.
 *
 * <p>Summation ({@code docs/KERNELS.md}, long sums), as {@link Conv2dWeightGradVector}'s: each lane runs a float sum
 * of at most {@value #RUN} tiles; at most {@value #RUN} such runs are added in float, and that sum is added to a
 * double sum per {@code (ξ, ci, co)}; at the end {@code Gᵀ M G} is taken in double and rounded once. The runs are cut
 * at fixed tile indices, so the bits depend on the geometry and the vector width alone, never on the thread count.
 * The transforms add rounding of their own (up to two for each {@code V} and {@code Y'} value) and sum up to four
 * inputs each, so a worst-case bound in the direct products' terms is larger than the direct path's; on their
 * inputs {@code ReductionAccuracyTest} (against a compensated float64 sum and PyTorch's own error) and
 * {@code Conv2dBackwardVectorTest} (x around 1, gy around ½, where a float running sum drifts) hold it to the direct
 * float runs' bound, {@code 2·RUN·2⁻²⁴·Σ|t|} of the products' absolute sum plus the double sums' bound and half an ulp.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use: no allocation in steady state.
 */
final class Conv2dWinogradWeightVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Input channels per micro-kernel block: 8 with 16 float lanes (32 registers), else 4. */
    private static final int CI = L >= 16 ? 8 : 4;
    /** Tiles per lane of one float run, and runs per float sum before it is added to the double sums. */
    static final int RUN = 32;
    private static final int BLOCK = Conv2dWinogradVector.BLOCK;
    private static final int STRIDE = Conv2dWinogradVector.STRIDE;
    /**
     * {@link #transposed}'s swaps: lanes with bit {@code d} of their index set ({@code BIT}), lane {@code i} taking lane
     * {@code i − d} ({@code UP}) or {@code i + d} ({@code DOWN}), for {@code d} = 1, 2, 4 and L/2 (a width without such a
     * bit never uses its constants).
     */
    private static final VectorMask<Float> BIT1 = bit(1), BIT2 = bit(2), BIT4 = bit(4), BIT_HALF = bit(L / 2);
    private static final VectorShuffle<Float> UP1 = shift(-1), UP2 = shift(-2), UP4 = shift(-4), UP_HALF = shift(-L / 2),
            DOWN1 = shift(1), DOWN2 = shift(2), DOWN4 = shift(4), DOWN_HALF = shift(L / 2);

    private static VectorMask<Float> bit(int d) {
        boolean[] lanes = new boolean[L];
        for (int i = 0; i < L; i++) {
            lanes[i] = (i & d) != 0;
        }
        return VectorMask.fromArray(F, lanes, 0);
    }

    private static VectorShuffle<Float> shift(int by) {
        return VectorShuffle.fromOp(F, i -> Math.floorMod(i + by, L));
    }

    private static final class Scratch {
        float[] v = new float[0];
        float[] y = new float[0];
        float[] sums = new float[0];
        double[] total = new double[0];
        float[] rows = new float[0];
        final int[] tileN = new int[BLOCK];
        final int[] tileY = new int[BLOCK];
        float[] part = new float[0];
        /** {@link #transposed}'s L×L floats. */
        final float[] tr = new float[L * L];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dWinogradWeightVector() {
    }

    /** The fewest input channels, and output channels, for which {@link Conv2dWeightGradVector} takes this path. */
    static final int MIN_CIN = 9, MIN_COUT = 17;

    /**
     * True when {@link Conv2dWeightGradVector#backwardWeightLanes} takes this path: a geometry
     * {@link Conv2dWinogradVector#applies} accepts, with at least {@link #MIN_CIN} input and {@link #MIN_COUT} output
     * channels. A thread transforms its batch items' input for the output channels of its lanes, and pads those
     * channels to whole vectors: with few of either, the transforms outweigh the products they save. Measured before
     * the weight gradient was summed in parts of the batch (every thread then transformed the whole batch's input),
     * with a throwaway harness timing one thread's half of the lanes, batch 64 at 32×32 (AMD Zen 5): one output channel
     * 4.74 ms against 1.62 direct at 512 bits (6.72 against 1.97 at 256, 8.83 against 1.53 at 128); one input channel
     * 1.90 against 0.68; 8 output channels 4.77 against 2.62; 16 output channels 5.14 against 3.78 (7.47 against 8.05 at
     * 128 bits, the one case measured slower direct); 32 → 32 5.40 against 7.24 (Winograd). The rule depends on the
     * geometry alone, so the bits do not depend on the thread count.
     */
    static boolean pays(int[] g) {
        return Conv2dWinogradVector.applies(g) && g[Conv2dKernels.CIN] >= MIN_CIN && g[Conv2dKernels.COUT] >= MIN_COUT;
    }

    /**
     * Lanes {@code [rowFrom, rowTo)} of {@link Conv2dKernels#backwardWeight}, lane {@code l} being the filter row
     * {@code l = (co·Cin + ci)·3 + ky}, for a geometry {@link Conv2dWinogradVector#applies} accepts.
     */
    static void backwardWeightLanes(float[] x, float[] gy, float[] gw, int[] g, int rowFrom, int rowTo) {
        sums(x, gy, gw, g, rowFrom, rowTo, 0, g[N], 0, false);
    }

    /**
     * {@link #backwardWeightLanes} over the batch items {@code [n0, n1)}: element {@code e} of filter row {@code l}
     * ({@code e = 3l + kx}) to {@code out[base + e]}, rounded to float, or with {@code split} as the pair at
     * {@code 2·(base + e)} ({@link Conv2dKernels#put}).
     */
    static void sums(float[] x, float[] gy, float[] out, int[] g, int rowFrom, int rowTo, int n0, int n1, int base,
                     boolean split) {
        int cin = g[CIN], cout = g[COUT], oh = g[OH], ow = g[OW];
        int coA = rowFrom / (3 * cin), coB = (rowTo - 1) / (3 * cin);
        int nco = coB - coA + 1;
        // output channels in pairs of vectors, input channels in blocks of CI
        // (one vector where a thread's channels fit one: 2 would waste half the products, as for 32 channels on 2 threads)
        int perKernel = nco <= L ? L : 2 * L;
        int coPad = (nco + perKernel - 1) / perKernel * perKernel;
        int ciPad = (cin + CI - 1) / CI * CI;
        Scratch s = scratch(ciPad, coPad, Conv2dWinogradVector.half(Math.min((ow + 1) / 2, BLOCK), g[Conv2dKernels.PW]));
        int vstep = Conv2dWinogradVector.positionStride(ciPad);
        int ytile = tileStride(coPad);
        int sstep = ciPad * coPad + 16;
        java.util.Arrays.fill(s.sums, 0, 16 * sstep, 0f);
        java.util.Arrays.fill(s.total, 0, 16 * sstep, 0.0);

        int tilesX = (ow + 1) / 2, tilesY = (oh + 1) / 2;
        int width = Math.min(tilesX, BLOCK);
        int rowsPer = BLOCK / width;
        int half = Conv2dWinogradVector.half(width, g[Conv2dKernels.PW]);
        int runs = 0;
        int[] tileN = s.tileN, tileY = s.tileY;
        for (int tx0 = 0; tx0 < tilesX; tx0 += width) {
            int cw = Math.min(width, tilesX - tx0);
            int k = 0;
            for (int n = n0; n < n1; n++) {
                for (int ty = 0; ty < tilesY; ty++) {
                    tileN[k] = n;
                    tileY[k] = ty;
                    if (++k == rowsPer || (n == n1 - 1 && ty == tilesY - 1)) {
                        Conv2dWinogradVector.transformInput(x, g, s.v, vstep, s.rows, half, tileN, tileY, k, tx0, cw);
                        transformGradient(gy, g, s, k, tx0, cw, coA, nco, coPad, ytile);
                        int tiles = k * cw;
                        for (int t0 = 0; t0 < tiles; t0 += RUN) {
                            int t1 = Math.min(tiles, t0 + RUN);
                            for (int xi = 0; xi < 16; xi++) {
                                for (int c = 0; c < ciPad; c += CI) {
                                    for (int q = 0; q < coPad; q += perKernel) {
                                        if (perKernel == L) {
                                            product1(s.v, xi * vstep + c * STRIDE, s.y, xi * coPad + q, ytile, t0, t1,
                                                    s.sums, xi * sstep + c * coPad + q, coPad);
                                        } else if (CI == 8) {
                                            product82(s.v, xi * vstep + c * STRIDE, s.y, xi * coPad + q, ytile, t0, t1,
                                                    s.sums, xi * sstep + c * coPad + q, coPad);
                                        } else {
                                            product42(s.v, xi * vstep + c * STRIDE, s.y, xi * coPad + q, ytile, t0, t1,
                                                    s.sums, xi * sstep + c * coPad + q, coPad);
                                        }
                                    }
                                }
                            }
                            if (++runs == RUN) {
                                flush(s.sums, s.total, 16 * sstep);
                                runs = 0;
                            }
                        }
                        k = 0;
                    }
                }
            }
        }
        flush(s.sums, s.total, 16 * sstep);
        // gw = Gᵀ M G per (co, ci), in double, rounded once; only the lanes [rowFrom, rowTo) are written
        double[] m = s.total;
        for (int l = rowFrom; l < rowTo; l++) {
            int ky = l % 3;
            int ci = (l / 3) % cin;
            int co = l / (3 * cin);
            int at = ci * coPad + co - coA;
            // r_j = row ky of Gᵀ · M: Gᵀ's rows are (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1)
            double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
            for (int i = 0; i < 4; i++) {
                double gi = gt(ky, i);
                if (gi == 0) {
                    continue;
                }
                int b = 4 * i * sstep + at;
                r0 += gi * m[b];
                r1 += gi * m[b + sstep];
                r2 += gi * m[b + 2 * sstep];
                r3 += gi * m[b + 3 * sstep];
            }
            int o = base + 3 * l;
            // then · G: columns (1, ½, ½, 0), (0, ½, −½, 0), (0, ½, ½, 1)
            Conv2dKernels.put(out, o, r0 + 0.5 * (r1 + r2), split);
            Conv2dKernels.put(out, o + 1, 0.5 * (r1 - r2), split);
            Conv2dKernels.put(out, o + 2, 0.5 * (r1 + r2) + r3, split);
        }
    }

    /** Element {@code (ky, i)} of {@code Gᵀ} (3×4). */
    private static double gt(int ky, int i) {
        return switch (ky) {
            case 0 -> i == 0 ? 1 : i == 3 ? 0 : 0.5;
            case 1 -> i == 1 ? 0.5 : i == 2 ? -0.5 : 0;
            default -> i == 3 ? 1 : i == 0 ? 0 : 0.5;
        };
    }

    private static Scratch scratch(int ciPad, int coPad, int half) {
        Scratch s = SCRATCH.get();
        int v = 16 * Conv2dWinogradVector.positionStride(ciPad);
        if (s.v.length < v) {
            s.v = new float[v];
        }
        int y = BLOCK * tileStride(coPad) + L;
        if (s.y.length < y) {
            s.y = new float[y];
        }
        int sums = 16 * (ciPad * coPad + 16);
        if (s.sums.length < sums) {
            s.sums = new float[sums];
            s.total = new double[sums];
        }
        int rows = Conv2dWinogradVector.rowsLength(half);
        if (s.rows.length < rows) {
            s.rows = new float[rows];
        }
        return s;
    }

    /**
     * Floats between two tiles of the output gradient's transform: its 16 positions of {@code coPad} channels side by side
     * (so that a tile's transform writes one run of memory), and a cache line more, so that the products' loads of one
     * position from consecutive tiles do not fall in one set of the L1 cache ({@code 16·64} floats are 4 KiB).
     */
    private static int tileStride(int coPad) {
        return 16 * coPad + 16;
    }

    /** Adds the float sums of the runs so far ({@code f}) to the double sums ({@code d}) and clears them. */
    static void flush(float[] f, double[] d, int size) {
        for (int i = 0; i < size; i++) {
            d[i] += f[i];
            f[i] = 0f;
        }
    }

    /**
     * {@code Y'_ξ = A dY Aᵀ} of a block's tiles, output channels {@code [coA, coA + nco)} at
     * {@code y[tile·tileStride(coPad) + ξ·coPad + (co − coA)]}, one lane per output channel; zero for channels past {@code nco}
     * and for the outputs a tile has outside the plane. The block's output gradient is first copied channel-last,
     * {@code part[(tile·4 + 2a + b)·coPad + co − coA]} for the tile's output {@code (a, b)}: by vectors of L channels
     * transposed in registers where the block is whole rows ({@link #transposed}), else by scalar copies (gathers of L
     * channels a plane apart took longer than the products, AMD Zen 5).
     */
    private static void transformGradient(float[] gy, int[] g, Scratch s, int rows, int tx0, int cw, int coA, int nco,
                                          int coPad, int ytile) {
        int cout = g[COUT], oh = g[OH], ow = g[OW];
        int tiles = rows * cw;
        if (s.part.length < 4 * tiles * coPad) {
            s.part = new float[4 * BLOCK * coPad];
        }
        float[] part = s.part;
        int cols = Math.min(2 * cw, ow - 2 * tx0);
        // whole output rows of an even number of rows, two of them a whole number of vectors: each tile row's two output
        // rows are read by vectors of L channels and transposed (the rest of the channels below, by scalar copies)
        boolean whole = tx0 == 0 && 2 * cw == ow && oh % 2 == 0 && 2 * ow % L == 0;
        int byVectors = whole ? nco / L * L : 0;
        if (byVectors < coPad) {
            // the entries no copy writes (channels past nco, outputs outside the plane) must be zero
            java.util.Arrays.fill(part, 0, 4 * tiles * coPad, 0f);
        }
        if (byVectors > 0) {
            transposed(gy, g, s, rows, cw, coA, byVectors, coPad);
        }
        // channels outermost: a channel's rows of the block follow each other in gy (consecutive tile rows of an image),
        // so the loads run along memory instead of jumping a plane for every row
        for (int c = byVectors; c < nco; c++) {
            for (int k = 0; k < rows; k++) {
                int n = s.tileN[k];
                int oy0 = 2 * s.tileY[k];
                for (int a = 0; a < 2 && oy0 + a < oh; a++) {
                    int src = ((n * cout + coA + c) * oh + oy0 + a) * ow + 2 * tx0;
                    int dst = (k * cw * 4 + 2 * a) * coPad + c;
                    for (int j = 0; j < cols; j++) {
                        // column j of the piece: tile j / 2, output (a, j % 2)
                        part[dst + ((j >> 1) * 4 + (j & 1)) * coPad] = gy[src + j];
                    }
                }
            }
        }
        float[] y = s.y;
        for (int tile = 0; tile < tiles; tile++) {
            for (int q = 0; q < coPad; q += L) {
                int i = tile * 4 * coPad + q;
                FloatVector g00 = FloatVector.fromArray(F, part, i);
                FloatVector g01 = FloatVector.fromArray(F, part, i + coPad);
                FloatVector g10 = FloatVector.fromArray(F, part, i + 2 * coPad);
                FloatVector g11 = FloatVector.fromArray(F, part, i + 3 * coPad);
                // rows of A dY (A = [1 0; 1 1; 1 −1; 0 −1]): r0 = d0, r1 = d0 + d1, r2 = d0 − d1, r3 = −d1
                FloatVector a0 = g00, a1 = g00.add(g10), a2 = g00.sub(g10), a3 = g10.neg();
                FloatVector b0 = g01, b1 = g01.add(g11), b2 = g01.sub(g11), b3 = g11.neg();
                int o = tile * ytile + q;
                // position ξ = 4i + j: row i, then the same combination of its two columns
                a0.intoArray(y, o);
                a0.add(b0).intoArray(y, o + coPad);
                a0.sub(b0).intoArray(y, o + 2 * coPad);
                b0.neg().intoArray(y, o + 3 * coPad);
                a1.intoArray(y, o + 4 * coPad);
                a1.add(b1).intoArray(y, o + 5 * coPad);
                a1.sub(b1).intoArray(y, o + 6 * coPad);
                b1.neg().intoArray(y, o + 7 * coPad);
                a2.intoArray(y, o + 8 * coPad);
                a2.add(b2).intoArray(y, o + 9 * coPad);
                a2.sub(b2).intoArray(y, o + 10 * coPad);
                b2.neg().intoArray(y, o + 11 * coPad);
                a3.intoArray(y, o + 12 * coPad);
                a3.add(b3).intoArray(y, o + 13 * coPad);
                a3.sub(b3).intoArray(y, o + 14 * coPad);
                b3.neg().intoArray(y, o + 15 * coPad);
            }
        }
    }

    /**
     * {@link #transformGradient}'s copy of channels {@code [coA, coA + nc)} ({@code nc} a multiple of L) of a block of whole
     * tile rows, each row's two output rows ({@code 2·ow} floats, a multiple of L) read as vectors of L consecutive
     * outputs, one per channel, and transposed in {@code s.tr} into vectors of L channels, one per output: the same
     * floats in the same places as the scalar copy. A transpose swaps, for each bit {@code d} of a lane index, the lanes
     * of row {@code i} that have bit {@code d} set with those of row {@code i + d} that have it clear (rows {@code i}
     * without bit {@code d}); the first swap reads gy, the last writes {@code part}. Scalar copies, the channel a plane
     * apart for every output, took a fifth of the weight gradient's time (Intel Xeon, 512 bits).
     */
    private static void transposed(float[] gy, int[] g, Scratch s, int rows, int cw, int coA, int nc, int coPad) {
        int cout = g[COUT], oh = g[OH], ow = g[OW];
        int plane = oh * ow;
        float[] part = s.part, tr = s.tr;
        for (int k = 0; k < rows; k++) {
            int n = s.tileN[k];
            int oy0 = 2 * s.tileY[k];
            for (int m0 = 0; m0 < 2 * ow; m0 += L) {
                for (int c0 = 0; c0 < nc; c0 += L) {
                    transposeHead(gy, ((n * cout + coA + c0) * oh + oy0) * ow + m0, plane, tr);
                    for (int i = 0; i < L; i += 2) {
                        // output m0 + i: row a = m / ow, column j = m % ow, tile k·cw + j / 2, its output (a, j % 2);
                        // m + 1: the same tile's output (ra, 1), j being even
                        int m = m0 + i;
                        int ra = m / ow, j = m - ra * ow;
                        transposeTail(tr, i, part, ((k * cw + (j >> 1)) * 4 + 2 * ra + (j & 1)) * coPad + c0, coPad);
                    }
                }
            }
        }
    }

    /**
     * The swaps of an L×L transpose but the last: row {@code i} of the block is {@code gy[src + i·plane ..]} (L floats), the
     * result in {@code tr}, which {@link #transposeTail} finishes (the swaps for lane bit L/2 read gy, those for bits 4 and
     * 2 work in {@code tr}).
     */
    static void transposeHead(float[] gy, int src, int plane, float[] tr) {
        int h = L / 2;
        for (int i = 0; i < h; i++) {
            FloatVector a = FloatVector.fromArray(F, gy, src + i * plane);
            FloatVector b = FloatVector.fromArray(F, gy, src + (i + h) * plane);
            a.blend(b.rearrange(UP_HALF), BIT_HALF).intoArray(tr, i * L);
            b.blend(a.rearrange(DOWN_HALF), BIT_HALF.not()).intoArray(tr, (i + h) * L);
        }
        if (L >= 16) {
            for (int i = 0; i < L; i = (i & 3) == 3 ? i + 5 : i + 1) {
                FloatVector a = FloatVector.fromArray(F, tr, i * L);
                FloatVector b = FloatVector.fromArray(F, tr, (i + 4) * L);
                a.blend(b.rearrange(UP4), BIT4).intoArray(tr, i * L);
                b.blend(a.rearrange(DOWN4), BIT4.not()).intoArray(tr, (i + 4) * L);
            }
        }
        if (L >= 8) {
            for (int i = 0; i < L; i = (i & 1) == 1 ? i + 3 : i + 1) {
                FloatVector a = FloatVector.fromArray(F, tr, i * L);
                FloatVector b = FloatVector.fromArray(F, tr, (i + 2) * L);
                a.blend(b.rearrange(UP2), BIT2).intoArray(tr, i * L);
                b.blend(a.rearrange(DOWN2), BIT2.not()).intoArray(tr, (i + 2) * L);
            }
        }
    }

    /**
     * The last swap of {@link #transposeHead}'s transpose for its rows {@code i} (even) and {@code i + 1}: column {@code i}
     * of the block (its L rows' lane {@code i}) to {@code out[at ..]}, column {@code i + 1} to {@code out[at + next ..]}.
     */
    static void transposeTail(float[] tr, int i, float[] out, int at, int next) {
        FloatVector a = FloatVector.fromArray(F, tr, i * L);
        FloatVector b = FloatVector.fromArray(F, tr, (i + 1) * L);
        a.blend(b.rearrange(UP1), BIT1).intoArray(out, at);
        b.blend(a.rearrange(DOWN1), BIT1.not()).intoArray(out, at + next);
    }

    /**
     * One float run: for 8 input channels {@code c} (V rows {@code vb + c·STRIDE}) and 2 vectors of output channels
     * ({@code y[yb + tile·ys ..]}), {@code Σ_{t0 <= t < t1} v[c][t]·y[t]}, tiles ascending, added to the sums at
     * {@code sums[sb + c·ss ..]}.
     */
    static void product82(float[] v, int vb, float[] y, int yb, int ys, int t0, int t1, float[] sums, int sb, int ss) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        FloatVector e0 = a0, e1 = a0, f0 = a0, f1 = a0, g0 = a0, g1 = a0, h0 = a0, h1 = a0;
        for (int t = t0; t < t1; t++) {
            int i = yb + t * ys;
            FloatVector y0 = FloatVector.fromArray(F, y, i);
            FloatVector y1 = FloatVector.fromArray(F, y, i + L);
            int j = vb + t;
            FloatVector w = FloatVector.broadcast(F, v[j]);
            a0 = y0.fma(w, a0);
            a1 = y1.fma(w, a1);
            w = FloatVector.broadcast(F, v[j + STRIDE]);
            b0 = y0.fma(w, b0);
            b1 = y1.fma(w, b1);
            w = FloatVector.broadcast(F, v[j + 2 * STRIDE]);
            c0 = y0.fma(w, c0);
            c1 = y1.fma(w, c1);
            w = FloatVector.broadcast(F, v[j + 3 * STRIDE]);
            d0 = y0.fma(w, d0);
            d1 = y1.fma(w, d1);
            w = FloatVector.broadcast(F, v[j + 4 * STRIDE]);
            e0 = y0.fma(w, e0);
            e1 = y1.fma(w, e1);
            w = FloatVector.broadcast(F, v[j + 5 * STRIDE]);
            f0 = y0.fma(w, f0);
            f1 = y1.fma(w, f1);
            w = FloatVector.broadcast(F, v[j + 6 * STRIDE]);
            g0 = y0.fma(w, g0);
            g1 = y1.fma(w, g1);
            w = FloatVector.broadcast(F, v[j + 7 * STRIDE]);
            h0 = y0.fma(w, h0);
            h1 = y1.fma(w, h1);
        }
        FloatVector.fromArray(F, sums, sb).add(a0).intoArray(sums, sb);
        FloatVector.fromArray(F, sums, sb + L).add(a1).intoArray(sums, sb + L);
        FloatVector.fromArray(F, sums, sb + ss).add(b0).intoArray(sums, sb + ss);
        FloatVector.fromArray(F, sums, sb + ss + L).add(b1).intoArray(sums, sb + ss + L);
        FloatVector.fromArray(F, sums, sb + 2 * ss).add(c0).intoArray(sums, sb + 2 * ss);
        FloatVector.fromArray(F, sums, sb + 2 * ss + L).add(c1).intoArray(sums, sb + 2 * ss + L);
        FloatVector.fromArray(F, sums, sb + 3 * ss).add(d0).intoArray(sums, sb + 3 * ss);
        FloatVector.fromArray(F, sums, sb + 3 * ss + L).add(d1).intoArray(sums, sb + 3 * ss + L);
        FloatVector.fromArray(F, sums, sb + 4 * ss).add(e0).intoArray(sums, sb + 4 * ss);
        FloatVector.fromArray(F, sums, sb + 4 * ss + L).add(e1).intoArray(sums, sb + 4 * ss + L);
        FloatVector.fromArray(F, sums, sb + 5 * ss).add(f0).intoArray(sums, sb + 5 * ss);
        FloatVector.fromArray(F, sums, sb + 5 * ss + L).add(f1).intoArray(sums, sb + 5 * ss + L);
        FloatVector.fromArray(F, sums, sb + 6 * ss).add(g0).intoArray(sums, sb + 6 * ss);
        FloatVector.fromArray(F, sums, sb + 6 * ss + L).add(g1).intoArray(sums, sb + 6 * ss + L);
        FloatVector.fromArray(F, sums, sb + 7 * ss).add(h0).intoArray(sums, sb + 7 * ss);
        FloatVector.fromArray(F, sums, sb + 7 * ss + L).add(h1).intoArray(sums, sb + 7 * ss + L);
    }

    /** {@link #product82} for one vector of output channels: {@code CI} input channels (8, or 4 below 16 lanes). */
    static void product1(float[] v, int vb, float[] y, int yb, int ys, int t0, int t1, float[] sums, int sb, int ss) {
        FloatVector a0 = FloatVector.zero(F), b0 = a0, c0 = a0, d0 = a0, e0 = a0, f0 = a0, g0 = a0, h0 = a0;
        for (int t = t0; t < t1; t++) {
            FloatVector y0 = FloatVector.fromArray(F, y, yb + t * ys);
            int j = vb + t;
            a0 = y0.fma(FloatVector.broadcast(F, v[j]), a0);
            b0 = y0.fma(FloatVector.broadcast(F, v[j + STRIDE]), b0);
            c0 = y0.fma(FloatVector.broadcast(F, v[j + 2 * STRIDE]), c0);
            d0 = y0.fma(FloatVector.broadcast(F, v[j + 3 * STRIDE]), d0);
            if (CI == 8) {
                e0 = y0.fma(FloatVector.broadcast(F, v[j + 4 * STRIDE]), e0);
                f0 = y0.fma(FloatVector.broadcast(F, v[j + 5 * STRIDE]), f0);
                g0 = y0.fma(FloatVector.broadcast(F, v[j + 6 * STRIDE]), g0);
                h0 = y0.fma(FloatVector.broadcast(F, v[j + 7 * STRIDE]), h0);
            }
        }
        FloatVector.fromArray(F, sums, sb).add(a0).intoArray(sums, sb);
        FloatVector.fromArray(F, sums, sb + ss).add(b0).intoArray(sums, sb + ss);
        FloatVector.fromArray(F, sums, sb + 2 * ss).add(c0).intoArray(sums, sb + 2 * ss);
        FloatVector.fromArray(F, sums, sb + 3 * ss).add(d0).intoArray(sums, sb + 3 * ss);
        if (CI == 8) {
            FloatVector.fromArray(F, sums, sb + 4 * ss).add(e0).intoArray(sums, sb + 4 * ss);
            FloatVector.fromArray(F, sums, sb + 5 * ss).add(f0).intoArray(sums, sb + 5 * ss);
            FloatVector.fromArray(F, sums, sb + 6 * ss).add(g0).intoArray(sums, sb + 6 * ss);
            FloatVector.fromArray(F, sums, sb + 7 * ss).add(h0).intoArray(sums, sb + 7 * ss);
        }
    }

    /** {@link #product82} for 4 input channels, for 16-register machines. */
    static void product42(float[] v, int vb, float[] y, int yb, int ys, int t0, int t1, float[] sums, int sb, int ss) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
        for (int t = t0; t < t1; t++) {
            int i = yb + t * ys;
            FloatVector y0 = FloatVector.fromArray(F, y, i);
            FloatVector y1 = FloatVector.fromArray(F, y, i + L);
            int j = vb + t;
            FloatVector w = FloatVector.broadcast(F, v[j]);
            a0 = y0.fma(w, a0);
            a1 = y1.fma(w, a1);
            w = FloatVector.broadcast(F, v[j + STRIDE]);
            b0 = y0.fma(w, b0);
            b1 = y1.fma(w, b1);
            w = FloatVector.broadcast(F, v[j + 2 * STRIDE]);
            c0 = y0.fma(w, c0);
            c1 = y1.fma(w, c1);
            w = FloatVector.broadcast(F, v[j + 3 * STRIDE]);
            d0 = y0.fma(w, d0);
            d1 = y1.fma(w, d1);
        }
        FloatVector.fromArray(F, sums, sb).add(a0).intoArray(sums, sb);
        FloatVector.fromArray(F, sums, sb + L).add(a1).intoArray(sums, sb + L);
        FloatVector.fromArray(F, sums, sb + ss).add(b0).intoArray(sums, sb + ss);
        FloatVector.fromArray(F, sums, sb + ss + L).add(b1).intoArray(sums, sb + ss + L);
        FloatVector.fromArray(F, sums, sb + 2 * ss).add(c0).intoArray(sums, sb + 2 * ss);
        FloatVector.fromArray(F, sums, sb + 2 * ss + L).add(c1).intoArray(sums, sb + 2 * ss + L);
        FloatVector.fromArray(F, sums, sb + 3 * ss).add(d0).intoArray(sums, sb + 3 * ss);
        FloatVector.fromArray(F, sums, sb + 3 * ss + L).add(d1).intoArray(sums, sb + 3 * ss + L);
    }
}
