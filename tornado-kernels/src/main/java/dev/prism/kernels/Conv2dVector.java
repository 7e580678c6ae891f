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
import static dev.prism.kernels.Conv2dKernels.OH;
import static dev.prism.kernels.Conv2dKernels.OW;
import static dev.prism.kernels.Conv2dKernels.PH;
import static dev.prism.kernels.Conv2dKernels.PW;
import static dev.prism.kernels.Conv2dKernels.SH;
import static dev.prism.kernels.Conv2dKernels.SW;
import static dev.prism.kernels.Conv2dKernels.W;

/**
 * The hand-vectorised JVM variant of {@link Conv2dKernels#forwardRow} (Vector API), run by the JVM
 * backend's parallel mode; the plain loops stay the reference and the TornadoVM input.
 *
 * <p>It computes the same outputs from the same terms, each output summed in the reference's order,
 * ascending {@code (ci, ky, kx)} from 0, but every term is a fused multiply-add (one rounding instead of
 * two), so it agrees with the reference within the shared 1e-5 tolerance rather than bit for bit. It
 * serves horizontal stride 1 and groups 1 (every 3×3 and 1×1 layer of the models); other geometries run
 * the plain helper. 3×3 kernels of stride 1 and dilation 1 go to {@link Conv2dWinograd4Vector} where it applies, else to
 * {@link Conv2dWinogradVector}.
 *
 * <p>Why it looks like this (AMD EPYC Zen 3, AVX2, measured on the 64→64 3×3 case on 64×64):
 * <ul>
 *   <li>A lane range is cut into rectangles of output channels × output rows. For each, the input rows
 *       they read are copied once into a zero-padded band, laid out {@code [row][ci][column]}, so the
 *       taps near the border need no tests and the reduction walks a few regular streams (the
 *       {@code [ci][row]} order of the input, one plane apart per channel, ran 10% slower).</li>
 *   <li>The micro-kernel keeps 2 output channels × 4 vectors of output columns in 8 registers and walks
 *       the {@code Cin·KH·KW} terms as one loop over a table of band offsets: one iteration loads 4 input
 *       vectors, broadcasts 2 weights and issues 8 FMAs. Broadcasts from memory run at about one per
 *       cycle on this core, so the kernel broadcasts the operand it reuses most. Writing the 9 taps out
 *       by hand made C2 hoist every load to the top of the loop and spill the accumulators. Its 4 vectors
 *       are 4L columns of one row (L, the lanes of {@link VectorMath#FLOAT}), or, for rows of one or two
 *       vectors, the same columns of 4 or 2 consecutive output rows: with fewer than 4 chains per channel
 *       each FMA would wait for the one before (at 512 bits the models' 32-wide rows are two vectors).</li>
 *   <li>With 16 float lanes (512 bits, 32 registers) the block is 4 output channels × 4 vectors: 16
 *       accumulators, 4 input loads and 4 broadcasts per 16 FMAs; the pair's 6 loads per 8 FMAs left the
 *       FMA units waiting on the loads (Intel Xeon, AVX-512: see the commit that added it).</li>
 * </ul>
 * Each thread keeps its scratch (band, packed weights, offset table) in a thread-local, grown on first
 * use and reused: no allocation in steady state.
 */
