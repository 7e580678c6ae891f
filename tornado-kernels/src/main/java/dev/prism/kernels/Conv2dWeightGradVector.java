package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static dev.prism.kernels.Conv2dKernels.CIN;
import static dev.prism.kernels.Conv2dKernels.COUT;
import static dev.prism.kernels.Conv2dKernels.DH;
import static dev.prism.kernels.Conv2dKernels.DW;
import static dev.prism.kernels.Conv2dKernels.GROUPS;
import static dev.prism.kernels.Conv2dKernels.H;
import static dev.prism.kernels.Conv2dKernels.KH;
import static dev.prism.kernels.Conv2dKernels.KW;
import static dev.prism.kernels.Conv2dKernels.N;
import static dev.prism.kernels.Conv2dKernels.OH;
import static dev.prism.kernels.Conv2dKernels.OW;
import static dev.prism.kernels.Conv2dKernels.PH;
import static dev.prism.kernels.Conv2dKernels.PW;
import static dev.prism.kernels.Conv2dKernels.SH;
import static dev.prism.kernels.Conv2dKernels.SW;
import static dev.prism.kernels.Conv2dKernels.W;

/**
 * The hand-vectorised JVM variant of {@link Conv2dKernels#backwardWeightLane} (Vector API), run by the
 * JVM backend's parallel mode for stride 1 and groups 1; other geometries run the plain helper, which
 * stays the reference and the TornadoVM input. 3×3 kernels of dilation 1 go to {@link Conv2dWinograd4WeightVector} where
 * its rule accepts them, else to {@link Conv2dWinogradWeightVector} where its rule does.
 *
 * <p>The sum: {@code gw[co,ci,ky,kx] = Σ_{n,oy,ox} gy[n,co,oy,ox]·x[n,ci,oy − ph + ky·dh, ox − pw + kx·dw]}.
 *
 * <p>Layout. A chunk of batch items is copied into zero-padded scratch planes of {@code P = (H + 2·ph)·Wp}
 * floats with rows of {@code Wp = W + 2·pw}, the items one after the other: {@code x} at
 * {@code (iy + ph)·Wp + ix + pw}, {@code gy} at {@code oy·Wp + ox} (zero for {@code ox >= OW} and
 * {@code oy >= OH}). Tap {@code (ky, kx)} then reads {@code x} at {@code q + ky·dh·Wp + kx·dw} for every
 * position {@code q} of {@code gy}: the sum over a chunk is one dot product of two flat runs, with no
 * border tests and no row tails, so narrow rows (8, 16 wide) and small planes fill whole vectors.
 * A zero of the padding multiplies an input value; an infinite input therefore gives NaN where the plain
 * loop gives ±∞.
 *
 * <p>Summation ({@code docs/KERNELS.md}, long sums): each vector lane runs a float sum of fused multiply-adds
 * over at most {@value #RUN} consecutive positions {@code q ≡ lane} (modulo the lane count); at most {@value #RUN}
 * such runs are added up in float (a vector add each), and that sum is added to the lane's double sum; the double
 * sums continue over all chunks in order, the lanes are then added left to right and the total rounded to float
 * once. No float sum has more than {@value #RUN} terms: each level may be off by {@value #RUN}·2⁻²⁴ of its terms'
 * absolute sum, so the result is within 2·{@value #RUN}·2⁻²⁴ of the products' absolute sum, plus the double sums'
 * bound and half an ulp, of the exact value ({@code ReductionAccuracyTest} holds it to that bound and to PyTorch's
 * own error). Float runs take about half the double path's time: twice the lanes per FMA, half the scratch to
 * stream, and the runs' float sum keeps the conversions to double out of the inner steps. The order depends on the
 * geometry and {@link VectorMath#FLOAT}'s width alone: every thread count gives the same bits (each width its
 * own).
 *
 * <p>Micro-kernel: {@code CB} output channels × {@value #TB} terms, a term being one (input channel, tap)
 * pair, so that a 3×3 kernel's 9 taps of consecutive input channels fill the blocks without waste; each
 * step loads {@code CB} {@code gy} vectors and {@value #TB} {@code x} vectors and issues {@code CB·}{@value #TB}
 * FMAs. {@code CB} is 4 with 16 or more float lanes (AVX-512: 24 accumulators of 32 registers) and 2
 * below (AVX2 and NEON have 16 registers). A thread's share of the weight elements is cut into blocks of up
 * to {@code CB} output channels whose element ranges are whole; a channel cut by the share's ends runs alone
 * (the block's other rows read its plane again and are dropped). No vector crosses a method call (see
 * docs/KERNELS.md): a run's float sums leave the micro-kernel through a float array.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use and reused: no allocation in
 * steady state.
 */
