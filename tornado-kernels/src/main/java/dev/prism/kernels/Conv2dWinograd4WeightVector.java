package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.prism.kernels.Conv2dKernels.CIN;
import static dev.prism.kernels.Conv2dKernels.COUT;
import static dev.prism.kernels.Conv2dKernels.H;
import static dev.prism.kernels.Conv2dKernels.W;

/**
 * {@link Conv2dWeightGradVector}'s path for the layers both {@link Conv2dWinograd4Vector#pays} and
 * {@link Conv2dWinogradWeightVector#pays} accept (square 3×3, padding 1, rows of whole vectors holding whole tile rows,
 * at least 16 input and 17 output channels: the models' 32×32 and 16×16 layers at 256 and 512 bits, 8×8 at 256): the weight
 * gradient by Winograd's F(4×4, 3×3) run backwards, with {@link Conv2dWinograd4Vector}'s points and matrices. Each 4×4
 * block of outputs (a tile) adds {@code Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ d B)]G} to the filter's gradient, so {@code gw = Gᵀ M G} with
 * {@code M_ξ[co][ci] = Σ_tiles (A dY Aᵀ)_ξ[co] · (Bᵀ d B)_ξ[ci]}: 36 products per tile and channel pair, 2.25 per output,
 * where {@link Conv2dWinogradWeightVector}'s F(2×2, 3×3) spends 4 and the direct sum 9.
 *
 * <p>How it runs: as {@link Conv2dWinogradWeightVector}, but a block is {@value #NV} vectors of tiles as the forward makes
 * them (a vector is {@code L / (W/4)} whole tile rows of one image, {@link Conv2dWinograd4Vector#transformInput}), the
 * output gradient's 16 values per tile copied channel-last by the same register transposes, and
 * {@code A dY Aᵀ} taken per tile on vectors of output channels. The products, the float runs of at most
 * {@link Conv2dWinogradWeightVector#RUN} tiles, the float sums of at most that many runs, the double sums and
 * {@code Gᵀ M G} in double rounded once are {@link Conv2dWinogradWeightVector}'s; the runs are cut at fixed tile indices,
 * so the bits depend on the geometry and the vector width alone, never on the thread count. The transforms' larger
 * coefficients (up to 8 in {@code A}, 5/2 in {@code B}) weigh the float runs' rounding more than F(2×2)'s do; on their
 * inputs {@code Conv2dBackwardVectorTest} (x around 1, gy around ½) and {@code ReductionAccuracyTest} (against a
 * compensated float64 sum and PyTorch's own error) hold it to the same bound as the direct float runs.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use: no allocation in steady state.
 */