final class Conv2dVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Vectors of output columns per micro-kernel block. */
    private static final int NV = 4;
    /** Output channels per micro-kernel block: 4 with 16 float lanes (32 registers), else 2. */
    private static final int CH = L >= 16 ? 4 : 2;
    /** The L2 cache a pass should stay within (512 KiB per core on the machines measured). */
    private static final int L2_BYTES = 512 * 1024;

    private static final class Scratch {
        float[] band = new float[0];
        float[] weights = new float[0];
        int[] offsets = new int[0];
        float[] tail = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private Conv2dVector() {
    }

    /** True when {@link #forwardRows} takes the vector path for this geometry. */
    static boolean vectorises(int[] g) {
        return g[SW] == 1 && g[GROUPS] == 1;
    }

    /**
     * Lanes {@code [from, to)} of {@link Conv2dKernels#forward}, lane {@code l} being the output row
     * {@code (nco, oy) = (l / OH, l % OH)}, as {@link Conv2dKernels#forwardRow} computes them.
     */
    static void forwardRows(float[] x, float[] w, float[] b, float[] y, int[] g, int from, int to) {
        int oh = g[OH];
        if (from >= to) {
            return;
        }
        if (!vectorises(g)) {
            for (int l = from; l < to; l++) {
                Conv2dKernels.forwardRow(x, w, b, y, g, l / oh, l % oh);
            }
            return;
        }
        if (Conv2dWinograd4Vector.pays(g)) {
            Conv2dWinograd4Vector.forwardRows(x, w, b, y, g, from, to);
            return;
        }
        if (Conv2dWinogradVector.pays(g)) {
            Conv2dWinogradVector.forwardRows(x, w, b, y, g, from, to);
            return;
        }
        Scratch s = SCRATCH.get();
        int cout = g[COUT];
        // The lanes of one output channel are consecutive rows; group channels with the same row range
        // and batch item into rectangles.
        int nco = from / oh;
        int last = (to - 1) / oh;
        while (nco <= last) {
            int oy0 = nco == from / oh ? from % oh : 0;
            int oy1 = nco == last ? (to - 1) % oh + 1 : oh;
            int end = nco + 1;
            while (end <= last && end / cout == nco / cout && (end == last ? (to - 1) % oh + 1 : oh) == oy1 && oy0 == 0) {
                end++;
            }
            rectangle(x, w, y, g, s, nco / cout, nco % cout, end - nco, oy0, oy1);
            // the bias last, as the plain loop adds it, while the rectangle's outputs are still in cache
            int ow = g[OW];
            for (int c = nco; c < end; c++) {
                float bias = b[c % cout];
                int hi = (c * oh + oy1) * ow;
                for (int i = (c * oh + oy0) * ow; i < hi; i++) {
                    y[i] += bias;
                }
            }
            nco = end;
        }
    }

    /** Output channels {@code [co0, co0 + nc)} of batch item {@code n}, rows {@code [oy0, oy1)}. */
    private static void rectangle(float[] x, float[] w, float[] y, int[] g, Scratch s, int n, int co0, int nc, int oy0, int oy1) {
        int cin = g[CIN], h = g[H], wi = g[W], cout = g[COUT], kh = g[KH], kw = g[KW];
        int sh = g[SH], ph = g[PH], pw = g[PW], dh = g[DH], dw = g[DW];
        int oh = g[OH], ow = g[OW];
        int vectors = (ow + L - 1) / L;
        int wp = vectors * L + (kw - 1) * dw;
        int iy0 = oy0 * sh - ph;
        int rows = (oy1 - 1 - oy0) * sh + (kh - 1) * dh + 1;
        int rowStride = cin * wp;
        // The last block of NV vectors may read up to NV·L columns past a row start: one spare row.
        int bandSize = (rows + 1) * rowStride;
        if (s.band.length < bandSize) {
            s.band = new float[bandSize];
        }
        float[] band = s.band;
        for (int r = 0; r < rows; r++) {
            int iy = iy0 + r;
            for (int ci = 0; ci < cin; ci++) {
                int b = (r * cin + ci) * wp;
                if (iy < 0 || iy >= h) {
                    java.util.Arrays.fill(band, b, b + wp, 0f);
                    continue;
                }
                // band column px holds input column px − pw
                int lo = Math.min(pw, wp);
                int hi = Math.min(wp, pw + wi);
                java.util.Arrays.fill(band, b, b + lo, 0f);
                if (hi > lo) {
                    System.arraycopy(x, ((n * cin + ci) * h + iy) * wi + (lo - pw), band, b + lo, hi - lo);
                }
                java.util.Arrays.fill(band, b + Math.max(lo, hi), b + wp, 0f);
            }
        }
        java.util.Arrays.fill(band, rows * rowStride, bandSize, 0f);

        int taps = kh * kw;
        int red = cin * taps;
        if (s.offsets.length < red) {
            s.offsets = new int[red];
        }
        int[] offsets = s.offsets;
        for (int ci = 0; ci < cin; ci++) {
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
                    offsets[ci * taps + ky * kw + kx] = (ky * dh * cin + ci) * wp + kx * dw;
                }
            }
        }
        // Weights of each block of CH output channels interleaved: [block][term][CH]; a short last block
        // repeats its last channel, whose extra results go to a spare span of tail and are dropped.
        int blocks = (nc + CH - 1) / CH;
        if (s.weights.length < blocks * red * CH) {
            s.weights = new float[blocks * red * CH];
        }
        float[] wq = s.weights;
        for (int p = 0; p < blocks; p++) {
            int dst = p * red * CH;
            for (int j = 0; j < CH; j++) {
                int co = Math.min(co0 + p * CH + j, co0 + nc - 1);
                for (int r = 0; r < red; r++) {
                    wq[dst + r * CH + j] = w[co * red + r];
                }
            }
        }

        // Cache blocking: one pass of a micro-kernel reads, for its NV·L columns, every (ci, ky) input
        // row segment; passes over a block of input channels are repeated for every block of output
        // channels, the partial sums parked in y in between (a float stored and reloaded is the same float,
        // so the order of the terms does not change). The block is sized for the L2 cache: sized for L1
        // (27 of the 64 channels) it measured 5.6 ms against 4.5 ms for all 64 (one thread, 64→64 3×3 on
        // 64×64): the L2 keeps the loads fed, and parking and reloading the sums cost more.
        int segment = kh * (NV * L + (kw - 1) * dw + 16) * Float.BYTES;
        int cinBlock = Math.max(1, Math.min(cin, L2_BYTES / 2 / segment));
        int plane = oh * ow;
        int span = NV * L;
        // tail: channel j of a block at [j·span, (j+1)·span) when its results go through scratch, then the
        // spare span
        int spare = CH * span;
        if (s.tail.length < spare + span) {
            s.tail = new float[spare + span];
        }
        float[] tail = s.tail;
        // Rows of one or two vectors go `group` rows per micro-kernel, so that it still holds NV vectors per
        // channel (with one or two, its FMA chains would wait on each other: at 512 bits the models' 32-wide
        // rows are two vectors).
        int group = vectors == 1 || vectors == 2 ? NV / vectors : 1;
        for (int cb = 0; cb < cin; cb += cinBlock) {
            int r0 = cb * taps;
            int r1 = Math.min(cin, cb + cinBlock) * taps;
            boolean acc = cb > 0;
            for (int oy = oy0; oy < oy1; ) {
                int rowBase = (oy - oy0) * sh * rowStride;
                if (group > 1 && oy + group <= oy1) {
                    // NV vectors over `group` rows of 1 or 2 vectors each: the rows' band segments lie one
                    // band row (sh·rowStride) apart, their outputs ow apart, contiguous when ow fills the vectors
                    int d = sh * rowStride;
                    int o1 = vectors == 2 ? L : d, o2 = vectors == 2 ? d : 2 * d, o3 = vectors == 2 ? d + L : 3 * d;
                    int stride = vectors * L;
                    for (int p = 0; p < blocks; p++) {
                        int first = ((n * cout + co0 + p * CH) * oh + oy) * ow;
                        int valid = Math.min(CH, nc - p * CH);
                        int wo = p * red * CH;
                        if (ow == stride) {
                            run(band, wq, wo, offsets, r0, r1, rowBase, o1, o2, o3, y, first, plane, valid, tail, spare, acc);
                        } else {
                            // row k of the group at [k·vectors·L, ..) of the channel's span of tail
                            for (int j = 0; j < valid; j++) {
                                for (int k = 0; acc && k < group; k++) {
                                    System.arraycopy(y, first + j * plane + k * ow, tail, j * span + k * stride, ow);
                                }
                            }
                            run(band, wq, wo, offsets, r0, r1, rowBase, o1, o2, o3, tail, 0, span, CH, tail, spare, acc);
                            for (int j = 0; j < valid; j++) {
                                for (int k = 0; k < group; k++) {
                                    System.arraycopy(tail, j * span + k * stride, y, first + j * plane + k * ow, ow);
                                }
                            }
                        }
                    }
                    oy += group;
                    continue;
                }
                for (int ox = 0; ox < vectors * L; ox += span) {
                    int width = Math.min(span, vectors * L - ox);
                    int cols = Math.min(width, ow - ox);
                    for (int p = 0; p < blocks; p++) {
                        int first = ((n * cout + co0 + p * CH) * oh + oy) * ow + ox;
                        int valid = Math.min(CH, nc - p * CH);
                        int wo = p * red * CH;
                        int base = rowBase + ox;
                        if (cols == span) {
                            // whole vectors straight into y
                            run(band, wq, wo, offsets, r0, r1, base, L, 2 * L, 3 * L, y, first, plane, valid, tail, spare, acc);
                        } else {
                            // a row's last columns: through the channels' spans of tail
                            for (int j = 0; acc && j < valid; j++) {
                                System.arraycopy(y, first + j * plane, tail, j * span, cols);
                            }
                            if (width == span) {
                                run(band, wq, wo, offsets, r0, r1, base, L, 2 * L, 3 * L, tail, 0, span, CH, tail, spare, acc);
                            } else {
                                for (int v = 0; v < width; v += L) {
                                    run1(band, wq, wo, offsets, r0, r1, base + v, tail, v, span, tail, acc);
                                }
                            }
                            for (int j = 0; j < valid; j++) {
                                System.arraycopy(tail, j * span, y, first + j * plane, cols);
                            }
                        }
                    }
                }
                oy++;
            }
        }
    }

    /**
     * The micro-kernel for one block of {@code CH} output channels: channel {@code j < valid} at
     * {@code y[first + j·chStride ..]}, the others into the spare span of {@code tail}.
     */
    private static void run(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base, int o1, int o2, int o3,
                            float[] y, int first, int chStride, int valid, float[] tail, int spare, boolean acc) {
        if (CH == 4) {
            block44(band, wts, wo, off, r0, r1, base, o1, o2, o3, y, first,
                    valid > 1 ? y : tail, valid > 1 ? first + chStride : spare,
                    valid > 2 ? y : tail, valid > 2 ? first + 2 * chStride : spare,
                    valid > 3 ? y : tail, valid > 3 ? first + 3 * chStride : spare, acc);
        } else {
            block4(band, wts, wo, off, r0, r1, base, o1, o2, o3, y, first,
                    valid > 1 ? y : tail, valid > 1 ? first + chStride : spare, acc);
        }
    }

    /** One vector of columns of every channel of a block, channel {@code j} at {@code y[at + j·chStride]}. */
    private static void run1(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base,
                             float[] y, int at, int chStride, float[] tail, boolean acc) {
        if (CH == 4) {
            block14(band, wts, wo, off, r0, r1, base, y, at, chStride, acc);
        } else {
            block1(band, wts, wo, off, r0, r1, base, y, at, y, at + chStride, acc);
        }
    }

    /**
     * {@link #block4} for four output channels, for 32-register machines: 16 accumulators, and per term
     * 4 input loads and 4 weight broadcasts for 16 FMAs (the pair's 6 loads for 8 FMAs left the 512-bit
     * FMA units waiting on the loads). Weights {@code wts[wo + 4r + j]}. Also {@link GemmVector}'s micro-kernel for four
     * rows of C over a copied panel of B.
     */
    static void block44(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base, int o1, int o2, int o3,
                                float[] ya, int at, float[] yb, int bt, float[] yc, int ct, float[] yd, int dt, boolean acc) {
        FloatVector a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3;
        if (acc) {
            a0 = FloatVector.fromArray(F, ya, at);
            a1 = FloatVector.fromArray(F, ya, at + L);
            a2 = FloatVector.fromArray(F, ya, at + 2 * L);
            a3 = FloatVector.fromArray(F, ya, at + 3 * L);
            b0 = FloatVector.fromArray(F, yb, bt);
            b1 = FloatVector.fromArray(F, yb, bt + L);
            b2 = FloatVector.fromArray(F, yb, bt + 2 * L);
            b3 = FloatVector.fromArray(F, yb, bt + 3 * L);
            c0 = FloatVector.fromArray(F, yc, ct);
            c1 = FloatVector.fromArray(F, yc, ct + L);
            c2 = FloatVector.fromArray(F, yc, ct + 2 * L);
            c3 = FloatVector.fromArray(F, yc, ct + 3 * L);
            d0 = FloatVector.fromArray(F, yd, dt);
            d1 = FloatVector.fromArray(F, yd, dt + L);
            d2 = FloatVector.fromArray(F, yd, dt + 2 * L);
            d3 = FloatVector.fromArray(F, yd, dt + 3 * L);
        } else {
            a0 = FloatVector.zero(F);
            a1 = a0;
            a2 = a0;
            a3 = a0;
            b0 = a0;
            b1 = a0;
            b2 = a0;
            b3 = a0;
            c0 = a0;
            c1 = a0;
            c2 = a0;
            c3 = a0;
            d0 = a0;
            d1 = a0;
            d2 = a0;
            d3 = a0;
        }
        for (int r = r0; r < r1; r++) {
            int i = base + off[r];
            FloatVector x0 = FloatVector.fromArray(F, band, i);
            FloatVector x1 = FloatVector.fromArray(F, band, i + o1);
            FloatVector x2 = FloatVector.fromArray(F, band, i + o2);
            FloatVector x3 = FloatVector.fromArray(F, band, i + o3);
            FloatVector wv = FloatVector.broadcast(F, wts[wo + 4 * r]);
            a0 = x0.fma(wv, a0);
            a1 = x1.fma(wv, a1);
            a2 = x2.fma(wv, a2);
            a3 = x3.fma(wv, a3);
            wv = FloatVector.broadcast(F, wts[wo + 4 * r + 1]);
            b0 = x0.fma(wv, b0);
            b1 = x1.fma(wv, b1);
            b2 = x2.fma(wv, b2);
            b3 = x3.fma(wv, b3);
            wv = FloatVector.broadcast(F, wts[wo + 4 * r + 2]);
            c0 = x0.fma(wv, c0);
            c1 = x1.fma(wv, c1);
            c2 = x2.fma(wv, c2);
            c3 = x3.fma(wv, c3);
            wv = FloatVector.broadcast(F, wts[wo + 4 * r + 3]);
            d0 = x0.fma(wv, d0);
            d1 = x1.fma(wv, d1);
            d2 = x2.fma(wv, d2);
            d3 = x3.fma(wv, d3);
        }
        a0.intoArray(ya, at);
        a1.intoArray(ya, at + L);
        a2.intoArray(ya, at + 2 * L);
        a3.intoArray(ya, at + 3 * L);
        b0.intoArray(yb, bt);
        b1.intoArray(yb, bt + L);
        b2.intoArray(yb, bt + 2 * L);
        b3.intoArray(yb, bt + 3 * L);
        c0.intoArray(yc, ct);
        c1.intoArray(yc, ct + L);
        c2.intoArray(yc, ct + 2 * L);
        c3.intoArray(yc, ct + 3 * L);
        d0.intoArray(yd, dt);
        d1.intoArray(yd, dt + L);
        d2.intoArray(yd, dt + 2 * L);
        d3.intoArray(yd, dt + 3 * L);
    }

    /** {@link #block44} for one vector of columns, channel {@code j} at {@code y[at + j·chStride]}. */
    private static void block14(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base,
                                float[] y, int at, int chStride, boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, y, at) : FloatVector.zero(F);
        FloatVector b0 = acc ? FloatVector.fromArray(F, y, at + chStride) : FloatVector.zero(F);
        FloatVector c0 = acc ? FloatVector.fromArray(F, y, at + 2 * chStride) : FloatVector.zero(F);
        FloatVector d0 = acc ? FloatVector.fromArray(F, y, at + 3 * chStride) : FloatVector.zero(F);
        for (int r = r0; r < r1; r++) {
            FloatVector x0 = FloatVector.fromArray(F, band, base + off[r]);
            a0 = x0.fma(FloatVector.broadcast(F, wts[wo + 4 * r]), a0);
            b0 = x0.fma(FloatVector.broadcast(F, wts[wo + 4 * r + 1]), b0);
            c0 = x0.fma(FloatVector.broadcast(F, wts[wo + 4 * r + 2]), c0);
            d0 = x0.fma(FloatVector.broadcast(F, wts[wo + 4 * r + 3]), d0);
        }
        a0.intoArray(y, at);
        b0.intoArray(y, at + chStride);
        c0.intoArray(y, at + 2 * chStride);
        d0.intoArray(y, at + 3 * chStride);
    }

    /**
     * Two output channels × 4 vectors of columns: {@code a[v] = [ya..] + Σ_r wts[wo + 2r]·band[base + off[r] + o_v ..]}
     * ({@code o_0 = 0}; {@code o_v = v·L} for a row of four vectors, or a row apart for several rows)
     * and {@code b[v]} likewise with {@code wts[wo + 2r + 1]}, for {@code r0 <= r < r1} ascending, starting from
     * the partial sums in {@code ya[at ..]} / {@code yb[bt ..]} when {@code acc} (else from zero), stored back there.
     * Whole vectors only and no vector crosses a call: C2 then keeps every vector in a register (a helper
     * method that took or returned one, left out of line, boxed them and ran 20× slower).
     */
    private static void block4(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base, int o1, int o2, int o3,
                               float[] ya, int at, float[] yb, int bt, boolean acc) {
        FloatVector a0, a1, a2, a3, b0, b1, b2, b3;
        if (acc) {
            a0 = FloatVector.fromArray(F, ya, at);
            a1 = FloatVector.fromArray(F, ya, at + L);
            a2 = FloatVector.fromArray(F, ya, at + 2 * L);
            a3 = FloatVector.fromArray(F, ya, at + 3 * L);
            b0 = FloatVector.fromArray(F, yb, bt);
            b1 = FloatVector.fromArray(F, yb, bt + L);
            b2 = FloatVector.fromArray(F, yb, bt + 2 * L);
            b3 = FloatVector.fromArray(F, yb, bt + 3 * L);
        } else {
            a0 = FloatVector.zero(F);
            a1 = a0;
            a2 = a0;
            a3 = a0;
            b0 = a0;
            b1 = a0;
            b2 = a0;
            b3 = a0;
        }
        for (int r = r0; r < r1; r++) {
            int i = base + off[r];
            FloatVector x0 = FloatVector.fromArray(F, band, i);
            FloatVector x1 = FloatVector.fromArray(F, band, i + o1);
            FloatVector x2 = FloatVector.fromArray(F, band, i + o2);
            FloatVector x3 = FloatVector.fromArray(F, band, i + o3);
            FloatVector wa = FloatVector.broadcast(F, wts[wo + 2 * r]);
            a0 = x0.fma(wa, a0);
            a1 = x1.fma(wa, a1);
            a2 = x2.fma(wa, a2);
            a3 = x3.fma(wa, a3);
            FloatVector wb = FloatVector.broadcast(F, wts[wo + 2 * r + 1]);
            b0 = x0.fma(wb, b0);
            b1 = x1.fma(wb, b1);
            b2 = x2.fma(wb, b2);
            b3 = x3.fma(wb, b3);
        }
        a0.intoArray(ya, at);
        a1.intoArray(ya, at + L);
        a2.intoArray(ya, at + 2 * L);
        a3.intoArray(ya, at + 3 * L);
        b0.intoArray(yb, bt);
        b1.intoArray(yb, bt + L);
        b2.intoArray(yb, bt + 2 * L);
        b3.intoArray(yb, bt + 3 * L);
    }

    /** {@link #block4} for one vector of columns. */
    private static void block1(float[] band, float[] wts, int wo, int[] off, int r0, int r1, int base,
                               float[] ya, int at, float[] yb, int bt, boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, ya, at) : FloatVector.zero(F);
        FloatVector b0 = acc ? FloatVector.fromArray(F, yb, bt) : FloatVector.zero(F);
        for (int r = r0; r < r1; r++) {
            FloatVector x0 = FloatVector.fromArray(F, band, base + off[r]);
            a0 = x0.fma(FloatVector.broadcast(F, wts[wo + 2 * r]), a0);
            b0 = x0.fma(FloatVector.broadcast(F, wts[wo + 2 * r + 1]), b0);
        }
        a0.intoArray(ya, at);
        b0.intoArray(yb, bt);
    }

    /**
     * Elements {@code [from, to)} of {@link Conv2dKernels#flipWeights}: the loop's copies (its bits), walking the
     * indices with counters instead of the six divisions per element of the lane helper.
     */
    static void flipWeightsRange(float[] w, float[] wf, int[] g, int from, int to) {
        if (from >= to) {
            return;
        }
        int cin = g[CIN], cout = g[COUT], kh = g[KH], kw = g[KW];
        int kx = from % kw;
        int r = from / kw;
        int ky = r % kh;
        r /= kh;
        int co = r % cout;
        int ci = r / cout;
        for (int l = from; l < to; l++) {
            wf[l] = w[((co * cin + ci) * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)];
            if (++kx == kw) {
                kx = 0;
                if (++ky == kh) {
                    ky = 0;
                    if (++co == cout) {
                        co = 0;
                        ci++;
                    }
                }
            }
        }
    }
}