final class Conv2dWeightGradVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Output channels per micro-kernel block: 4 where the register file holds 24 accumulators. */
    private static final int CB = L >= 16 ? 4 : 2;
    /** Terms per lane of one float run, and runs per float sum before it is added to the lane's double sum. */
    static final int RUN = 32;
    /** (Input channel, tap) terms per micro-kernel block. */
    static final int TB = 6;
    /** Positions per chunk: a chunk's input planes (32 channels) stay in a 256 KB cache. */
    private static final int SEGMENT = 1024;

    private static final class Scratch {
        float[] gy = new float[0];
        float[] x = new float[0];
        double[] acc = new double[0];
        /** A block's float sums of up to {@value #RUN} runs: {@code CB·TB} vectors, zero between uses. */
        final float[] run = new float[CB * TB * L];
        int[] blocks = new int[0];
        int[] terms = new int[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dWeightGradVector() {
    }

    /** True when {@link #backwardWeightLanes} takes the vector path for this geometry. */
    static boolean vectorises(int[] g) {
        return g[SH] == 1 && g[SW] == 1 && g[GROUPS] == 1;
    }

    /**
     * Lanes {@code [rowFrom, rowTo)} of {@link Conv2dKernels#backwardWeight}, lane {@code l} being the filter
     * row {@code l = (co·Cin + ci)·KH + ky}, its {@code KW} weight elements.
     */
    static void backwardWeightLanes(float[] x, float[] gy, float[] gw, int[] g, int rowFrom, int rowTo) {
        sums(x, gy, gw, g, rowFrom, rowTo, 0, g[N], 0, false);
    }

    /**
     * Lanes {@code [from, to)} of {@link Conv2dKernels#backwardWeightChunks}, lane {@code c·rows + r} being filter row
     * {@code r} over chunk {@code c}'s batch items: each chunk's part of the range as {@link #backwardWeightLanes} over
     * those items, its sums stored as pairs ({@link Conv2dKernels#put}).
     */
    static void backwardWeightChunkLanes(float[] x, float[] gy, float[] partials, int[] g, int chunks, int from, int to) {
        int rows = g[COUT] * (g[CIN] / g[GROUPS]) * g[KH];
        for (int c = from / rows; c < chunks && c * rows < to; c++) {
            int r0 = Math.max(from, c * rows) - c * rows, r1 = Math.min(to, (c + 1) * rows) - c * rows;
            sums(x, gy, partials, g, r0, r1, Conv2dKernels.weightChunk(g[N], chunks, c),
                    Conv2dKernels.weightChunk(g[N], chunks, c + 1), c * rows * g[KW], true);
        }
    }

    /**
     * Filter rows {@code [rowFrom, rowTo)} summed over the batch items {@code [n0, n1)}: element {@code e} to
     * {@code out[base + e]}, rounded to float, or with {@code split} as the pair at {@code 2·(base + e)}
     * ({@link Conv2dKernels#put}).
     */
    private static void sums(float[] x, float[] gy, float[] out, int[] g, int rowFrom, int rowTo, int n0, int n1, int base,
                             boolean split) {
        if (rowFrom >= rowTo || n0 >= n1) {
            return;
        }
        if (!vectorises(g)) {
            for (int l = rowFrom; l < rowTo; l++) {
                Conv2dKernels.backwardWeightSums(x, gy, out, g, l, n0, n1, base + l * g[KW], split);
            }
            return;
        }
        if (Conv2dWinograd4WeightVector.pays(g)) {
            Conv2dWinograd4WeightVector.sums(x, gy, out, g, rowFrom, rowTo, n0, n1, base, split);
            return;
        }
        if (Conv2dWinogradWeightVector.pays(g)) {
            Conv2dWinogradWeightVector.sums(x, gy, out, g, rowFrom, rowTo, n0, n1, base, split);
            return;
        }
        int from = rowFrom * g[KW];
        int to = rowTo * g[KW];
        int nb = n1 - n0, cin = g[CIN], h = g[H], wi = g[W], cout = g[COUT], kh = g[KH], kw = g[KW];
        int ph = g[PH], pw = g[PW], dh = g[DH], dw = g[DW], oh = g[OH], ow = g[OW];
        int taps = kh * kw;
        int per = cin * taps;
        int wp = wi + 2 * pw;
        int plane = (h + 2 * ph) * wp;
        int reach = (kh - 1) * dh * wp + (kw - 1) * dw;
        // batch items per chunk: about SEGMENT positions, at least one item
        int chunk = Math.max(1, Math.min(nb, SEGMENT / plane));
        int span = roundUp(chunk * plane);
        int gyStride = span;
        int xStride = span + reach;
        Scratch s = SCRATCH.get();

        // Blocks of output channels: [co0, nc, lo, hi, first term, accumulator offset] each.
        int coFirst = from / per;
        int coLast = (to - 1) / per;
        int maxBlocks = coLast - coFirst + 1;
        if (s.blocks.length < 6 * maxBlocks) {
            s.blocks = new int[6 * maxBlocks];
        }
        int[] blocks = s.blocks;
        int count = 0;
        int terms = 0;
        int accLen = 0;
        int ciMin = cin;
        int ciMax = 0;
        for (int co = coFirst; co <= coLast; ) {
            int lo = Math.max(from - co * per, 0);
            int hi = Math.min(to - co * per, per);
            int nc = 1;
            if (lo == 0 && hi == per) {
                while (nc < CB && co + nc <= coLast && (co + nc + 1) * per <= to) {
                    nc++;
                }
            }
            int groups = (hi - lo + TB - 1) / TB;
            int b = 6 * count++;
            blocks[b] = co;
            blocks[b + 1] = nc;
            blocks[b + 2] = lo;
            blocks[b + 3] = hi;
            blocks[b + 4] = terms;
            blocks[b + 5] = accLen;
            terms += groups * TB;
            accLen += groups * CB * TB * L;
            ciMin = Math.min(ciMin, lo / taps);
            ciMax = Math.max(ciMax, (hi - 1) / taps);
            co += nc;
        }
        int nco = coLast - coFirst + 1;
        int nci = ciMax - ciMin + 1;
        if (s.gy.length < nco * gyStride) {
            s.gy = new float[nco * gyStride];
        }
        if (s.x.length < nci * xStride) {
            s.x = new float[nci * xStride];
        }
        if (s.acc.length < accLen) {
            s.acc = new double[accLen];
        }
        if (s.terms.length < terms) {
            s.terms = new int[terms];
        }
        float[] gys = s.gy;
        float[] xs = s.x;
        float[] run = s.run;
        double[] acc = s.acc;
        int[] off = s.terms;
        java.util.Arrays.fill(gys, 0, nco * gyStride, 0);
        java.util.Arrays.fill(xs, 0, nci * xStride, 0);
        java.util.Arrays.fill(acc, 0, accLen, 0);
        // each block's terms as x offsets: its elements lo, lo + 1, .. as (input channel, tap); the last
        // group's missing terms read the first term's run and are dropped
        for (int k = 0; k < count; k++) {
            int b = 6 * k;
            int lo = blocks[b + 2], hi = blocks[b + 3], t0 = blocks[b + 4];
            int groups = (hi - lo + TB - 1) / TB;
            for (int j = 0; j < groups * TB; j++) {
                int e = lo + j < hi ? lo + j : lo;
                int ci = e / taps;
                int t = e - ci * taps;
                off[t0 + j] = (ci - ciMin) * xStride + (t / kw) * dh * wp + (t % kw) * dw;
            }
        }

        for (int first = n0; first < n1; first += chunk) {
            int items = Math.min(chunk, n1 - first);
            int end = roundUp(items * plane);
            for (int c = 0; c < nco; c++) {
                int dst = c * gyStride;
                for (int i = 0; i < items; i++) {
                    int src = ((first + i) * cout + coFirst + c) * oh * ow;
                    int d = dst + i * plane;
                    for (int oy = 0; oy < oh; oy++) {
                        System.arraycopy(gy, src + oy * ow, gys, d + oy * wp, ow);
                    }
                }
                // a short last chunk: its rounded end must not see the previous chunk's values
                java.util.Arrays.fill(gys, dst + items * plane, dst + end, 0);
            }
            for (int c = 0; c < nci; c++) {
                int dst = c * xStride;
                for (int i = 0; i < items; i++) {
                    int src = ((first + i) * cin + ciMin + c) * h * wi;
                    int d = dst + i * plane + ph * wp + pw;
                    for (int iy = 0; iy < h; iy++) {
                        System.arraycopy(x, src + iy * wi, xs, d + iy * wp, wi);
                    }
                }
            }
            for (int k = 0; k < count; k++) {
                int b = 6 * k;
                int nc = blocks[b + 1];
                int g0 = (blocks[b] - coFirst) * gyStride;
                int groups = (blocks[b + 3] - blocks[b + 2] + TB - 1) / TB;
                for (int grp = 0; grp < groups; grp++) {
                    int t = blocks[b + 4] + grp * TB;
                    int a = blocks[b + 5] + grp * CB * TB * L;
                    int runs = 0;
                    for (int q = 0; q < end; q += RUN * L) {
                        int q1 = Math.min(end, q + RUN * L);
                        if (CB == 4) {
                            micro4(gys, g0, g0 + Math.min(1, nc - 1) * gyStride, g0 + Math.min(2, nc - 1) * gyStride,
                                    g0 + Math.min(3, nc - 1) * gyStride, xs, off, t, run, q, q1);
                        } else {
                            micro2(gys, g0, g0 + Math.min(1, nc - 1) * gyStride, xs, off, t, run, q, q1);
                        }
                        // at most RUN runs summed in float, then into the double sums
                        if (++runs == RUN || q1 == end) {
                            for (int i = 0; i < CB * TB * L; i++) {
                                acc[a + i] += run[i];
                                run[i] = 0f;
                            }
                            runs = 0;
                        }
                    }
                }
            }
        }

        // results: row c of a block, its j-th element; each sum's lanes added left to right
        for (int k = 0; k < count; k++) {
            int b = 6 * k;
            int co0 = blocks[b], nc = blocks[b + 1], lo = blocks[b + 2], hi = blocks[b + 3], a0 = blocks[b + 5];
            for (int c = 0; c < nc; c++) {
                for (int e = lo; e < hi; e++) {
                    int j = e - lo;
                    int at = a0 + (j / TB) * CB * TB * L + (c * TB + j % TB) * L;
                    double sum = acc[at];
                    for (int i = 1; i < L; i++) {
                        sum += acc[at + i];
                    }
                    Conv2dKernels.put(out, base + (co0 + c) * per + e, sum, split);
                }
            }
        }
    }

    private static int roundUp(int n) {
        return (n + L - 1) / L * L;
    }

    /**
     * 4 output channels ({@code gy} runs at {@code y0 .. y3}) × the 6 terms {@code off[t .. t+6)}: each
     * lane's float sum over positions {@code [q0, q1)}, from zero, added to {@code acc[(c·6 + j)·L + lane]}.
     * One small method, 24 accumulators in registers.
     */
    private static void micro4(float[] gys, int y0, int y1, int y2, int y3, float[] xs, int[] off, int t,
                               float[] acc, int q0, int q1) {
        int o0 = off[t], o1 = off[t + 1], o2 = off[t + 2], o3 = off[t + 3], o4 = off[t + 4], o5 = off[t + 5];
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c04 = FloatVector.zero(F), c05 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c14 = FloatVector.zero(F), c15 = FloatVector.zero(F);
        FloatVector c20 = FloatVector.zero(F), c21 = FloatVector.zero(F);
        FloatVector c22 = FloatVector.zero(F), c23 = FloatVector.zero(F);
        FloatVector c24 = FloatVector.zero(F), c25 = FloatVector.zero(F);
        FloatVector c30 = FloatVector.zero(F), c31 = FloatVector.zero(F);
        FloatVector c32 = FloatVector.zero(F), c33 = FloatVector.zero(F);
        FloatVector c34 = FloatVector.zero(F), c35 = FloatVector.zero(F);
        for (int q = q0; q < q1; q += L) {
            FloatVector g0 = FloatVector.fromArray(F, gys, y0 + q);
            FloatVector g1 = FloatVector.fromArray(F, gys, y1 + q);
            FloatVector g2 = FloatVector.fromArray(F, gys, y2 + q);
            FloatVector g3 = FloatVector.fromArray(F, gys, y3 + q);
            FloatVector v = FloatVector.fromArray(F, xs, o0 + q);
            c00 = g0.fma(v, c00);
            c10 = g1.fma(v, c10);
            c20 = g2.fma(v, c20);
            c30 = g3.fma(v, c30);
            v = FloatVector.fromArray(F, xs, o1 + q);
            c01 = g0.fma(v, c01);
            c11 = g1.fma(v, c11);
            c21 = g2.fma(v, c21);
            c31 = g3.fma(v, c31);
            v = FloatVector.fromArray(F, xs, o2 + q);
            c02 = g0.fma(v, c02);
            c12 = g1.fma(v, c12);
            c22 = g2.fma(v, c22);
            c32 = g3.fma(v, c32);
            v = FloatVector.fromArray(F, xs, o3 + q);
            c03 = g0.fma(v, c03);
            c13 = g1.fma(v, c13);
            c23 = g2.fma(v, c23);
            c33 = g3.fma(v, c33);
            v = FloatVector.fromArray(F, xs, o4 + q);
            c04 = g0.fma(v, c04);
            c14 = g1.fma(v, c14);
            c24 = g2.fma(v, c24);
            c34 = g3.fma(v, c34);
            v = FloatVector.fromArray(F, xs, o5 + q);
            c05 = g0.fma(v, c05);
            c15 = g1.fma(v, c15);
            c25 = g2.fma(v, c25);
            c35 = g3.fma(v, c35);
        }
        FloatVector.fromArray(F, acc, 0).add(c00).intoArray(acc, 0);
        FloatVector.fromArray(F, acc, L).add(c01).intoArray(acc, L);
        FloatVector.fromArray(F, acc, 2 * L).add(c02).intoArray(acc, 2 * L);
        FloatVector.fromArray(F, acc, 3 * L).add(c03).intoArray(acc, 3 * L);
        FloatVector.fromArray(F, acc, 4 * L).add(c04).intoArray(acc, 4 * L);
        FloatVector.fromArray(F, acc, 5 * L).add(c05).intoArray(acc, 5 * L);
        FloatVector.fromArray(F, acc, 6 * L).add(c10).intoArray(acc, 6 * L);
        FloatVector.fromArray(F, acc, 7 * L).add(c11).intoArray(acc, 7 * L);
        FloatVector.fromArray(F, acc, 8 * L).add(c12).intoArray(acc, 8 * L);
        FloatVector.fromArray(F, acc, 9 * L).add(c13).intoArray(acc, 9 * L);
        FloatVector.fromArray(F, acc, 10 * L).add(c14).intoArray(acc, 10 * L);
        FloatVector.fromArray(F, acc, 11 * L).add(c15).intoArray(acc, 11 * L);
        FloatVector.fromArray(F, acc, 12 * L).add(c20).intoArray(acc, 12 * L);
        FloatVector.fromArray(F, acc, 13 * L).add(c21).intoArray(acc, 13 * L);
        FloatVector.fromArray(F, acc, 14 * L).add(c22).intoArray(acc, 14 * L);
        FloatVector.fromArray(F, acc, 15 * L).add(c23).intoArray(acc, 15 * L);
        FloatVector.fromArray(F, acc, 16 * L).add(c24).intoArray(acc, 16 * L);
        FloatVector.fromArray(F, acc, 17 * L).add(c25).intoArray(acc, 17 * L);
        FloatVector.fromArray(F, acc, 18 * L).add(c30).intoArray(acc, 18 * L);
        FloatVector.fromArray(F, acc, 19 * L).add(c31).intoArray(acc, 19 * L);
        FloatVector.fromArray(F, acc, 20 * L).add(c32).intoArray(acc, 20 * L);
        FloatVector.fromArray(F, acc, 21 * L).add(c33).intoArray(acc, 21 * L);
        FloatVector.fromArray(F, acc, 22 * L).add(c34).intoArray(acc, 22 * L);
        FloatVector.fromArray(F, acc, 23 * L).add(c35).intoArray(acc, 23 * L);
    }

    /** {@link #micro4} for 2 output channels: 12 accumulators, for 16-register machines. */
    private static void micro2(float[] gys, int y0, int y1, float[] xs, int[] off, int t, float[] acc, int q0, int q1) {
        int o0 = off[t], o1 = off[t + 1], o2 = off[t + 2], o3 = off[t + 3], o4 = off[t + 4], o5 = off[t + 5];
        FloatVector c00 = FloatVector.zero(F), c01 = FloatVector.zero(F);
        FloatVector c02 = FloatVector.zero(F), c03 = FloatVector.zero(F);
        FloatVector c04 = FloatVector.zero(F), c05 = FloatVector.zero(F);
        FloatVector c10 = FloatVector.zero(F), c11 = FloatVector.zero(F);
        FloatVector c12 = FloatVector.zero(F), c13 = FloatVector.zero(F);
        FloatVector c14 = FloatVector.zero(F), c15 = FloatVector.zero(F);
        for (int q = q0; q < q1; q += L) {
            FloatVector g0 = FloatVector.fromArray(F, gys, y0 + q);
            FloatVector g1 = FloatVector.fromArray(F, gys, y1 + q);
            FloatVector v = FloatVector.fromArray(F, xs, o0 + q);
            c00 = g0.fma(v, c00);
            c10 = g1.fma(v, c10);
            v = FloatVector.fromArray(F, xs, o1 + q);
            c01 = g0.fma(v, c01);
            c11 = g1.fma(v, c11);
            v = FloatVector.fromArray(F, xs, o2 + q);
            c02 = g0.fma(v, c02);
            c12 = g1.fma(v, c12);
            v = FloatVector.fromArray(F, xs, o3 + q);
            c03 = g0.fma(v, c03);
            c13 = g1.fma(v, c13);
            v = FloatVector.fromArray(F, xs, o4 + q);
            c04 = g0.fma(v, c04);
            c14 = g1.fma(v, c14);
            v = FloatVector.fromArray(F, xs, o5 + q);
            c05 = g0.fma(v, c05);
            c15 = g1.fma(v, c15);
        }
        FloatVector.fromArray(F, acc, 0).add(c00).intoArray(acc, 0);
        FloatVector.fromArray(F, acc, L).add(c01).intoArray(acc, L);
        FloatVector.fromArray(F, acc, 2 * L).add(c02).intoArray(acc, 2 * L);
        FloatVector.fromArray(F, acc, 3 * L).add(c03).intoArray(acc, 3 * L);
        FloatVector.fromArray(F, acc, 4 * L).add(c04).intoArray(acc, 4 * L);
        FloatVector.fromArray(F, acc, 5 * L).add(c05).intoArray(acc, 5 * L);
        FloatVector.fromArray(F, acc, 6 * L).add(c10).intoArray(acc, 6 * L);
        FloatVector.fromArray(F, acc, 7 * L).add(c11).intoArray(acc, 7 * L);
        FloatVector.fromArray(F, acc, 8 * L).add(c12).intoArray(acc, 8 * L);
        FloatVector.fromArray(F, acc, 9 * L).add(c13).intoArray(acc, 9 * L);
        FloatVector.fromArray(F, acc, 10 * L).add(c14).intoArray(acc, 10 * L);
        FloatVector.fromArray(F, acc, 11 * L).add(c15).intoArray(acc, 11 * L);
    }
}