final class Conv2dWinograd4WeightVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Input channels per micro-kernel block, as {@link Conv2dWinogradWeightVector}'s. */
    private static final int CI = L >= 16 ? 8 : 4;
    private static final int RUN = Conv2dWinogradWeightVector.RUN;
    /** Vectors of tiles per block: {@link Conv2dWinogradVector#BLOCK} tiles, so that its {@code STRIDE} holds them. */
    private static final int NV = 4;
    private static final int BLOCK = NV * L;
    private static final int STRIDE = Conv2dWinogradVector.STRIDE;
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
    private static final int DL = D.length();
    /** The rows of {@code G} ({@link Conv2dWinograd4Vector#G}). */
    private static final double[][] G = Conv2dWinograd4Vector.G;

    private static final class Scratch {
        float[] v = new float[0];
        float[] y = new float[0];
        float[] sums = new float[0];
        double[] total = new double[0];
        float[] part = new float[0];
        /** Three vectors of output channels' filter-row values ({@code kx} by {@code kx}), on their way to the output. */
        final double[] rows = new double[3 * DL];
        final float[] work = new float[36 * L];
        final float[] tr = new float[L * L];
        final int[] groupN = new int[NV];
        final int[] groupY = new int[NV];
        /** {@link Conv2dWinograd4Vector#sources}' result, and the block's vectors' sources side by side. */
        final int[] src = new int[8];
        final int[] sources = new int[8 * NV];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dWinograd4WeightVector() {
    }

    /**
     * True when {@link Conv2dWeightGradVector} takes this path: a geometry both {@link Conv2dWinograd4Vector#pays} (whose
     * input transform this path runs) and {@link Conv2dWinogradWeightVector#pays} accept. The rule depends on the
     * geometry and the vector width alone.
     */
    static boolean pays(int[] g) {
        return Conv2dWinograd4Vector.pays(g) && Conv2dWinogradWeightVector.pays(g);
    }

    /**
     * Filter rows {@code [rowFrom, rowTo)} (row {@code (co·Cin + ci)·3 + ky}) summed over the batch items {@code [n0, n1)}:
     * element {@code e} of filter row {@code l} ({@code e = 3l + kx}) to {@code out[base + e]}, rounded to float, or with
     * {@code split} as the pair at {@code 2·(base + e)} ({@link Conv2dKernels#put}).
     */
    static void sums(float[] x, float[] gy, float[] out, int[] g, int rowFrom, int rowTo, int n0, int n1, int base,
                     boolean split) {
        int cin = g[CIN], w = g[W];
        int coA = rowFrom / (3 * cin), coB = (rowTo - 1) / (3 * cin);
        int nco = coB - coA + 1;
        int perKernel = nco <= L ? L : 2 * L;
        int coPad = (nco + perKernel - 1) / perKernel * perKernel;
        int ciPad = (cin + CI - 1) / CI * CI;
        Scratch s = scratch(ciPad, coPad);
        int vstep = Conv2dWinogradVector.positionStride(ciPad);
        int ytile = tileStride(coPad);
        int sstep = ciPad * coPad + 16;
        java.util.Arrays.fill(s.sums, 0, 36 * sstep, 0f);
        java.util.Arrays.fill(s.total, 0, 36 * sstep, 0.0);
        // the padding channels' rows of V, which no transform writes, are zero
        for (int xi = 0; xi < 36; xi++) {
            for (int c = cin; c < ciPad; c++) {
                java.util.Arrays.fill(s.v, xi * vstep + c * STRIDE, xi * vstep + c * STRIDE + BLOCK, 0f);
            }
        }
        int rows = L / (w / 4);
        int tileRows = w / 4;
        // a vector holding more tile rows than an image (8×8 at 256 bits) takes the next images' too
        int span = Math.max(1, rows / tileRows);
        int runs = 0;
        int k = 0;
        for (int n = n0; n < n1; n += span) {
            for (int ty = 0; ty < tileRows; ty += rows) {
                s.groupN[k] = n;
                s.groupY[k] = ty;
                if (++k == NV) {
                    runs = block(x, gy, g, s, k, coA, nco, ciPad, coPad, perKernel, vstep, ytile, sstep, runs, n1);
                    k = 0;
                }
            }
        }
        if (k > 0) {
            block(x, gy, g, s, k, coA, nco, ciPad, coPad, perKernel, vstep, ytile, sstep, runs, n1);
        }
        Conv2dWinogradWeightVector.flush(s.sums, s.total, 36 * sstep);
        // gw = Gᵀ M G per (co, ci), in double, rounded once; only the lanes [rowFrom, rowTo) are written. DL consecutive
        // output channels' M lie side by side (at ci·coPad + co − coA), so a vector of them takes the scalar row's
        // operations lane by lane, the same bits; rows at the range's ends one at a time
        double[] m = s.total;
        double[] t = s.rows;
        for (int co0 = coA; co0 <= coB; co0 += DL) {
            for (int ci = 0; ci < cin; ci++) {
                for (int ky = 0; ky < 3; ky++) {
                    int first = (co0 * cin + ci) * 3 + ky, last = ((co0 + DL - 1) * cin + ci) * 3 + ky;
                    if (co0 + DL - 1 > coB || first < rowFrom || last >= rowTo) {
                        for (int co = co0; co < co0 + DL && co <= coB; co++) {
                            int l = (co * cin + ci) * 3 + ky;
                            if (l >= rowFrom && l < rowTo) {
                                filterRow(m, out, ci * coPad + co - coA, ky, sstep, base + 3 * l, split);
                            }
                        }
                        continue;
                    }
                    int at = ci * coPad + co0 - coA;
                    DoubleVector r0 = DoubleVector.zero(D), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0;
                    for (int i = 0; i < 6; i++) {
                        double gi = G[i][ky];
                        if (gi == 0) {
                            continue;
                        }
                        int b = 6 * i * sstep + at;
                        r0 = r0.add(DoubleVector.fromArray(D, m, b).mul(gi));
                        r1 = r1.add(DoubleVector.fromArray(D, m, b + sstep).mul(gi));
                        r2 = r2.add(DoubleVector.fromArray(D, m, b + 2 * sstep).mul(gi));
                        r3 = r3.add(DoubleVector.fromArray(D, m, b + 3 * sstep).mul(gi));
                        r4 = r4.add(DoubleVector.fromArray(D, m, b + 4 * sstep).mul(gi));
                        r5 = r5.add(DoubleVector.fromArray(D, m, b + 5 * sstep).mul(gi));
                    }
                    for (int kx = 0; kx < 3; kx++) {
                        r0.mul(G[0][kx]).add(r1.mul(G[1][kx])).add(r2.mul(G[2][kx])).add(r3.mul(G[3][kx]))
                                .add(r4.mul(G[4][kx])).add(r5.mul(G[5][kx])).intoArray(t, kx * DL);
                    }
                    for (int d = 0; d < DL; d++) {
                        int o = base + 3 * (first + 3 * cin * d);
                        for (int kx = 0; kx < 3; kx++) {
                            Conv2dKernels.put(out, o + kx, t[kx * DL + d], split);
                        }
                    }
                }
            }
        }
    }

    /**
     * One filter row's {@code gw[ky][·] = Σ_j (Σ_i G[i][ky]·M_{6i+j})·G[j][kx]} from the double sums at
     * {@code m[ξ·sstep + at]}, in double, to {@code out[o + kx]} ({@link Conv2dKernels#put}).
     */
    private static void filterRow(double[] m, float[] out, int at, int ky, int sstep, int o, boolean split) {
        double r0 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0, r5 = 0;
        for (int i = 0; i < 6; i++) {
            double gi = G[i][ky];
            if (gi == 0) {
                continue;
            }
            int b = 6 * i * sstep + at;
            r0 += gi * m[b];
            r1 += gi * m[b + sstep];
            r2 += gi * m[b + 2 * sstep];
            r3 += gi * m[b + 3 * sstep];
            r4 += gi * m[b + 4 * sstep];
            r5 += gi * m[b + 5 * sstep];
        }
        for (int kx = 0; kx < 3; kx++) {
            double t = r0 * G[0][kx] + r1 * G[1][kx] + r2 * G[2][kx] + r3 * G[3][kx] + r4 * G[4][kx] + r5 * G[5][kx];
            Conv2dKernels.put(out, o + kx, t, split);
        }
    }

    /**
     * One block of {@code vectors} vectors of tiles: both transforms, then the products in float runs; {@code runs} float
     * runs since the last flush before it, returns the count after it.
     */
    private static int block(float[] x, float[] gy, int[] g, Scratch s, int vectors, int coA, int nco, int ciPad, int coPad,
                             int perKernel, int vstep, int ytile, int sstep, int runs, int nEnd) {
        int cin = g[CIN], h = g[H], w = g[W];
        for (int q = 0; q < vectors; q++) {
            Conv2dWinograd4Vector.sources(s.groupN[q], s.groupY[q], w, nEnd, s.src);
            System.arraycopy(s.src, 0, s.sources, 8 * q, 8);
        }
        for (int ci = 0; ci < cin; ci++) {
            for (int q = 0; q < vectors; q++) {
                Conv2dWinograd4Vector.transformInput(x, ci, cin, h, w, s.sources, 8 * q, s.work, s.v,
                        ci * STRIDE + q * L, vstep, Conv2dWinograd4Vector.follows(s.groupN, s.groupY, q, w));
            }
        }
        transformGradient(gy, g, s, vectors, coA, nco, coPad, ytile, nEnd);
        int tiles = vectors * L;
        for (int t0 = 0; t0 < tiles; t0 += RUN) {
            int t1 = Math.min(tiles, t0 + RUN);
            for (int xi = 0; xi < 36; xi++) {
                for (int c = 0; c < ciPad; c += CI) {
                    for (int q = 0; q < coPad; q += perKernel) {
                        int vb = xi * vstep + c * STRIDE, yb = xi * coPad + q, sb = xi * sstep + c * coPad + q;
                        if (perKernel == L) {
                            Conv2dWinogradWeightVector.product1(s.v, vb, s.y, yb, ytile, t0, t1, s.sums, sb, coPad);
                        } else if (CI == 8) {
                            Conv2dWinogradWeightVector.product82(s.v, vb, s.y, yb, ytile, t0, t1, s.sums, sb, coPad);
                        } else {
                            Conv2dWinogradWeightVector.product42(s.v, vb, s.y, yb, ytile, t0, t1, s.sums, sb, coPad);
                        }
                    }
                }
            }
            if (++runs == RUN) {
                Conv2dWinogradWeightVector.flush(s.sums, s.total, 36 * sstep);
                runs = 0;
            }
        }
        return runs;
    }

    private static Scratch scratch(int ciPad, int coPad) {
        Scratch s = SCRATCH.get();
        int v = 36 * Conv2dWinogradVector.positionStride(ciPad);
        if (s.v.length < v) {
            s.v = new float[v];
        }
        int y = BLOCK * tileStride(coPad) + L;
        if (s.y.length < y) {
            s.y = new float[y];
        }
        int sums = 36 * (ciPad * coPad + 16);
        if (s.sums.length < sums) {
            s.sums = new float[sums];
            s.total = new double[sums];
        }
        if (s.part.length < 16 * BLOCK * coPad) {
            s.part = new float[16 * BLOCK * coPad];
        }
        return s;
    }

    /** Floats between two tiles of the output gradient's transform: 36 positions of {@code coPad} channels, a cache line more. */
    private static int tileStride(int coPad) {
        return 36 * coPad + 16;
    }

    /**
     * {@code Y'_ξ = A dY Aᵀ} of a block's tiles, output channels {@code [coA, coA + nco)} at
     * {@code y[tile·tileStride(coPad) + ξ·coPad + (co − coA)]}, one lane per output channel, zero past {@code nco}. The
     * block's output gradient is first copied channel-last, {@code part[(tile·16 + 4a + b)·coPad + co − coA]} for the
     * tile's output {@code (a, b)}: by vectors of L channels transposed in registers
     * ({@link Conv2dWinogradWeightVector#transposeHead}), the channels past the last whole vector of them by scalar copies.
     * Tile {@code q·L + ρ·T + t} is vector {@code q}'s tile {@code t} of its tile row {@code ρ}, as the input transform's
     * lanes.
     */
    private static void transformGradient(float[] gy, int[] g, Scratch s, int vectors, int coA, int nco, int coPad, int ytile,
                                          int nEnd) {
        int cout = g[COUT], w = g[W];
        int per = w / 4, rows = L / per;
        int tiles = vectors * L;
        int plane = w * w;
        float[] part = s.part, tr = s.tr;
        int byVectors = nco / L * L;
        // a vector's tile rows past the last image (8×8 at 256 bits, an odd count of images) take a zero gradient
        boolean missing = s.groupN[vectors - 1] + (s.groupY[vectors - 1] + rows - 1) / per >= nEnd;
        if (byVectors < coPad || missing) {
            java.util.Arrays.fill(part, 0, 16 * tiles * coPad, 0f);
        }
        for (int q = 0; q < vectors; q++) {
            for (int rho = 0; rho < rows; rho++) {
                int t = s.groupY[q] + rho;
                int n = s.groupN[q] + t / per;
                if (n >= nEnd) {
                    continue;
                }
                int tileBase = q * L + rho * per;
                for (int a = 0; a < 4; a++) {
                    int oy = 4 * (t % per) + a;
                    for (int c0 = 0; c0 < byVectors; c0 += L) {
                        for (int m0 = 0; m0 < w; m0 += L) {
                            Conv2dWinogradWeightVector.transposeHead(gy, ((n * cout + coA + c0) * w + oy) * w + m0, plane, tr);
                            for (int i = 0; i < L; i += 2) {
                                // column j = m0 + i (even) and j + 1: outputs (a, j mod 4) and (a, j mod 4 + 1) of one tile
                                int j = m0 + i;
                                int at = ((tileBase + (j >> 2)) * 16 + 4 * a + (j & 3)) * coPad + c0;
                                Conv2dWinogradWeightVector.transposeTail(tr, i, part, at, coPad);
                            }
                        }
                    }
                    for (int c = byVectors; c < nco; c++) {
                        int src = ((n * cout + coA + c) * w + oy) * w;
                        for (int j = 0; j < w; j++) {
                            part[((tileBase + (j >> 2)) * 16 + 4 * a + (j & 3)) * coPad + c] = gy[src + j];
                        }
                    }
                }
            }
        }
        float[] y = s.y, work = s.work;
        for (int tile = 0; tile < tiles; tile++) {
            for (int q = 0; q < coPad; q += L) {
                int i = tile * 16 * coPad + q;
                // A dY, column b by column b: row k of A applied to the column's (d0, d1, d2, d3), to work[(4k + b)·L]
                for (int b = 0; b < 4; b++) {
                    FloatVector d0 = FloatVector.fromArray(F, part, i + b * coPad);
                    FloatVector d1 = FloatVector.fromArray(F, part, i + (4 + b) * coPad);
                    FloatVector d2 = FloatVector.fromArray(F, part, i + (8 + b) * coPad);
                    FloatVector d3 = FloatVector.fromArray(F, part, i + (12 + b) * coPad);
                    // A's rows: (1 0 0 0), (1 1 1 1), (1 −1 1 −1), (1 ½ ¼ ⅛), (1 −2 4 −8), (0 0 0 1)
                    FloatVector even = d0.add(d2), odd = d1.add(d3);
                    d0.intoArray(work, b * L);
                    even.add(odd).intoArray(work, (4 + b) * L);
                    even.sub(odd).intoArray(work, (8 + b) * L);
                    d3.mul(0.5f).add(d2).mul(0.5f).add(d1).mul(0.5f).add(d0).intoArray(work, (12 + b) * L);
                    d3.mul(-2f).add(d2).mul(-2f).add(d1).mul(-2f).add(d0).intoArray(work, (16 + b) * L);
                    d3.intoArray(work, (20 + b) * L);
                }
                // then Aᵀ on the right: row k's four columns (e0 .. e3) give positions 6k .. 6k + 5
                int o = tile * ytile + q;
                for (int r = 0; r < 6; r++) {
                    FloatVector e0 = FloatVector.fromArray(F, work, 4 * r * L);
                    FloatVector e1 = FloatVector.fromArray(F, work, (4 * r + 1) * L);
                    FloatVector e2 = FloatVector.fromArray(F, work, (4 * r + 2) * L);
                    FloatVector e3 = FloatVector.fromArray(F, work, (4 * r + 3) * L);
                    FloatVector even = e0.add(e2), odd = e1.add(e3);
                    int p = o + 6 * r * coPad;
                    e0.intoArray(y, p);
                    even.add(odd).intoArray(y, p + coPad);
                    even.sub(odd).intoArray(y, p + 2 * coPad);
                    e3.mul(0.5f).add(e2).mul(0.5f).add(e1).mul(0.5f).add(e0).intoArray(y, p + 3 * coPad);
                    e3.mul(-2f).add(e2).mul(-2f).add(e1).mul(-2f).add(e0).intoArray(y, p + 4 * coPad);
                    e3.intoArray(y, p + 5 * coPad);
                }
            }
        }
    }
}
