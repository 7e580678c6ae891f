package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static dev.prism.kernels.Conv2dKernels.CIN;
import static dev.prism.kernels.Conv2dKernels.COUT;
import static dev.prism.kernels.Conv2dKernels.H;
import static dev.prism.kernels.Conv2dKernels.OH;
import static dev.prism.kernels.Conv2dKernels.OW;
import static dev.prism.kernels.Conv2dKernels.PH;
import static dev.prism.kernels.Conv2dKernels.PW;
import static dev.prism.kernels.Conv2dKernels.W;

/**
 * {@link Conv2dVector}'s path for the square 3×3 layers of stride 1 and padding 1 whose rows are whole vectors and hold
 * whole tile rows ({@link #pays}: the models' 32×32 and 16×16 layers at 256 and 512 bits, 8×8 at 256): Winograd's minimal filtering
 * F(4×4, 3×3), each 4×4 block of outputs (a tile) from the 6×6 input patch under it as
 * {@code Aᵀ [Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B)] A}: 36 multiply-adds per 16 outputs, input channel and output channel, where
 * {@link Conv2dWinogradVector}'s F(2×2, 3×3) spends 64 and the direct convolution 144.
 *
 * <p>The interpolation points are {@code 0, 1, −1, ½, −2} and infinity rather than the usual {@code 0, ±1, ±2}: in float,
 * on Gaussian inputs and weights of 32 to 128 input channels, the usual points' outputs were off by up to 0.9 of the
 * shared tolerance ({@code 1e-5} of the value plus {@code 1e-5} of the largest), these by up to 0.26 (F(2×2, 3×3): up to
 * 0.04); a throwaway NumPy model of the three transforms in float32 against a float64 direct sum.
 * <pre>
 * Bᵀ = [1 −3/2 −2 3/2 1 0; 0 −1 1/2 5/2 1 0; 0 1 −5/2 1/2 1 0; 0 −2 −1 2 1 0; 0 1/2 −1 −1/2 1 0; 0 1 −3/2 −2 3/2 1]
 * G  = [1 0 0; 1/3 1/3 1/3; −1/3 1/3 −1/3; −16/15 −8/15 −4/15; 1/15 −2/15 4/15; 0 0 1]
 * Aᵀ = [1 1 1 1 1 0; 0 1 −1 1/2 −2 0; 0 1 1 1/4 4 0; 0 1 −1 1/8 −8 1]
 * </pre>
 *
 * <p>How it runs. An image row of {@code W} inputs holds {@code T = W/4} tiles; one vector of L lanes holds
 * {@code R = L/T} consecutive tile rows of one image (at 8×8 and 256 bits, the two tile rows of two consecutive images,
 * zeros past a region's last image), tile {@code t} of its tile row {@code ρ} in lane {@code ρ·T + t}.
 * The input a vector of tiles needs from one of the six rows of their patches is four vectors of the input (R input rows
 * of W floats): one permutation, {@code lane → 4·(lane mod L/4) + φ}, applied to each of the four and three blends by
 * quarters of the lanes give column phase {@code φ} (input columns {@code 4t + φ}) of every tile, and the tiles' six
 * columns are phases 3, 0, 1, 2, 3 and 0 shifted by one lane within each tile row (the padding's zeros at the row's ends).
 * So the patches are gathered in registers, straight from the input, and the rows of {@code Bᵀ d B} taken on them; then
 * the columns. Blocks of up to {@value #NV} such vectors (of one or more images) run the 36 matrix products over the
 * input channels on {@link Conv2dWinogradVector}'s micro-kernels, position by position, and the output transform writes
 * each output row as whole vectors, the four outputs of a tile's row interleaved by the same kind of permutations. The
 * weights are transformed once per call in double and rounded once. Each output is a fixed sequence of float operations
 * that depends on its tile's position alone (a lane range that starts or ends inside a vector's tile rows computes them
 * all and writes only its own rows), so the bits do not depend on the thread count.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use: no allocation in steady state.
 */
