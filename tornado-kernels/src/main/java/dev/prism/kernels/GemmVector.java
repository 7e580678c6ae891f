package dev.prism.kernels;

import dev.prism.backend.Lanes;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant of {@link GemmKernels#matmulRow} (Vector API), run by the JVM backend's
 * parallel mode for {@code gemm.matmul}; the plain loops stay the reference and the TornadoVM input.
 *
 * <p>Two shapes of micro-kernel, each keeping 8 accumulators in registers:
 * <ul>
 *   <li>{@code op(B) = B} (the 1×1 convolution, {@code q·kᵀ} of attention, either {@code op(A)}): 2 rows of
 *       C × 4 vectors of columns; each step broadcasts {@code op(A)[i,p]} for the 2 rows, loads 4 vectors
 *       of {@code B[p, j..]} and issues 8 FMAs. A block of 4L columns of B (L, the lanes of
 *       {@link VectorMath#FLOAT}: 32 columns at 256 bits), copied {@link #PANEL_ROWS} rows of k at a time, is
 *       reused by every row pair of the lane range before the next block. Every element of C is one chain of FMAs
 *       in ascending {@code p} from 0 (or from its old value when accumulating), the reference's order
 *       with one rounding per term instead of two; the last columns run the same chain with
 *       {@link Math#fma}.</li>
 *   <li>{@code op(B) = Bᵀ} no deeper than {@link #TRANSPOSE_K} (attention's {@code p·v} and its gradients at 8×8, 64
 *       positions): B copied transposed, one batch item at a time, into per-thread scratch, then the panels above, in
 *       their order.</li>
 *   <li>{@code op(B) = Bᵀ} deeper (the linear layer, {@code p·v} of attention, either {@code op(A)}): rows of
 *       {@code op(A)} and of B are both contiguous along {@code p}, so 2 rows × 4 columns of C are 8 dot products
 *       held as vectors of partial sums over {@code p} in steps of L (the lanes of {@link VectorMath#FLOAT}),
 *       whose lanes are added at the end as a fixed tree of vector adds, then the last {@code k mod L} terms
 *       added in order. The association differs from the reference's running sum, and with L: within the
 *       shared tolerance, not bit-identical.</li>
 * </ul>
 * With {@code op(A) = Aᵀ} the lane range's rows of {@code op(A)} are first copied out contiguous (the same
 * arithmetic on the same numbers). An A that the batch shares ({@code strideA = 0}) is copied once per call and range of
 * rows, not once per batch item, and a B of exactly {@code 4L} columns is read in place: the copies took a quarter of the
 * time of attention's 64×64×64 products at 8×8 (Intel Xeon, 512 bits). Every output is computed by one lane in
 * an order that depends only on the shapes, so the results are the same bits on every thread count. No
 * allocation: no vector crosses a call (C2 would box it) and the only scratch is per-thread and reused.
 */
final class GemmVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();
    /** Columns of C per {@code op(B) = B} block. */
    private static final int SPAN = 4 * L;
    /**
     * Rows of a copied B panel ({@code PANEL_ROWS × SPAN} floats, 24 KiB): the panel stays in the L1 cache
     * (32 or 48 KiB) next to the rows of A. Longer products run in slices of k, their sums parked in C in
     * between (a float stored and reloaded is the same float: the same chain of FMAs). Without the slices a
     * 512-bit panel of k = 256 (64 KiB) left L1 and ran slower than the 256-bit one.
     */
    private static final int PANEL_ROWS = 6144 / SPAN;
    /**
     * True where vectors have 16 float lanes (AVX-512's 32 registers): {@code op(B) = B} products take rows of C four at a
     * time, on {@link Conv2dVector#block44} (the direct convolution's micro-kernel: 16 accumulators and 8 loads per 16 FMAs,
     * where {@link #block} has 8 and 6 per 8; each element the same FMA chain, the same bits). A 96×32 by 32×1024 product (a 1×1 convolution's forward, 64 items, 2 threads, Intel Xeon)
     * took 3.0 to 3.2 ms in blocks of two rows, 2.4 to 2.5 in blocks of four.
     */
    private static final boolean ROWS4 = L >= 16;
    /** Where row {@code p} of a copied B panel starts: {@code p·SPAN} ({@link Conv2dVector#block44}'s row offsets). */
    private static final int[] PANEL_OFFSETS = java.util.stream.IntStream.range(0, PANEL_ROWS).map(p -> p * SPAN).toArray();

    /** Where the results of a missing second row go: one per thread, reused. */
    private static final ThreadLocal<float[]> DUMP = ThreadLocal.withInitial(() -> new float[SPAN]);
    /** The lanes of 8 vectors of partial sums, to be added in a fixed order: one per thread, reused. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[8 * L]);
    /** Lane {@code i} takes lane {@code i ^ d} ({@code d} = 1, 2, 4, 8): the partner of a pair sum. */
    private static final VectorShuffle<Float> SWAP1 = swap(1), SWAP2 = swap(2), SWAP4 = swap(4), SWAP8 = swap(8);
    /** The lanes whose index has bit {@code d} set. */
    private static final VectorMask<Float> ODD1 = bit(1), ODD2 = bit(2), ODD4 = bit(4);

    private GemmVector() {
    }

    private static VectorShuffle<Float> swap(int d) {
        // a width without such a pair (d >= L) never uses it
        return VectorShuffle.fromOp(F, i -> d < L ? i ^ d : i);
    }

    private static VectorMask<Float> bit(int d) {
        boolean[] lanes = new boolean[L];
        for (int i = 0; i < L; i++) {
            lanes[i] = (i & d) != 0;
        }
        return VectorMask.fromArray(F, lanes, 0);
    }

    /** Lanes {@code [from, to)} of {@link GemmKernels#matmul}, lane {@code l} being row {@code l mod m} of batch item {@code l / m}. */
    static void matmulRows(float[] a, float[] b, float[] c, int batch, int m, int n, int k, int transA, int transB,
                           int strideA, int strideB, int strideC, int accumulate, int from, int to) {
        boolean acc = accumulate == 1;
        // A shared by the batch (strideA = 0): its copies are made once per range of rows in this call, not per item
        // (nothing is kept from an earlier call, whose A may have been another array or changed since)
        Scratch s = SCRATCH.get();
        s.copiedFrom = -1;
        s.copiedTo = -1;
        boolean shared = strideA == 0;
        int l = from;
        while (l < to) {
            int bi = l / m;
            int i0 = l - bi * m;
            int i1 = Math.min(m, i0 + (to - l));
            if (transB == 0) {
                panel(a, b, c, m, n, k, transA, bi * strideA, bi * strideB, bi * strideC, i0, i1, acc, shared);
            } else if (k <= TRANSPOSE_K) {
                // a short depth: B copied transposed, then the op(B) = B panels
                panel(a, transposed(b, n, k, bi * strideB), c, m, n, k, transA, bi * strideA, 0, bi * strideC, i0, i1, acc,
                        shared);
            } else if (transA == 0) {
                dots(a, b, c, m, n, k, bi * strideA, bi * strideB, bi * strideC, i0, i1, acc);
            } else {
                // op(A) = Aᵀ: its rows copied out contiguous first, then the same dot products
                float[] ap = rowsOfTransposed(a, m, k, bi * strideA, i0, i1);
                dots(ap, b, c, m, n, k, -i0 * k, bi * strideB, bi * strideC, i0, i1, acc);
            }
            l += i1 - i0;
        }
    }

    /** Per-thread scratch, grown on first use and reused. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] b = new float[0];
        float[] bt = new float[0];
        float[] a4 = new float[0];
        float[] pack = new float[0];
        /** The rows {@code [copiedFrom, copiedTo)} of a shared A whose copies {@code a} and {@code a4} hold (−1: none). */
        int copiedFrom = -1, copiedTo = -1;
    }

    /**
     * The deepest {@code op(B) = Bᵀ} product that runs as {@code op(B) = B} on a transposed copy of B (n·k floats a batch
     * item): at such depths the dot products' final sum across the lanes, once per element of C, outweighs their few
     * steps along {@code p}. Two threads at 512 bits, AMD Zen 5, throwaway harness: 64 items of 64×64×64 (attention at
     * 8×8) 0.42 to 0.84 ms as dot products, 0.24 transposed; of depth 128 0.55 to 0.59 either way, 256 0.93 to 0.95 as dot
     * products against 1.0 to 1.2; one 64×128 product of depth 128 0.017 to 0.025 ms against 0.021 to 0.037. The rule
     * depends on the shape alone, so the bits do not depend on the thread count.
     */
    static final int TRANSPOSE_K = 64;

    /** {@code B} ({@code [n, k]} at {@code off}) copied transposed into this thread's scratch: {@code bt[p·n + j]}. */
    private static float[] transposed(float[] b, int n, int k, int off) {
        Scratch s = SCRATCH.get();
        if (s.bt.length < n * k) {
            s.bt = new float[n * k];
        }
        float[] bt = s.bt;
        for (int j = 0; j < n; j++) {
            int src = off + j * k;
            for (int p = 0; p < k; p++) {
                bt[p * n + j] = b[src + p];
            }
        }
        return bt;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Rows {@code [i0, i1)} of {@code C = [C +] op(A)·B}. Rows of {@code op(A)} stored transposed, and each
     * panel of B ({@code SPAN} columns, {@link #PANEL_ROWS} rows at a time), are first copied into contiguous scratch: read in place, their elements lie a
     * whole row apart, and at the models' row lengths (1024, 4096 floats: multiples of 4 KiB) every one of
     * them falls in the same L1 set, which measured 1.5× slower. Copying changes no arithmetic.
     */
    private static void panel(float[] a, float[] b, float[] c, int m, int n, int k, int transA,
                              int aOff, int bOff, int cOff, int i0, int i1, boolean acc, boolean shared) {
        Scratch s = SCRATCH.get();
        float[] dump = DUMP.get();
        boolean copied = shared && s.copiedFrom == i0 && s.copiedTo == i1;
        // the rows of op(A) contiguous, for the micro-kernels of pairs of rows and of the last columns: not needed where
        // every row is in a group of four and every column in a whole block
        boolean rowsNeeded = !ROWS4 || (i1 - i0) % 4 != 0 || n % SPAN != 0;
        float[] ap = a;
        int aBase = aOff;
        if (transA == 1) {
            ap = !rowsNeeded ? null : copied ? s.a : rowsOfTransposed(a, m, k, aOff, i0, i1);
            aBase = -i0 * k;
        }
        int kb = Math.min(k, PANEL_ROWS);
        if (s.b.length < kb * SPAN) {
            s.b = new float[kb * SPAN];
        }
        float[] bp = s.b;
        float[] a4 = null;
        if (ROWS4) {
            a4 = copied ? s.a4 : transA == 1 ? columnsInterleaved(s, a, aOff, m, k, i0, i1) : rowsInterleaved(s, ap, aBase, k, i0, i1);
        }
        if (shared) {
            s.copiedFrom = i0;
            s.copiedTo = i1;
        }
        int j = 0;
        if (n >= SPAN && (long) k * n <= PACK_LIMIT) {
            j = packedPanels(ap, aBase, b, bOff, c, cOff, n, k, i0, i1, a4, s, dump, acc);
        }
        for (; j + SPAN <= n; j += SPAN) {
            for (int p0 = 0; p0 < k; p0 += kb) {
                int rows = Math.min(kb, k - p0);
                for (int p = 0; p < rows; p++) {
                    System.arraycopy(b, bOff + (p0 + p) * n + j, bp, p * SPAN, SPAN);
                }
                int i = i0;
                if (ROWS4) {
                    for (; i + 4 <= i1; i += 4) {
                        int ca = cOff + i * n + j;
                        Conv2dVector.block44(bp, a4, ((i - i0) * k + 4 * p0), PANEL_OFFSETS, 0, rows, 0, L, 2 * L, 3 * L,
                                c, ca, c, ca + n, c, ca + 2 * n, c, ca + 3 * n, acc || p0 > 0);
                    }
                }
                for (; i < i1; i += 2) {
                    boolean two = i + 1 < i1;
                    int aRow = aBase + i * k + p0;
                    int ca = cOff + i * n + j;
                    block(ap, aRow, two ? aRow + k : aRow, 1, bp, 0, SPAN, rows,
                            c, ca, two ? c : dump, two ? ca + n : 0, acc || p0 > 0);
                }
            }
        }
        for (; j + L <= n; j += L) {
            for (int i = i0; i < i1; i += 2) {
                boolean two = i + 1 < i1;
                int aRow = aBase + i * k;
                int ca = cOff + i * n + j;
                block1(ap, aRow, two ? aRow + k : aRow, 1, b, bOff + j, n, k,
                        c, ca, two ? c : dump, two ? ca + n : 0, acc);
            }
        }
        for (; j < n; j++) {
            for (int i = i0; i < i1; i++) {
                int aRow = aBase + i * k;
                int ci = cOff + i * n + j;
                float t = acc ? c[ci] : 0f;
                for (int p = 0; p < k; p++) {
                    t = Math.fma(ap[aRow + p], b[bOff + p * n + j], t);
                }
                c[ci] = t;
            }
        }
    }

    /**
     * The most floats of B ({@code k·n}, one batch item) that {@link #packedPanels} copies whole: 2 MiB, the L2 cache of
     * one core of the Intel Xeon measured (the models' largest 1×1 layer has 384 KiB). Larger products take the panels one
     * at a time; between the two orders at sizes past a core's L2 nothing was measured.
     */
    static final int PACK_LIMIT = 1 << 19;

    /**
     * {@link #panel}'s whole blocks of {@code SPAN} columns where B's batch item fits {@link #PACK_LIMIT}: the item's B is
     * first copied panel by panel ({@code [panel][p][SPAN]}) reading each row of B once, in order; then each block of four
     * rows of C ({@link #ROWS4}; else, and for the last rows, pairs) runs through every panel, in slices of
     * {@link #PANEL_ROWS} rows of k as {@link #panel}'s. The same FMA chains in the same order, so the same bits; only the
     * memory order differs. The panel-at-a-time order reads B in pieces of {@code SPAN} floats from k rows a row length
     * apart and writes C in pieces from every row of the range, more streams at once than the hardware prefetchers follow:
     * in the ddpm-unet training step (Intel Xeon, 2 threads, its data coming from memory) the four largest 1×1 products took
     * 3.9 to 6.7 ms that way, 3.1 to 4.6 ms this way; repeated alone, their data in the caches, 6 to 17 % longer this way.
     * The step's six largest 1×1 products run one after the other (a throwaway harness, alternating JVMs) took 26.2 to 28.5
     * ms that way and 21.4 to 25.9 ms this way at 256 bits with the JIT held to AVX2, 38.4 and 41.2 against 33.0 and 33.8
     * at 128 bits. Returns the columns done.
     */
    private static int packedPanels(float[] ap, int aBase, float[] b, int bOff, float[] c, int cOff, int n, int k,
                                    int i0, int i1, float[] a4, Scratch s, float[] dump, boolean acc) {
        int panels = n / SPAN;
        float[] bp = b;
        int bBase = bOff;
        if (n != SPAN) {
            int size = panels * k * SPAN;
            if (s.pack.length < size) {
                s.pack = new float[size];
            }
            bp = s.pack;
            bBase = 0;
            for (int p = 0; p < k; p++) {
                int src = bOff + p * n;
                for (int q = 0; q < panels; q++) {
                    System.arraycopy(b, src + q * SPAN, bp, (q * k + p) * SPAN, SPAN);
                }
            }
        }
        // else n = SPAN: B's rows are the one panel's rows already, read in place
        int kb = Math.min(k, PANEL_ROWS);
        int i = i0;
        for (; ROWS4 && i + 4 <= i1; i += 4) {
            for (int q = 0; q < panels; q++) {
                int ca = cOff + i * n + q * SPAN;
                for (int p0 = 0; p0 < k; p0 += kb) {
                    int rows = Math.min(kb, k - p0);
                    Conv2dVector.block44(bp, a4, ((i - i0) * k + 4 * p0), PANEL_OFFSETS, 0, rows, bBase + (q * k + p0) * SPAN,
                            L, 2 * L, 3 * L, c, ca, c, ca + n, c, ca + 2 * n, c, ca + 3 * n, acc || p0 > 0);
                }
            }
        }
        for (; !ROWS4 && i + 4 <= i1; i += 4) {
            for (int q = 0; q < panels; q++) {
                int ca = cOff + i * n + q * SPAN;
                for (int p0 = 0; p0 < k; p0 += kb) {
                    int rows = Math.min(kb, k - p0);
                    int aRow = aBase + i * k + p0;
                    int panel = bBase + (q * k + p0) * SPAN;
                    block42(ap, aRow, k, bp, panel, rows, c, ca, n, acc || p0 > 0);
                    block42(ap, aRow, k, bp, panel + 2 * L, rows, c, ca + 2 * L, n, acc || p0 > 0);
                }
            }
        }
        for (; i < i1; i += 2) {
            boolean two = i + 1 < i1;
            for (int q = 0; q < panels; q++) {
                int ca = cOff + i * n + q * SPAN;
                for (int p0 = 0; p0 < k; p0 += kb) {
                    int rows = Math.min(kb, k - p0);
                    int aRow = aBase + i * k + p0;
                    block(ap, aRow, two ? aRow + k : aRow, 1, bp, bBase + (q * k + p0) * SPAN, SPAN, rows,
                            c, ca, two ? c : dump, two ? ca + n : 0, acc || p0 > 0);
                }
            }
        }
        return panels * SPAN;
    }

    /**
     * Rows {@code [i0, i1)} of A (row {@code i} at {@code a[aBase + i·k]}) in groups of four, each group's rows interleaved
     * into this thread's scratch, {@code [(i − i0)·k + 4p + j]} for row {@code i + j} of a group starting at {@code i}: the
     * weights' layout of {@link Conv2dVector#block44}, which computes four rows of C at a time ({@link #ROWS4}). Rows past
     * the last whole group are left out.
     */
    private static float[] rowsInterleaved(Scratch s, float[] a, int aBase, int k, int i0, int i1) {
        int groups = (i1 - i0) / 4;
        if (s.a4.length < groups * 4 * k) {
            s.a4 = new float[groups * 4 * k];
        }
        float[] a4 = s.a4;
        for (int q = 0; q < groups; q++) {
            int i = i0 + 4 * q;
            for (int j = 0; j < 4; j++) {
                int src = aBase + (i + j) * k;
                int dst = 4 * q * k + j;
                for (int p = 0; p < k; p++) {
                    a4[dst + 4 * p] = a[src + p];
                }
            }
        }
        return a4;
    }

    /**
     * {@link #rowsInterleaved} for {@code op(A) = Aᵀ} ({@code A} stored {@code [k, m]} at {@code aOff}), read from A itself:
     * a group's four values at each {@code p} are four consecutive floats of A's row {@code p}.
     */
    private static float[] columnsInterleaved(Scratch s, float[] a, int aOff, int m, int k, int i0, int i1) {
        int groups = (i1 - i0) / 4;
        if (s.a4.length < groups * 4 * k) {
            s.a4 = new float[groups * 4 * k];
        }
        float[] a4 = s.a4;
        for (int p = 0; p < k; p++) {
            int src = aOff + p * m + i0;
            for (int q = 0; q < groups; q++) {
                int dst = 4 * (q * k + p);
                int at = src + 4 * q;
                a4[dst] = a[at];
                a4[dst + 1] = a[at + 1];
                a4[dst + 2] = a[at + 2];
                a4[dst + 3] = a[at + 3];
            }
        }
        return a4;
    }

    /**
     * Rows {@code [i0, i1)} of {@code op(A) = Aᵀ} ({@code A} stored {@code [k, m]} at {@code aOff}) copied into
     * this thread's scratch, contiguous: row {@code i} at {@code (i − i0)·k}.
     */
    private static float[] rowsOfTransposed(float[] a, int m, int k, int aOff, int i0, int i1) {
        Scratch s = SCRATCH.get();
        int rows = i1 - i0;
        if (s.a.length < rows * k) {
            s.a = new float[rows * k];
        }
        float[] ap = s.a;
        for (int p = 0; p < k; p++) {
            int src = aOff + p * m;
            for (int i = i0; i < i1; i++) {
                ap[(i - i0) * k + p] = a[src + i];
            }
        }
        return ap;
    }

    /**
     * {@code C[ra, j..j+4L)} into {@code ya[at..]} and {@code C[rb, j..]} into {@code yb[bt..]}: FMA chains over
     * ascending {@code p} of {@code a[row + p·aStep]·b[col + p·n + ..]}.
     */
    private static void block(float[] a, int ra, int rb, int aStep, float[] b, int col, int n, int k,
                              float[] ya, int at, float[] yb, int bt, boolean acc) {
        FloatVector a0, a1, a2, a3, b0, b1, b2, b3;
        if (acc) {
            a0 = FloatVector.fromArray(F, ya, at);
            a1 = FloatVector.fromArray(F, ya, at + L);
            a2 = FloatVector.fromArray(F, ya, at + 2 * L);
            a3 = FloatVector.fromArray(F, ya, at + 3 * L);
            if (yb == ya) {
                b0 = FloatVector.fromArray(F, yb, bt);
                b1 = FloatVector.fromArray(F, yb, bt + L);
                b2 = FloatVector.fromArray(F, yb, bt + 2 * L);
                b3 = FloatVector.fromArray(F, yb, bt + 3 * L);
            } else {
                b0 = a0;
                b1 = a0;
                b2 = a0;
                b3 = a0;
            }
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
        int pa = ra, pb = rb, pc = col;
        for (int p = 0; p < k; p++) {
            FloatVector x0 = FloatVector.fromArray(F, b, pc);
            FloatVector x1 = FloatVector.fromArray(F, b, pc + L);
            FloatVector x2 = FloatVector.fromArray(F, b, pc + 2 * L);
            FloatVector x3 = FloatVector.fromArray(F, b, pc + 3 * L);
            FloatVector wa = FloatVector.broadcast(F, a[pa]);
            a0 = x0.fma(wa, a0);
            a1 = x1.fma(wa, a1);
            a2 = x2.fma(wa, a2);
            a3 = x3.fma(wa, a3);
            FloatVector wb = FloatVector.broadcast(F, a[pb]);
            b0 = x0.fma(wb, b0);
            b1 = x1.fma(wb, b1);
            b2 = x2.fma(wb, b2);
            b3 = x3.fma(wb, b3);
            pa += aStep;
            pb += aStep;
            pc += n;
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

    /**
     * {@link #block} for four rows of A ({@code a[ra + r·rowStep + p]}, r = 0..3) and two vectors of columns of a packed
     * panel ({@code b[col + p·SPAN ..]}), into rows {@code ca + r·n} of C: for 16-register machines, where four rows of
     * four vectors do not fit; against {@link #block}'s pairs of rows each panel row loaded serves four rows of C instead
     * of two. The same FMA chain per element of C, so the same bits.
     */
    private static void block42(float[] a, int ra, int rowStep, float[] b, int col, int k, float[] c, int ca, int n,
                                boolean acc) {
        FloatVector a0, a1, b0, b1, c0, c1, d0, d1;
        if (acc) {
            a0 = FloatVector.fromArray(F, c, ca);
            a1 = FloatVector.fromArray(F, c, ca + L);
            b0 = FloatVector.fromArray(F, c, ca + n);
            b1 = FloatVector.fromArray(F, c, ca + n + L);
            c0 = FloatVector.fromArray(F, c, ca + 2 * n);
            c1 = FloatVector.fromArray(F, c, ca + 2 * n + L);
            d0 = FloatVector.fromArray(F, c, ca + 3 * n);
            d1 = FloatVector.fromArray(F, c, ca + 3 * n + L);
        } else {
            a0 = FloatVector.zero(F);
            a1 = a0;
            b0 = a0;
            b1 = a0;
            c0 = a0;
            c1 = a0;
            d0 = a0;
            d1 = a0;
        }
        int pa = ra, pc = col;
        for (int p = 0; p < k; p++) {
            FloatVector x0 = FloatVector.fromArray(F, b, pc);
            FloatVector x1 = FloatVector.fromArray(F, b, pc + L);
            FloatVector w = FloatVector.broadcast(F, a[pa]);
            a0 = x0.fma(w, a0);
            a1 = x1.fma(w, a1);
            w = FloatVector.broadcast(F, a[pa + rowStep]);
            b0 = x0.fma(w, b0);
            b1 = x1.fma(w, b1);
            w = FloatVector.broadcast(F, a[pa + 2 * rowStep]);
            c0 = x0.fma(w, c0);
            c1 = x1.fma(w, c1);
            w = FloatVector.broadcast(F, a[pa + 3 * rowStep]);
            d0 = x0.fma(w, d0);
            d1 = x1.fma(w, d1);
            pa++;
            pc += SPAN;
        }
        a0.intoArray(c, ca);
        a1.intoArray(c, ca + L);
        b0.intoArray(c, ca + n);
        b1.intoArray(c, ca + n + L);
        c0.intoArray(c, ca + 2 * n);
        c1.intoArray(c, ca + 2 * n + L);
        d0.intoArray(c, ca + 3 * n);
        d1.intoArray(c, ca + 3 * n + L);
    }

    /** {@link #block} for one vector of columns. */
    private static void block1(float[] a, int ra, int rb, int aStep, float[] b, int col, int n, int k,
                               float[] ya, int at, float[] yb, int bt, boolean acc) {
        FloatVector a0 = acc ? FloatVector.fromArray(F, ya, at) : FloatVector.zero(F);
        FloatVector b0 = acc && yb == ya ? FloatVector.fromArray(F, ya, bt) : a0;
        int pa = ra, pb = rb, pc = col;
        for (int p = 0; p < k; p++) {
            FloatVector x0 = FloatVector.fromArray(F, b, pc);
            a0 = x0.fma(FloatVector.broadcast(F, a[pa]), a0);
            b0 = x0.fma(FloatVector.broadcast(F, a[pb]), b0);
            pa += aStep;
            pb += aStep;
            pc += n;
        }
        a0.intoArray(ya, at);
        b0.intoArray(yb, bt);
    }

    /**
     * Rows {@code [i0, i1)} of {@code C = [C +] A·Bᵀ}, A {@code [m,k]}, B {@code [n,k]}: blocks of 4 rows of B
     * (columns of C) outermost, so each is read from memory once and the rows of A come from the cache.
     */
    private static void dots(float[] a, float[] b, float[] c, int m, int n, int k,
                             int aOff, int bOff, int cOff, int i0, int i1, boolean acc) {
        int kv = k - k % L;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            for (int i = i0; i < i1; i += 2) {
                int rb = i + 1 < i1 ? i + 1 : -1;
                dot2x4(a, aOff + i * k, rb < 0 ? aOff + i * k : aOff + rb * k, b, bOff + j * k, k, kv,
                        c, cOff + i * n + j, rb < 0 ? -1 : cOff + rb * n + j, acc);
            }
        }
        for (; j < n; j++) {
            for (int i = i0; i < i1; i++) {
                int ar = aOff + i * k, br = bOff + j * k;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < kv; p += L) {
                    s = FloatVector.fromArray(F, a, ar + p).fma(FloatVector.fromArray(F, b, br + p), s);
                }
                int ci = cOff + i * n + j;
                float[] r = LANES.get();
                s.intoArray(r, 0);
                float t = sum(r, 0);
                if (acc) {
                    t = c[ci] + t;
                }
                for (int p = kv; p < k; p++) {
                    t = Math.fma(a[ar + p], b[br + p], t);
                }
                c[ci] = t;
            }
        }
    }

    /** {@code r[at] + r[at + 1] + … + r[at + L − 1]}, left to right. */
    private static float sum(float[] r, int at) {
        float t = r[at];
        for (int i = 1; i < L; i++) {
            t += r[at + i];
        }
        return t;
    }

    /** Columns {@code j..j+3} of rows {@code ra} (into {@code c[ca..]}) and {@code rb} (into {@code c[cb..]}, none if {@code cb < 0}). */
    private static void dot2x4(float[] a, int ra, int rb, float[] b, int bj, int k, int kv,
                               float[] c, int ca, int cb, boolean acc) {
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
        FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int b1 = bj + k, b2 = b1 + k, b3 = b2 + k;
        for (int p = 0; p < kv; p += L) {
            FloatVector x0 = FloatVector.fromArray(F, b, bj + p);
            FloatVector x1 = FloatVector.fromArray(F, b, b1 + p);
            FloatVector x2 = FloatVector.fromArray(F, b, b2 + p);
            FloatVector x3 = FloatVector.fromArray(F, b, b3 + p);
            FloatVector u = FloatVector.fromArray(F, a, ra + p);
            s00 = u.fma(x0, s00);
            s01 = u.fma(x1, s01);
            s02 = u.fma(x2, s02);
            s03 = u.fma(x3, s03);
            u = FloatVector.fromArray(F, a, rb + p);
            s10 = u.fma(x0, s10);
            s11 = u.fma(x1, s11);
            s12 = u.fma(x2, s12);
            s13 = u.fma(x3, s13);
        }
        // The lanes of the 8 sums added as a fixed tree of lane-wise adds (reduceLanes(ADD) leaves the order
        // open, and C2's tree and the interpreter's loop round differently, so results would depend on the
        // JIT). Level d pairs two vectors: lanes whose index has bit d clear take the first vector's pair sums
        // (lane i + lane i^d), the others the second's, so after log2(L) levels (L = 4: two vectors) lane q of
        // the result holds sum q. Scalar sums of 16 lanes cost as much as the dot products at k = 256.
        FloatVector p0 = s00.rearrange(SWAP1).blend(s01, ODD1).add(s00.blend(s01.rearrange(SWAP1), ODD1));
        FloatVector p1 = s02.rearrange(SWAP1).blend(s03, ODD1).add(s02.blend(s03.rearrange(SWAP1), ODD1));
        FloatVector p2 = s10.rearrange(SWAP1).blend(s11, ODD1).add(s10.blend(s11.rearrange(SWAP1), ODD1));
        FloatVector p3 = s12.rearrange(SWAP1).blend(s13, ODD1).add(s12.blend(s13.rearrange(SWAP1), ODD1));
        FloatVector q0 = p0.rearrange(SWAP2).blend(p1, ODD2).add(p0.blend(p1.rearrange(SWAP2), ODD2));
        FloatVector q1 = p2.rearrange(SWAP2).blend(p3, ODD2).add(p2.blend(p3.rearrange(SWAP2), ODD2));
        float[] r = LANES.get();
        if (L == 4) {
            q0.intoArray(r, 0);
            q1.intoArray(r, 4);
        } else {
            FloatVector o = q0.rearrange(SWAP4).blend(q1, ODD4).add(q0.blend(q1.rearrange(SWAP4), ODD4));
            if (L == 16) {
                o = o.add(o.rearrange(SWAP8));
            }
            o.intoArray(r, 0);
        }
        float t00 = r[0], t01 = r[1], t02 = r[2], t03 = r[3];
        float t10 = r[4], t11 = r[5], t12 = r[6], t13 = r[7];
        if (acc) {
            t00 = c[ca] + t00;
            t01 = c[ca + 1] + t01;
            t02 = c[ca + 2] + t02;
            t03 = c[ca + 3] + t03;
            if (cb >= 0) {
                t10 = c[cb] + t10;
                t11 = c[cb + 1] + t11;
                t12 = c[cb + 2] + t12;
                t13 = c[cb + 3] + t13;
            }
        }
        for (int p = kv; p < k; p++) {
            float u = a[ra + p];
            t00 = Math.fma(u, b[bj + p], t00);
            t01 = Math.fma(u, b[b1 + p], t01);
            t02 = Math.fma(u, b[b2 + p], t02);
            t03 = Math.fma(u, b[b3 + p], t03);
            float v = a[rb + p];
            t10 = Math.fma(v, b[bj + p], t10);
            t11 = Math.fma(v, b[b1 + p], t11);
            t12 = Math.fma(v, b[b2 + p], t12);
            t13 = Math.fma(v, b[b3 + p], t13);
        }
        c[ca] = t00;
        c[ca + 1] = t01;
        c[ca + 2] = t02;
        c[ca + 3] = t03;
        if (cb >= 0) {
            c[cb] = t10;
            c[cb + 1] = t11;
            c[cb + 2] = t12;
            c[cb + 3] = t13;
        }
    }
}