final class Conv2dWinograd4Vector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Doubles of the float width: one vector of filters' transformed weights, in double until rounded. */
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int DL = D.length();
    /** The first {@link #DL} lanes of a float vector: where a double vector's values land, rounded. */
    private static final VectorMask<Float> LOW = F.indexInRange(0, DL);
    /** Vectors of tiles per block. */
    private static final int NV = 4;
    private static final int CH = Conv2dWinogradVector.CH;
    /** Floats of one row of a block's scratch ({@link Conv2dWinogradVector}'s, whose micro-kernels run the products). */
    private static final int STRIDE = Conv2dWinogradVector.STRIDE;
    /** Floats of one block of output channels' {@code M_ξ}: 36 positions of {@code CH} rows, and a cache line more. */
    private static final int BLOCK_M = 36 * CH * STRIDE + 16;

    /** Lane {@code ℓ} takes lane {@code 4·(ℓ mod L/4) + φ}: column phase φ of the tiles of one quarter's source. */
    private static final VectorShuffle<Float> PHASE0 = phase(0), PHASE1 = phase(1), PHASE2 = phase(2), PHASE3 = phase(3);
    /** The second, third and fourth quarter of the lanes. */
    private static final VectorMask<Float> Q2 = lanes(i -> i / (L / 4) == 1), Q3 = lanes(i -> i / (L / 4) == 2),
            Q4 = lanes(i -> i / (L / 4) == 3);
    /** Lane {@code ℓ} takes lane {@code ℓ − 1}, or {@code ℓ + 1}. */
    private static final VectorShuffle<Float> PREVIOUS = VectorShuffle.fromOp(F, i -> Math.floorMod(i - 1, L)),
            NEXT = VectorShuffle.fromOp(F, i -> (i + 1) % L);
    /** Every lane but the first (and, for {@code _LAST}, the last) of each tile row of 8, 4 or 2 tiles. */
    private static final VectorMask<Float> NOT_FIRST8 = lanes(i -> i % 8 != 0), NOT_LAST8 = lanes(i -> i % 8 != 7),
            NOT_FIRST4 = lanes(i -> i % 4 != 0), NOT_LAST4 = lanes(i -> i % 4 != 3),
            NOT_FIRST2 = lanes(i -> i % 2 != 0), NOT_LAST2 = lanes(i -> i % 2 != 1);
    /** Output vector {@code q}'s lane {@code ℓ} takes lane {@code q·L/4 + ℓ/4} of the tiles' output {@code ℓ mod 4}. */
    private static final VectorShuffle<Float> OUT0 = interleave(0), OUT1 = interleave(1), OUT2 = interleave(2),
            OUT3 = interleave(3);
    /** The lanes {@code ℓ} with {@code ℓ mod 4} = 1, 2, 3. */
    private static final VectorMask<Float> MOD1 = lanes(i -> i % 4 == 1), MOD2 = lanes(i -> i % 4 == 2), MOD3 = lanes(i -> i % 4 == 3);

    private static VectorShuffle<Float> phase(int p) {
        return VectorShuffle.fromOp(F, i -> Math.min(4 * (i % Math.max(1, L / 4)) + p, L - 1));
    }

    private static VectorShuffle<Float> interleave(int q) {
        return VectorShuffle.fromOp(F, i -> Math.min(q * L / 4 + i / 4, L - 1));
    }

    private static VectorMask<Float> lanes(java.util.function.IntPredicate set) {
        boolean[] bits = new boolean[L];
        for (int i = 0; i < L; i++) {
            bits[i] = set.test(i);
        }
        return VectorMask.fromArray(F, bits, 0);
    }

    private static final class Scratch {
        float[] u = new float[0];
        float[] v = new float[0];
        float[] m = new float[0];
        final float[] out = new float[16 * STRIDE];
        final float[] work = new float[36 * L];
        final double[] gg = new double[18];
        /** Nine vectors of {@link #DL} filters' weights: {@code wd[k·DL + l]} is weight k of the vector's filter l. */
        final double[] wd = new double[9 * DL];
        /** The image and first tile row of each vector of the block. */
        final int[] groupN = new int[NV];
        final int[] groupY = new int[NV];
        /** {@link Conv2dWinogradVector#nextRegion}'s result. */
        final int[] region = new int[6];
        /** {@link #sources}' result, and the block's vectors' sources side by side. */
        final int[] src = new int[8];
        final int[] sources = new int[8 * NV];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dWinograd4Vector() {
    }

    /** The fewest input channels, and output channels, for which {@link Conv2dVector} takes this path. */
    static final int MIN_CHANNELS = 16;

    /**
     * True when {@link Conv2dVector#forwardRows} takes this path: a 3×3 geometry {@link Conv2dWinogradVector#applies}
     * accepts, square ({@code H = W = OH = OW}, padding 1), whose rows of {@code W} inputs are whole vectors and whose
     * {@code T = W/4} tiles a row divide L, with at least {@code R = L/T} tile rows in an image ({@code H/4}, a multiple
     * of R) or, for 8×8 at 256 bits, a vector two images' four tile rows, and at least {@link #MIN_CHANNELS} input and
     * output channels: at 512 bits 32×32 (two tile rows a vector) and 16×16 (four), at 256 bits 32×32 (one), 16×16 (two)
     * and 8×8 (two images of two); never at 128 bits, whose 32×32 rows hold a tile row in two vectors, nor 8×8 at 512
     * bits, whose rows are half a vector. The rule depends on the geometry and the vector width alone, so the bits do not
     * depend on the thread count.
     */
    static boolean pays(int[] g) {
        int w = g[W];
        if (!Conv2dWinogradVector.applies(g) || L < 8 || g[H] != w || g[OH] != w || g[OW] != w || g[PH] != 1 || g[PW] != 1
                || w % L != 0 || w % 4 != 0) {
            return false;
        }
        int tiles = w / 4;
        if (tiles > L || L % tiles != 0 || (tiles != 8 && tiles != 4 && !(tiles == 2 && L == 8))) {
            return false;
        }
        int rows = L / tiles;
        return ((w / 4) % rows == 0 || rows % (w / 4) == 0) && g[CIN] >= MIN_CHANNELS && g[COUT] >= MIN_CHANNELS;
    }

    /**
     * Lanes {@code [from, to)} of {@link Conv2dKernels#forward}, lane {@code l} being the output row
     * {@code (n·Cout + co, oy) = (l / OH, l % OH)}, for a geometry {@link #pays} accepts.
     */
    static void forwardRows(float[] x, float[] w, float[] b, float[] y, int[] g, int from, int to) {
        Scratch s = SCRATCH.get();
        int[] r = s.region;
        for (int l = from; l < to; ) {
            l = Conv2dWinogradVector.nextRegion(g, l, to, r);
            region(x, w, b, y, g, s, r[0], r[1], r[2], r[3], r[4], r[5]);
        }
    }

    /**
     * Output channels {@code [co0, co0 + nc)}, rows {@code [oy0, oy1)} of batch items {@code [n0, n0 + images)}: every
     * vector of tile rows that holds one of those rows, whole, its outputs outside the range not written.
     */
    private static void region(float[] x, float[] w, float[] b, float[] y, int[] g, Scratch s, int n0, int images, int co0, int nc,
                               int oy0, int oy1) {
        int cin = g[CIN];
        int rows = L / (g[W] / 4);
        int blocks = (nc + CH - 1) / CH;
        transformWeights(w, cin, s, co0, nc, blocks);
        if (s.v.length < 36 * positionStride(cin)) {
            s.v = new float[36 * positionStride(cin)];
        }
        if (s.m.length < blocks * BLOCK_M) {
            s.m = new float[blocks * BLOCK_M];
        }
        // vectors of `rows` tile rows from a multiple of `rows`: those that hold a row of [oy0, oy1); where a vector holds
        // more tile rows than an image (8×8 at 256 bits: two images), it starts at an image's first tile row and takes
        // the next images' (zeros past the region's last image, whose outputs are not written)
        int tileRows = g[W] / 4;
        int span = Math.max(1, rows / tileRows);
        int ty0 = oy0 / 4 / rows * rows, ty1 = (oy1 + 3) / 4;
        int k = 0;
        for (int n = n0; n < n0 + images; n += span) {
            for (int ty = ty0; ty < ty1; ty += rows) {
                s.groupN[k] = n;
                s.groupY[k] = ty;
                if (++k == NV) {
                    block(x, b, y, g, s, k, co0, nc, blocks, oy0, oy1, n0 + images);
                    k = 0;
                }
            }
        }
        if (k > 0) {
            block(x, b, y, g, s, k, co0, nc, blocks, oy0, oy1, n0 + images);
        }
    }

    /**
     * The four input vectors of a vector of tile rows from tile row {@code ty} of image {@code n}: source {@code c} is
     * tile row {@code ty + c / per} counted on from that image ({@code per = W / L} vectors an input row), columns from
     * {@code (c mod per)·L}; its image and tile row go to {@code src[2c]} and {@code src[2c + 1]}, the image −1 where it
     * lies at or past {@code nEnd}.
     */
    static void sources(int n, int ty, int wi, int nEnd, int[] src) {
        int per = wi / L;
        int tileRows = wi / 4;
        for (int c = 0; c < 4; c++) {
            int t = ty + c / per;
            int image = n + t / tileRows;
            src[2 * c] = image < nEnd ? image : -1;
            src[2 * c + 1] = t % tileRows;
        }
    }

    /** Floats between two positions of the transformed input: {@code cin} rows of {@code STRIDE}, and a cache line more. */
    private static int positionStride(int cin) {
        return cin * STRIDE + 16;
    }

    /** Floats between two positions of the transformed weights ({@code [block][ci][CH]}), and a cache line more. */
    private static int step(int blocks, int cin) {
        return blocks * cin * CH + 16;
    }

    /** The rows of {@code G}. */
    static final double[][] G = {{1, 0, 0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}, {-1 / 3.0, 1 / 3.0, -1 / 3.0},
            {-16 / 15.0, -8 / 15.0, -4 / 15.0}, {1 / 15.0, -2 / 15.0, 4 / 15.0}, {0, 0, 1}};

    /**
     * {@code U_ξ = G g Gᵀ} of output channels {@code [co0, co0 + nc)} at {@code u[ξ·step + (block·cin + ci)·CH + j]}, in double,
     * rounded once; a short last block repeats its last channel (results the output transform drops). For each block the
     * {@code cin·CH} filters {@code (ci, j)} lie in {@code u}'s order, so {@link #DL} consecutive ones are one vector of
     * double lanes whose 36 results, rounded into the low lanes of a float vector, go to {@code u} as 36 contiguous
     * stores (the last {@code cin·CH mod DL} one at a time): each lane takes the scalar sequence's double operations in
     * its order, so the same bits either way.
     */
    private static void transformWeights(float[] w, int cin, Scratch s, int co0, int nc, int blocks) {
        int step = step(blocks, cin);
        if (s.u.length < 36 * step) {
            s.u = new float[36 * step];
        }
        float[] u = s.u;
        double[] wd = s.wd;
        int filters = cin * CH;
        for (int p = 0; p < blocks; p++) {
            int t = 0;
            for (; t + DL <= filters; t += DL) {
                for (int l = 0; l < DL; l++) {
                    int f = filter(cin, co0, nc, p, t + l);
                    for (int k = 0; k < 9; k++) {
                        wd[k * DL + l] = w[f + k];
                    }
                }
                DoubleVector w0 = DoubleVector.fromArray(D, wd, 0), w1 = DoubleVector.fromArray(D, wd, DL),
                        w2 = DoubleVector.fromArray(D, wd, 2 * DL), w3 = DoubleVector.fromArray(D, wd, 3 * DL),
                        w4 = DoubleVector.fromArray(D, wd, 4 * DL), w5 = DoubleVector.fromArray(D, wd, 5 * DL),
                        w6 = DoubleVector.fromArray(D, wd, 6 * DL), w7 = DoubleVector.fromArray(D, wd, 7 * DL),
                        w8 = DoubleVector.fromArray(D, wd, 8 * DL);
                int base = p * filters + t;
                for (int i = 0; i < 6; i++) {
                    double[] gi = G[i];
                    // row i of G g, column by column: G[i][0]·g[0][c] + G[i][1]·g[1][c] + G[i][2]·g[2][c]
                    DoubleVector a0 = w0.mul(gi[0]).add(w3.mul(gi[1])).add(w6.mul(gi[2]));
                    DoubleVector a1 = w1.mul(gi[0]).add(w4.mul(gi[1])).add(w7.mul(gi[2]));
                    DoubleVector a2 = w2.mul(gi[0]).add(w5.mul(gi[1])).add(w8.mul(gi[2]));
                    for (int i2 = 0; i2 < 6; i2++) {
                        double[] g2 = G[i2];
                        DoubleVector r = a0.mul(g2[0]).add(a1.mul(g2[1])).add(a2.mul(g2[2]));
                        ((FloatVector) r.convertShape(VectorOperators.D2F, F, 0))
                                .intoArray(u, (6 * i + i2) * step + base, LOW);
                    }
                }
            }
            for (; t < filters; t++) {
                int f = filter(cin, co0, nc, p, t);
                double[] gg = s.gg;
                for (int i = 0; i < 6; i++) {
                    for (int c = 0; c < 3; c++) {
                        gg[3 * i + c] = w[f + c] * G[i][0] + w[f + 3 + c] * G[i][1] + w[f + 6 + c] * G[i][2];
                    }
                }
                int base = p * filters + t;
                for (int i = 0; i < 6; i++) {
                    for (int i2 = 0; i2 < 6; i2++) {
                        double r = gg[3 * i] * G[i2][0] + gg[3 * i + 1] * G[i2][1] + gg[3 * i + 2] * G[i2][2];
                        u[(6 * i + i2) * step + base] = (float) r;
                    }
                }
            }
        }
    }

    /**
     * The first of the nine weights of block {@code p}'s filter {@code t = ci·CH + j}: output channel
     * {@code co0 + p·CH + j}, or the last one where that lies past {@code nc}.
     */
    private static int filter(int cin, int co0, int nc, int p, int t) {
        int ci = t / CH;
        int co = co0 + Math.min(p * CH + t % CH, nc - 1);
        return (co * cin + ci) * 9;
    }

    /** One block: {@code vectors} vectors of tile rows ({@code s.groupN}, {@code s.groupY}). */
    private static void block(float[] x, float[] b, float[] y, int[] g, Scratch s, int vectors, int co0, int nc, int blocks,
                              int oy0, int oy1, int nEnd) {
        int cin = g[CIN], cout = g[COUT], wi = g[W], h = g[H];
        int vstep = positionStride(cin);
        int[] src = s.src;
        for (int q = 0; q < vectors; q++) {
            sources(s.groupN[q], s.groupY[q], wi, nEnd, src);
            System.arraycopy(src, 0, s.sources, 8 * q, 8);
        }
        for (int ci = 0; ci < cin; ci++) {
            for (int q = 0; q < vectors; q++) {
                transformInput(x, ci, cin, h, wi, s.sources, 8 * q, s.work, s.v, ci * STRIDE + q * L, vstep,
                        follows(s.groupN, s.groupY, q, wi));
            }
        }
        float[] v = s.v, u = s.u, m = s.m;
        int ustep = step(blocks, cin);
        for (int xi = 0; xi < 36; xi++) {
            for (int p = 0; p < blocks; p++) {
                int vb = xi * vstep;
                int ub = xi * ustep + p * cin * CH;
                int mb = p * BLOCK_M + xi * CH * STRIDE;
                if (vectors == NV) {
                    if (CH == 4) {
                        Conv2dWinogradVector.product44(v, vb, u, ub, cin, m, mb);
                    } else {
                        Conv2dWinogradVector.product24(v, vb, u, ub, cin, m, mb);
                    }
                } else {
                    for (int q = 0; q < vectors; q++) {
                        if (CH == 4) {
                            Conv2dWinogradVector.product41(v, vb + q * L, u, ub, cin, m, mb + q * L);
                        } else {
                            Conv2dWinogradVector.product21(v, vb + q * L, u, ub, cin, m, mb + q * L);
                        }
                    }
                }
            }
        }
        float[] out = s.out;
        int plane = wi * wi;
        int per = wi / L;
        for (int p = 0; p < blocks; p++) {
            int valid = Math.min(CH, nc - p * CH);
            for (int j = 0; j < valid; j++) {
                int co = co0 + p * CH + j;
                for (int q = 0; q < vectors; q++) {
                    outputs(m, p * BLOCK_M + j * STRIDE + q * L, b[co], s.work, out, q * L);
                    // output vector c covers source c's tile row (image, tile row), columns (c mod per)·L onward, its
                    // lanes the tiles' four outputs in turn; only images of the region and rows of [oy0, oy1) are written
                    int[] sc = s.sources;
                    int at = 8 * q;
                    int n0 = sc[at], n1 = sc[at + 2], n2 = sc[at + 4], n3 = sc[at + 6];
                    int base0 = (n0 * cout + co) * plane, base1 = (n1 * cout + co) * plane + (1 % per) * L;
                    int base2 = (n2 * cout + co) * plane + (2 % per) * L, base3 = (n3 * cout + co) * plane + (3 % per) * L;
                    for (int a = 0; a < 4; a++) {
                        int o = 4 * a * STRIDE + q * L;
                        FloatVector o0 = FloatVector.fromArray(F, out, o), o1 = FloatVector.fromArray(F, out, o + STRIDE);
                        FloatVector o2 = FloatVector.fromArray(F, out, o + 2 * STRIDE), o3 = FloatVector.fromArray(F, out, o + 3 * STRIDE);
                        int r0 = 4 * sc[at + 1] + a, r1 = 4 * sc[at + 3] + a, r2 = 4 * sc[at + 5] + a, r3 = 4 * sc[at + 7] + a;
                        if (n0 >= 0 && r0 >= oy0 && r0 < oy1) {
                            o0.rearrange(OUT0).blend(o1.rearrange(OUT0), MOD1).blend(o2.rearrange(OUT0), MOD2)
                                    .blend(o3.rearrange(OUT0), MOD3).intoArray(y, base0 + r0 * wi);
                        }
                        if (n1 >= 0 && r1 >= oy0 && r1 < oy1) {
                            o0.rearrange(OUT1).blend(o1.rearrange(OUT1), MOD1).blend(o2.rearrange(OUT1), MOD2)
                                    .blend(o3.rearrange(OUT1), MOD3).intoArray(y, base1 + r1 * wi);
                        }
                        if (n2 >= 0 && r2 >= oy0 && r2 < oy1) {
                            o0.rearrange(OUT2).blend(o1.rearrange(OUT2), MOD1).blend(o2.rearrange(OUT2), MOD2)
                                    .blend(o3.rearrange(OUT2), MOD3).intoArray(y, base2 + r2 * wi);
                        }
                        if (n3 >= 0 && r3 >= oy0 && r3 < oy1) {
                            o0.rearrange(OUT3).blend(o1.rearrange(OUT3), MOD1).blend(o2.rearrange(OUT3), MOD2)
                                    .blend(o3.rearrange(OUT3), MOD3).intoArray(y, base3 + r3 * wi);
                        }
                    }
                }
            }
        }
    }

    /**
     * True when vector {@code q} of a block holds the one tile row ({@code L = W/4}) that follows vector {@code q − 1}'s in
     * the same image: then {@link #transformInput} of the same channel, called for {@code q − 1} just before, left the row
     * transforms of the two input rows the tile rows' patches share in its work buffer.
     */
    static boolean follows(int[] groupN, int[] groupY, int q, int wi) {
        return wi / 4 == L && q > 0 && groupN[q] == groupN[q - 1] && groupY[q] == groupY[q - 1] + 1;
    }

    /**
     * {@code V = Bᵀ d B} of input channel {@code ci} for the vector of tile rows whose four input sources (image, tile row)
     * are {@code src[sat .. sat + 8)} ({@link #sources}), to {@code v[(6i + i')·vstep + at]}: for each of the patches' six rows, its six columns gathered from the four vectors
     * of the input that hold it (zeros for rows in the padding) and the row's transform taken into {@code work}; then the
     * columns'. With {@code follows} ({@link #follows}) the first two rows' transforms are copied from the previous call's
     * last two: the same values, computed once.
     */
    static void transformInput(float[] x, int ci, int cin, int h, int wi, int[] src, int sat, float[] work, float[] v, int at,
                                       int vstep, boolean follows) {
        int per = wi / L;
        VectorMask<Float> notFirst = wi == 32 ? NOT_FIRST8 : wi == 16 ? NOT_FIRST4 : NOT_FIRST2;
        VectorMask<Float> notLast = wi == 32 ? NOT_LAST8 : wi == 16 ? NOT_LAST4 : NOT_LAST2;
        // source c: its image's plane (−1: none, zeros) and the input row before its tile row's first
        int pa = src[sat] < 0 ? -1 : (src[sat] * cin + ci) * h, ya = 4 * src[sat + 1] - 1;
        int pb = src[sat + 2] < 0 ? -1 : (src[sat + 2] * cin + ci) * h, yb = 4 * src[sat + 3] - 1;
        int pc = src[sat + 4] < 0 ? -1 : (src[sat + 4] * cin + ci) * h, yc = 4 * src[sat + 5] - 1;
        int pd = src[sat + 6] < 0 ? -1 : (src[sat + 6] * cin + ci) * h, yd = 4 * src[sat + 7] - 1;
        FloatVector zero = FloatVector.zero(F);
        int first = 0;
        if (follows) {
            // patch rows 0 and 1 are the previous tile row's rows 4 and 5 (input rows 4·ty − 1 and 4·ty), whose row
            // transforms the previous call left in work
            for (int k = 0; k < 12; k++) {
                FloatVector.fromArray(F, work, (24 + k) * L).intoArray(work, k * L);
            }
            first = 2;
        }
        for (int r = first; r < 6; r++) {
            // source c: input row 4·(its tile row) − 1 + r, columns (c mod per)·L onward
            int ra = ya + r, rb = yb + r, rc = yc + r, rd = yd + r;
            FloatVector s0 = pa >= 0 && ra >= 0 && ra < h ? FloatVector.fromArray(F, x, (pa + ra) * wi) : zero;
            FloatVector s1 = pb >= 0 && rb >= 0 && rb < h ? FloatVector.fromArray(F, x, (pb + rb) * wi + (1 % per) * L) : zero;
            FloatVector s2 = pc >= 0 && rc >= 0 && rc < h ? FloatVector.fromArray(F, x, (pc + rc) * wi + (2 % per) * L) : zero;
            FloatVector s3 = pd >= 0 && rd >= 0 && rd < h ? FloatVector.fromArray(F, x, (pd + rd) * wi + (3 % per) * L) : zero;
            FloatVector p0 = s0.rearrange(PHASE0).blend(s1.rearrange(PHASE0), Q2).blend(s2.rearrange(PHASE0), Q3)
                    .blend(s3.rearrange(PHASE0), Q4);
            FloatVector d1 = p0;
            FloatVector d2 = s0.rearrange(PHASE1).blend(s1.rearrange(PHASE1), Q2).blend(s2.rearrange(PHASE1), Q3)
                    .blend(s3.rearrange(PHASE1), Q4);
            FloatVector d3 = s0.rearrange(PHASE2).blend(s1.rearrange(PHASE2), Q2).blend(s2.rearrange(PHASE2), Q3)
                    .blend(s3.rearrange(PHASE2), Q4);
            FloatVector d4 = s0.rearrange(PHASE3).blend(s1.rearrange(PHASE3), Q2).blend(s2.rearrange(PHASE3), Q3)
                    .blend(s3.rearrange(PHASE3), Q4);
            // column 4t − 1: phase 3 of the tile before (zero before a tile row's first); 4t + 4: phase 0 of the next
            FloatVector d0 = d4.rearrange(PREVIOUS, notFirst);
            FloatVector d5 = p0.rearrange(NEXT, notLast);
            int wo = 6 * r * L;
            // the rows of Bᵀ applied to (d0 .. d5)
            d0.add(d4).sub(d2.mul(2f)).add(d3.sub(d1).mul(1.5f)).intoArray(work, wo);
            d4.sub(d1).add(d2.mul(0.5f)).add(d3.mul(2.5f)).intoArray(work, wo + L);
            d4.add(d1).sub(d2.mul(2.5f)).add(d3.mul(0.5f)).intoArray(work, wo + 2 * L);
            d4.sub(d2).add(d3.sub(d1).mul(2f)).intoArray(work, wo + 3 * L);
            d4.sub(d2).add(d1.sub(d3).mul(0.5f)).intoArray(work, wo + 4 * L);
            d5.add(d1).sub(d2.mul(1.5f)).sub(d3.mul(2f)).add(d4.mul(1.5f)).intoArray(work, wo + 5 * L);
        }
        for (int i2 = 0; i2 < 6; i2++) {
            int o = i2 * L;
            FloatVector d0 = FloatVector.fromArray(F, work, o), d1 = FloatVector.fromArray(F, work, o + 6 * L);
            FloatVector d2 = FloatVector.fromArray(F, work, o + 12 * L), d3 = FloatVector.fromArray(F, work, o + 18 * L);
            FloatVector d4 = FloatVector.fromArray(F, work, o + 24 * L), d5 = FloatVector.fromArray(F, work, o + 30 * L);
            int vo = at + i2 * vstep;
            int st = 6 * vstep;
            d0.add(d4).sub(d2.mul(2f)).add(d3.sub(d1).mul(1.5f)).intoArray(v, vo);
            d4.sub(d1).add(d2.mul(0.5f)).add(d3.mul(2.5f)).intoArray(v, vo + st);
            d4.add(d1).sub(d2.mul(2.5f)).add(d3.mul(0.5f)).intoArray(v, vo + 2 * st);
            d4.sub(d2).add(d3.sub(d1).mul(2f)).intoArray(v, vo + 3 * st);
            d4.sub(d2).add(d1.sub(d3).mul(0.5f)).intoArray(v, vo + 4 * st);
            d5.add(d1).sub(d2.mul(1.5f)).sub(d3.mul(2f)).add(d4.mul(1.5f)).intoArray(v, vo + 5 * st);
        }
    }

    /**
     * {@code Aᵀ M A} of one channel's vector of tiles, plus {@code bias}: {@code M_ξ} at {@code m[ξ·CH·STRIDE + at]}; output
     * {@code (a, b)} of each tile to {@code out[(4a + b)·STRIDE + to]}; the row pass through {@code work}.
     */
    private static void outputs(float[] m, int at, float bias, float[] work, float[] out, int to) {
        int step = CH * STRIDE;
        for (int i2 = 0; i2 < 6; i2++) {
            int o = at + i2 * step;
            FloatVector m0 = FloatVector.fromArray(F, m, o), m1 = FloatVector.fromArray(F, m, o + 6 * step);
            FloatVector m2 = FloatVector.fromArray(F, m, o + 12 * step), m3 = FloatVector.fromArray(F, m, o + 18 * step);
            FloatVector m4 = FloatVector.fromArray(F, m, o + 24 * step), m5 = FloatVector.fromArray(F, m, o + 30 * step);
            int wo = i2 * L;
            // the rows of Aᵀ applied to (m0 .. m5): row a at work[(6a + i')·L]
            FloatVector sum = m1.add(m2), dif = m1.sub(m2);
            m0.add(sum).add(m3).add(m4).intoArray(work, wo);
            dif.add(m3.mul(0.5f)).sub(m4.mul(2f)).intoArray(work, wo + 6 * L);
            sum.add(m3.mul(0.25f)).add(m4.mul(4f)).intoArray(work, wo + 12 * L);
            dif.add(m3.mul(0.125f)).sub(m4.mul(8f)).add(m5).intoArray(work, wo + 18 * L);
        }
        for (int a = 0; a < 4; a++) {
            int o = 6 * a * L;
            FloatVector m0 = FloatVector.fromArray(F, work, o), m1 = FloatVector.fromArray(F, work, o + L);
            FloatVector m2 = FloatVector.fromArray(F, work, o + 2 * L), m3 = FloatVector.fromArray(F, work, o + 3 * L);
            FloatVector m4 = FloatVector.fromArray(F, work, o + 4 * L), m5 = FloatVector.fromArray(F, work, o + 5 * L);
            FloatVector sum = m1.add(m2), dif = m1.sub(m2);
            int oo = 4 * a * STRIDE + to;
            m0.add(sum).add(m3).add(m4).add(bias).intoArray(out, oo);
            dif.add(m3.mul(0.5f)).sub(m4.mul(2f)).add(bias).intoArray(out, oo + STRIDE);
            sum.add(m3.mul(0.25f)).add(m4.mul(4f)).add(bias).intoArray(out, oo + 2 * STRIDE);
            dif.add(m3.mul(0.125f)).sub(m4.mul(8f)).add(m5).add(bias).intoArray(out, oo + 3 * STRIDE);
        }
    }
}
