package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link PrismConvKernels#forwardRow}, which stays the
 * reference and the TornadoVM input. It computes every output with the same operations in the same
 * order as the plain loop, so the result is bit-identical: the bias, then for each filter tap
 * {@code (dc, dy, dx)} in ascending order whose source lies inside the image, {@code acc = acc + f·x}
 * (a multiply and an add, each rounded; no fused multiply-add).
 *
 * <p>The plain loop adds one source row into the output row in memory per tap row; here an output row
 * is cut into blocks of {@code V} columns (the lanes of {@link VectorMath#FLOAT}: 4, 8 or 16), eight blocks (a row of 64 at
 * 256 bits) are accumulated together in registers over all the taps, and each output is stored once. The
 * eight blocks share each broadcast filter value, and their eight independent sums keep both adders
 * busy despite the latency of each dependent add. Rows whose width is not a multiple of 8V finish with
 * groups of four blocks and then single blocks; the last block starts at {@code w − V} and may overlap
 * the one before, recomputing those outputs with the same operations, hence the same bits. A tap whose
 * source columns leave the row (the first and last block, spatial zero padding) adds only the lanes
 * inside, as the plain loop skips that tap there. Rows narrower than one vector go in groups of rows
 * when their width divides V and take the plain helper otherwise.
 */
public final class PrismConvVector {
    private static final VectorSpecies<Float> S = VectorMath.FLOAT;
    private static final int V = S.length();
    /** {@code FROM[t]}: the lanes {@code k >= t}, for a block whose first t source columns lie left of the row. */
    private static final VectorMask<Float>[] FROM = masks(true);
    /** {@code BELOW[t]}: the lanes {@code k < V − t}, for a block whose last t source columns lie right of the row. */
    private static final VectorMask<Float>[] BELOW = masks(false);
    /** {@code NOT_FIRST[w]}, for a row width w that divides V: the lanes that are not column 0 of one of the rows a vector holds. */
    private static final VectorMask<Float>[] NOT_FIRST = columnMasks(true);
    /** {@code NOT_LAST[w]}: likewise, the lanes that are not column {@code w − 1}. */
    private static final VectorMask<Float>[] NOT_LAST = columnMasks(false);

    private PrismConvVector() {
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] masks(boolean from) {
        VectorMask<Float>[] m = new VectorMask[V + 1];
        for (int t = 0; t <= V; t++) {
            boolean[] lanes = new boolean[V];
            for (int k = 0; k < V; k++) {
                lanes[k] = from ? k >= t : k < V - t;
            }
            m[t] = VectorMask.fromArray(S, lanes, 0);
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    private static VectorMask<Float>[] columnMasks(boolean first) {
        VectorMask<Float>[] m = new VectorMask[V];
        for (int w = 1; w < V; w++) {
            if (V % w == 0) {
                boolean[] lanes = new boolean[V];
                for (int k = 0; k < V; k++) {
                    lanes[k] = first ? k % w != 0 : k % w != w - 1;
                }
                m[w] = VectorMask.fromArray(S, lanes, 0);
            }
        }
        return m;
    }

    /**
     * Lanes {@code [from, to)} of {@link PrismConv#forward} (lane {@code l = p·H + i}): the same values as
     * {@link PrismConvKernels#forwardRow}. Narrow rows of width 3 filters ({@code w} = V or 2V) go in
     * groups of {@code 8V/w} rows of one plane through {@link #rowGroup3}, rows narrower than a vector whose
     * width divides V ({@code w} = 8 at 512 bits) likewise through {@link #narrowGroup3}, channel-only filters
     * ({@code kh = kw = 1}) as one span per plane through {@link #channelSpan}; the rest row by row. (At
     * {@code w = 4V} two rows of four blocks measured slower than {@link #fourBlocks3} row by row.)
     */
    public static void forwardRows(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                   int kc, int kh, int kw, int mode, int from, int to) {
        boolean grouped = kw == 3 && w % V == 0 && w <= 2 * V;
        boolean narrow = kw == 3 && w < V && V % w == 0;
        int l = from;
        while (l < to) {
            int p = l / h;
            int i = l - p * h;
            if (kh == 1 && kw == 1) {
                int end = Math.min(to, (p + 1) * h);
                channelSpan(x, f, b[0], y, c, h * w, kc, mode, p, i * w, (end - l) * w);
                l = end;
                continue;
            }
            if (narrow) {
                int rows = Math.min(8 * V / w, Math.min(to - l, h - i));
                narrowGroup3(x, f, b[0], y, c, h, w, kc, kh, mode, p, i, rows);
                l += rows;
                continue;
            }
            if (grouped) {
                int rows = Math.min(8 * V / w, Math.min(to - l, h - i));
                if (insideArray(x, c, h, w, kc, kh, mode, p, i) && insideArray(x, c, h, w, kc, kh, mode, p, i + rows - 1)) {
                    rowGroup3(x, f, b[0], y, c, h, w, kc, kh, mode, p, i, rows);
                    l += rows;
                    continue;
                }
            }
            forwardRow(x, f, b, y, n, c, h, w, kc, kh, kw, mode, p, i);
            l++;
        }
    }

    /** Output row {@code y[n, ch, i, :]} for {@code p = n·C + ch}: the same values as {@link PrismConvKernels#forwardRow}. */
    public static void forwardRow(float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                  int kc, int kh, int kw, int mode, int p, int i) {
        if (w < V || kw / 2 > V) {
            PrismConvKernels.forwardRow(x, f, b, y, n, c, h, w, kc, kh, kw, mode, p, i);
            return;
        }
        // Width 3, the filters the models use, has unrolled groups; they load one element past either end
        // of a source row and so need a row before and after it in x (all but a few rows have them).
        boolean unrolled = kw == 3 && insideArray(x, c, h, w, kc, kh, mode, p, i);
        int j = 0;
        for (; j + 8 * V <= w; j += 8 * V) {
            if (unrolled) {
                eightBlocks3(x, f, b[0], y, c, h, w, kc, kh, mode, p, i, j);
            } else {
                eightBlocks(x, f, b[0], y, c, h, w, kc, kh, kw, mode, p, i, j);
            }
        }
        for (; j + 4 * V <= w; j += 4 * V) {
            if (unrolled) {
                fourBlocks3(x, f, b[0], y, c, h, w, kc, kh, mode, p, i, j);
            } else {
                fourBlocks(x, f, b[0], y, c, h, w, kc, kh, kw, mode, p, i, j);
            }
        }
        for (; j < w; j += V) {
            oneBlock(x, f, b[0], y, c, h, w, kc, kh, kw, mode, p, i, Math.min(j, w - V));
        }
    }

    /**
     * True when every source row of output row {@code (p, i)} has a row before it and a row after it in
     * {@code x}, so that {@link #eightBlocks3} may load one element past either end of a source row
     * without a masked load (which costs more than the plain one). Only the rows that read the very
     * first or last row of {@code x} fail.
     */
    private static boolean insideArray(float[] x, int c, int h, int w, int kc, int kh, int mode, int p, int i) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int first = Math.max(0, i - ph);
        int last = Math.min(h - 1, i + kh - 1 - ph);
        int rows = x.length / w;
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs >= 0 && ((img * c + cs) * h + first == 0 || (img * c + cs) * h + last >= rows - 1)) {
                return false;
            }
        }
        return true;
    }

    /** Columns {@code [j, j + 8V)} of the row; only the first and the last block can reach past the row. */
    private static void eightBlocks(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                    int kc, int kh, int kw, int mode, int p, int i, int j) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        FloatVector a0 = FloatVector.broadcast(S, bias);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = dyLo; dy < dyHi; dy++) {
                int row = (plane + i + dy - ph) * w;
                int tap = (dc * kh + dy) * kw;
                for (int d = 0; d < kw; d++) {
                    FloatVector fv = FloatVector.broadcast(S, f[tap + d]);
                    int col = j + d - pw;
                    int s = row + col;
                    VectorMask<Float> m0 = FROM[Math.max(0, -col)];
                    VectorMask<Float> m7 = BELOW[Math.max(0, col + 8 * V - w)];
                    a0 = a0.add(fv.mul(FloatVector.fromArray(S, x, s, m0)), m0);
                    a1 = a1.add(fv.mul(FloatVector.fromArray(S, x, s + V)));
                    a2 = a2.add(fv.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                    a3 = a3.add(fv.mul(FloatVector.fromArray(S, x, s + 3 * V)));
                    a4 = a4.add(fv.mul(FloatVector.fromArray(S, x, s + 4 * V)));
                    a5 = a5.add(fv.mul(FloatVector.fromArray(S, x, s + 5 * V)));
                    a6 = a6.add(fv.mul(FloatVector.fromArray(S, x, s + 6 * V)));
                    a7 = a7.add(fv.mul(FloatVector.fromArray(S, x, s + 7 * V, m7)), m7);
                }
            }
        }
        int out = (p * h + i) * w + j;
        a0.intoArray(y, out);
        a1.intoArray(y, out + V);
        a2.intoArray(y, out + 2 * V);
        a3.intoArray(y, out + 3 * V);
        a4.intoArray(y, out + 4 * V);
        a5.intoArray(y, out + 5 * V);
        a6.intoArray(y, out + 6 * V);
        a7.intoArray(y, out + 7 * V);
    }

    /**
     * {@link #eightBlocks} for the common filter width 3, unrolled: three taps per source row, the edge
     * masks fixed per group. A method of its own: C2 compiles Vector API code only while a method stays
     * under its node budget, and a vector passed to a method it did not inline is boxed on the heap.
     */
    private static void eightBlocks3(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                     int kc, int kh, int mode, int p, int i, int j) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        FloatVector a0 = FloatVector.broadcast(S, bias);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        VectorMask<Float> m0 = FROM[Math.max(0, 1 - j)];
        VectorMask<Float> m7 = BELOW[Math.max(0, j + 8 * V + 1 - w)];
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = dyLo; dy < dyHi; dy++) {
                int s = (plane + i + dy - ph) * w + j;
                int tap = (dc * kh + dy) * 3;
                FloatVector f0 = FloatVector.broadcast(S, f[tap]);
                FloatVector f1 = FloatVector.broadcast(S, f[tap + 1]);
                FloatVector f2 = FloatVector.broadcast(S, f[tap + 2]);
                // The lanes outside the row load a neighbouring row's element, which the masked add drops.
                a0 = a0.add(f0.mul(FloatVector.fromArray(S, x, s - 1)), m0);
                a0 = a0.add(f1.mul(FloatVector.fromArray(S, x, s)));
                a0 = a0.add(f2.mul(FloatVector.fromArray(S, x, s + 1)));
                a1 = a1.add(f0.mul(FloatVector.fromArray(S, x, s + V - 1)));
                a1 = a1.add(f1.mul(FloatVector.fromArray(S, x, s + V)));
                a1 = a1.add(f2.mul(FloatVector.fromArray(S, x, s + V + 1)));
                a2 = a2.add(f0.mul(FloatVector.fromArray(S, x, s + 2 * V - 1)));
                a2 = a2.add(f1.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                a2 = a2.add(f2.mul(FloatVector.fromArray(S, x, s + 2 * V + 1)));
                a3 = a3.add(f0.mul(FloatVector.fromArray(S, x, s + 3 * V - 1)));
                a3 = a3.add(f1.mul(FloatVector.fromArray(S, x, s + 3 * V)));
                a3 = a3.add(f2.mul(FloatVector.fromArray(S, x, s + 3 * V + 1)));
                a4 = a4.add(f0.mul(FloatVector.fromArray(S, x, s + 4 * V - 1)));
                a4 = a4.add(f1.mul(FloatVector.fromArray(S, x, s + 4 * V)));
                a4 = a4.add(f2.mul(FloatVector.fromArray(S, x, s + 4 * V + 1)));
                a5 = a5.add(f0.mul(FloatVector.fromArray(S, x, s + 5 * V - 1)));
                a5 = a5.add(f1.mul(FloatVector.fromArray(S, x, s + 5 * V)));
                a5 = a5.add(f2.mul(FloatVector.fromArray(S, x, s + 5 * V + 1)));
                a6 = a6.add(f0.mul(FloatVector.fromArray(S, x, s + 6 * V - 1)));
                a6 = a6.add(f1.mul(FloatVector.fromArray(S, x, s + 6 * V)));
                a6 = a6.add(f2.mul(FloatVector.fromArray(S, x, s + 6 * V + 1)));
                a7 = a7.add(f0.mul(FloatVector.fromArray(S, x, s + 7 * V - 1)));
                a7 = a7.add(f1.mul(FloatVector.fromArray(S, x, s + 7 * V)));
                a7 = a7.add(f2.mul(FloatVector.fromArray(S, x, s + 7 * V + 1)), m7);
            }
        }
        int out = (p * h + i) * w + j;
        a0.intoArray(y, out);
        a1.intoArray(y, out + V);
        a2.intoArray(y, out + 2 * V);
        a3.intoArray(y, out + 3 * V);
        a4.intoArray(y, out + 4 * V);
        a5.intoArray(y, out + 5 * V);
        a6.intoArray(y, out + 6 * V);
        a7.intoArray(y, out + 7 * V);
    }

    /** {@link #eightBlocks3} for four blocks, columns {@code [j, j + 4V)}. */
    private static void fourBlocks3(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                    int kc, int kh, int mode, int p, int i, int j) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        FloatVector a0 = FloatVector.broadcast(S, bias);
        FloatVector a1 = a0, a2 = a0, a3 = a0;
        VectorMask<Float> m0 = FROM[Math.max(0, 1 - j)];
        VectorMask<Float> m3 = BELOW[Math.max(0, j + 4 * V + 1 - w)];
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = dyLo; dy < dyHi; dy++) {
                int s = (plane + i + dy - ph) * w + j;
                int tap = (dc * kh + dy) * 3;
                FloatVector f0 = FloatVector.broadcast(S, f[tap]);
                FloatVector f1 = FloatVector.broadcast(S, f[tap + 1]);
                FloatVector f2 = FloatVector.broadcast(S, f[tap + 2]);
                a0 = a0.add(f0.mul(FloatVector.fromArray(S, x, s - 1)), m0);
                a0 = a0.add(f1.mul(FloatVector.fromArray(S, x, s)));
                a0 = a0.add(f2.mul(FloatVector.fromArray(S, x, s + 1)));
                a1 = a1.add(f0.mul(FloatVector.fromArray(S, x, s + V - 1)));
                a1 = a1.add(f1.mul(FloatVector.fromArray(S, x, s + V)));
                a1 = a1.add(f2.mul(FloatVector.fromArray(S, x, s + V + 1)));
                a2 = a2.add(f0.mul(FloatVector.fromArray(S, x, s + 2 * V - 1)));
                a2 = a2.add(f1.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                a2 = a2.add(f2.mul(FloatVector.fromArray(S, x, s + 2 * V + 1)));
                a3 = a3.add(f0.mul(FloatVector.fromArray(S, x, s + 3 * V - 1)));
                a3 = a3.add(f1.mul(FloatVector.fromArray(S, x, s + 3 * V)));
                a3 = a3.add(f2.mul(FloatVector.fromArray(S, x, s + 3 * V + 1)), m3);
            }
        }
        int out = (p * h + i) * w + j;
        a0.intoArray(y, out);
        a1.intoArray(y, out + V);
        a2.intoArray(y, out + 2 * V);
        a3.intoArray(y, out + 3 * V);
    }

    /** Columns {@code [j, j + 4V)} of the row, as {@link #eightBlocks}. */
    private static void fourBlocks(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                   int kc, int kh, int kw, int mode, int p, int i, int j) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        FloatVector a0 = FloatVector.broadcast(S, bias);
        FloatVector a1 = a0, a2 = a0, a3 = a0;
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = dyLo; dy < dyHi; dy++) {
                int row = (plane + i + dy - ph) * w;
                int tap = (dc * kh + dy) * kw;
                for (int d = 0; d < kw; d++) {
                    FloatVector fv = FloatVector.broadcast(S, f[tap + d]);
                    int col = j + d - pw;
                    int s = row + col;
                    VectorMask<Float> m0 = FROM[Math.max(0, -col)];
                    VectorMask<Float> m3 = BELOW[Math.max(0, col + 4 * V - w)];
                    a0 = a0.add(fv.mul(FloatVector.fromArray(S, x, s, m0)), m0);
                    a1 = a1.add(fv.mul(FloatVector.fromArray(S, x, s + V)));
                    a2 = a2.add(fv.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                    a3 = a3.add(fv.mul(FloatVector.fromArray(S, x, s + 3 * V, m3)), m3);
                }
            }
        }
        int out = (p * h + i) * w + j;
        a0.intoArray(y, out);
        a1.intoArray(y, out + V);
        a2.intoArray(y, out + 2 * V);
        a3.intoArray(y, out + 3 * V);
    }

    /** Columns {@code [j, j + V)} of the row, which may reach past the row on either side. */
    private static void oneBlock(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                 int kc, int kh, int kw, int mode, int p, int i, int j) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int pw = kw / 2;
        int dyLo = Math.max(0, ph - i);
        int dyHi = Math.min(kh, h + ph - i);
        FloatVector a = FloatVector.broadcast(S, bias);
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = dyLo; dy < dyHi; dy++) {
                int row = (plane + i + dy - ph) * w;
                int tap = (dc * kh + dy) * kw;
                for (int d = 0; d < kw; d++) {
                    FloatVector fv = FloatVector.broadcast(S, f[tap + d]);
                    int col = j + d - pw;
                    VectorMask<Float> m = FROM[Math.max(0, -col)].and(BELOW[Math.max(0, col + V - w)]);
                    a = a.add(fv.mul(FloatVector.fromArray(S, x, row + col, m)), m);
                }
            }
        }
        a.intoArray(y, (p * h + i) * w + j);
    }

    /**
     * Output rows {@code [i0, i0 + rows)} of plane {@code p} for filter width 3 and a narrow row
     * ({@code w = B·V}, B = 1 or 2; any B up to 8 computes the same): the {@code 8/B} rows lie one after another in memory, so their
     * {@code 8V} outputs are eight blocks of a flat stream, as {@link #eightBlocks3}'s one row of 64 is,
     * and every source row of a tap row {@code (dc, dy)} sits at the same flat offset. Each block takes
     * the taps of its own output row in the plain loop's order (same bits); the block that starts a row
     * drops the left tap's outside lane, the block that ends one drops the right tap's, and a block
     * whose source row leaves the plane (at the top and bottom rows) skips that tap row, as the plain
     * loop does. Blocks beyond {@code rows} neither add nor store. The caller checks that every source
     * row has a row before and after it in {@code x} ({@link #insideArray}).
     */
    private static void rowGroup3(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                  int kc, int kh, int mode, int p, int i0, int rows) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int b = w / V;
        VectorMask<Float> l0 = FROM[0 % b == 0 ? 1 : 0];
        VectorMask<Float> r0 = BELOW[0 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l1 = FROM[1 % b == 0 ? 1 : 0];
        VectorMask<Float> r1 = BELOW[1 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l2 = FROM[2 % b == 0 ? 1 : 0];
        VectorMask<Float> r2 = BELOW[2 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l3 = FROM[3 % b == 0 ? 1 : 0];
        VectorMask<Float> r3 = BELOW[3 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l4 = FROM[4 % b == 0 ? 1 : 0];
        VectorMask<Float> r4 = BELOW[4 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l5 = FROM[5 % b == 0 ? 1 : 0];
        VectorMask<Float> r5 = BELOW[5 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l6 = FROM[6 % b == 0 ? 1 : 0];
        VectorMask<Float> r6 = BELOW[6 % b == b - 1 ? 1 : 0];
        VectorMask<Float> l7 = FROM[7 % b == 0 ? 1 : 0];
        VectorMask<Float> r7 = BELOW[7 % b == b - 1 ? 1 : 0];
        FloatVector a0 = FloatVector.broadcast(S, bias);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int dc = 0; dc < kc; dc++) {
            int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
            if (cs < 0) {
                continue;
            }
            int plane = (img * c + cs) * h;
            for (int dy = 0; dy < kh; dy++) {
                // output row r reads source row i0 + r + dy - ph, which must lie in [0, h)
                int klo = Math.max(0, ph - dy - i0) * b;
                int khi = Math.min(rows, h + ph - dy - i0) * b;
                if (klo >= khi) {
                    continue;
                }
                int s = (plane + i0 + dy - ph) * w;
                int tap = (dc * kh + dy) * 3;
                FloatVector f0 = FloatVector.broadcast(S, f[tap]);
                FloatVector f1 = FloatVector.broadcast(S, f[tap + 1]);
                FloatVector f2 = FloatVector.broadcast(S, f[tap + 2]);
                if (klo <= 0 && 0 < khi) {
                    a0 = a0.add(f0.mul(FloatVector.fromArray(S, x, s - 1)), l0);
                    a0 = a0.add(f1.mul(FloatVector.fromArray(S, x, s)));
                    a0 = a0.add(f2.mul(FloatVector.fromArray(S, x, s + 1)), r0);
                }
                if (klo <= 1 && 1 < khi) {
                    a1 = a1.add(f0.mul(FloatVector.fromArray(S, x, s + 1 * V - 1)), l1);
                    a1 = a1.add(f1.mul(FloatVector.fromArray(S, x, s + 1 * V)));
                    a1 = a1.add(f2.mul(FloatVector.fromArray(S, x, s + 1 * V + 1)), r1);
                }
                if (klo <= 2 && 2 < khi) {
                    a2 = a2.add(f0.mul(FloatVector.fromArray(S, x, s + 2 * V - 1)), l2);
                    a2 = a2.add(f1.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                    a2 = a2.add(f2.mul(FloatVector.fromArray(S, x, s + 2 * V + 1)), r2);
                }
                if (klo <= 3 && 3 < khi) {
                    a3 = a3.add(f0.mul(FloatVector.fromArray(S, x, s + 3 * V - 1)), l3);
                    a3 = a3.add(f1.mul(FloatVector.fromArray(S, x, s + 3 * V)));
                    a3 = a3.add(f2.mul(FloatVector.fromArray(S, x, s + 3 * V + 1)), r3);
                }
                if (klo <= 4 && 4 < khi) {
                    a4 = a4.add(f0.mul(FloatVector.fromArray(S, x, s + 4 * V - 1)), l4);
                    a4 = a4.add(f1.mul(FloatVector.fromArray(S, x, s + 4 * V)));
                    a4 = a4.add(f2.mul(FloatVector.fromArray(S, x, s + 4 * V + 1)), r4);
                }
                if (klo <= 5 && 5 < khi) {
                    a5 = a5.add(f0.mul(FloatVector.fromArray(S, x, s + 5 * V - 1)), l5);
                    a5 = a5.add(f1.mul(FloatVector.fromArray(S, x, s + 5 * V)));
                    a5 = a5.add(f2.mul(FloatVector.fromArray(S, x, s + 5 * V + 1)), r5);
                }
                if (klo <= 6 && 6 < khi) {
                    a6 = a6.add(f0.mul(FloatVector.fromArray(S, x, s + 6 * V - 1)), l6);
                    a6 = a6.add(f1.mul(FloatVector.fromArray(S, x, s + 6 * V)));
                    a6 = a6.add(f2.mul(FloatVector.fromArray(S, x, s + 6 * V + 1)), r6);
                }
                if (klo <= 7 && 7 < khi) {
                    a7 = a7.add(f0.mul(FloatVector.fromArray(S, x, s + 7 * V - 1)), l7);
                    a7 = a7.add(f1.mul(FloatVector.fromArray(S, x, s + 7 * V)));
                    a7 = a7.add(f2.mul(FloatVector.fromArray(S, x, s + 7 * V + 1)), r7);
                }
            }
        }
        int out = (p * h + i0) * w;
        int blocks = rows * b;
        if (0 < blocks) {
            a0.intoArray(y, out);
        }
        if (1 < blocks) {
            a1.intoArray(y, out + 1 * V);
        }
        if (2 < blocks) {
            a2.intoArray(y, out + 2 * V);
        }
        if (3 < blocks) {
            a3.intoArray(y, out + 3 * V);
        }
        if (4 < blocks) {
            a4.intoArray(y, out + 4 * V);
        }
        if (5 < blocks) {
            a5.intoArray(y, out + 5 * V);
        }
        if (6 < blocks) {
            a6.intoArray(y, out + 6 * V);
        }
        if (7 < blocks) {
            a7.intoArray(y, out + 7 * V);
        }
    }

    /**
     * Output rows {@code [i0, i0 + rows)} of plane {@code p} for filter width 3 and rows narrower than a
     * vector whose width divides it ({@code w = V/B}): the rows lie one after another in memory, so their
     * {@code rows·w ≤ 8V} outputs are up to eight blocks of a flat stream, each holding B rows, and every
     * source row of a tap row {@code (dc, dy)} sits at the same flat offset. Each lane takes the taps of
     * its own output element in the plain loop's order (same bits): a tap row adds only in the lanes whose
     * output row reads a source row inside the plane (lanes {@code [lo, hi)} of the stream; the others, at
     * the plane's top and bottom, skip it as the plain loop does), the left tap not in a row's first
     * column, the right tap not in its last. Every load is masked to the lanes that add, so nothing is
     * read outside {@code x}; the last block stores only the lanes of the group's rows.
     *
     * <p>One block at a time, with one accumulator. Written like {@link #rowGroup3}, eight accumulators and
     * their masks live at once, it took 97 µs per 4×64×8×8 launch inside a whole model at 512 bits (25 µs
     * for {@link #rowGroup3} at 256): HotSpot's C1 ran out of registers compiling it, so it ran boxed until
     * C2 took it. With two accumulators C1's tier 2 compiled it but its profiling tier 3 failed, and it
     * stayed at tier 2, boxed, for good: 1.3 ms per launch. One accumulator: 40 to 65 µs.
     */
    private static void narrowGroup3(float[] x, float[] f, float bias, float[] y, int c, int h, int w,
                                     int kc, int kh, int mode, int p, int i0, int rows) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int ph = kh / 2;
        int len = rows * w;
        int out = (p * h + i0) * w;
        VectorMask<Float> first = NOT_FIRST[w];
        VectorMask<Float> last = NOT_LAST[w];
        for (int k = 0; k < len; k += V) {
            FloatVector a = FloatVector.broadcast(S, bias);
            for (int dc = 0; dc < kc; dc++) {
                int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
                if (cs < 0) {
                    continue;
                }
                int plane = (img * c + cs) * h;
                for (int dy = 0; dy < kh; dy++) {
                    // output row r reads source row i0 + r + dy - ph, which must lie in [0, h)
                    int lo = Math.max(0, ph - dy - i0) * w;
                    int hi = Math.min(rows, h + ph - dy - i0) * w;
                    if (lo >= k + V || hi <= k) {
                        continue;
                    }
                    int s = (plane + i0 + dy - ph) * w + k;
                    int tap = (dc * kh + dy) * 3;
                    VectorMask<Float> m = S.indexInRange(k - lo, hi - lo);
                    VectorMask<Float> ml = m.and(first), mr = m.and(last);
                    a = a.add(FloatVector.broadcast(S, f[tap]).mul(FloatVector.fromArray(S, x, s - 1, ml)), ml);
                    a = a.add(FloatVector.broadcast(S, f[tap + 1]).mul(FloatVector.fromArray(S, x, s, m)), m);
                    a = a.add(FloatVector.broadcast(S, f[tap + 2]).mul(FloatVector.fromArray(S, x, s + 1, mr)), mr);
                }
            }
            a.intoArray(y, out + k, S.indexInRange(k, len));
        }
    }

    /**
     * Elements {@code [e0, e0 + len)} of plane {@code p} ({@code hw} elements each) for a channel-only
     * filter ({@code kh = kw = 1}): the bias, then {@code acc = acc + f[dc]·x} for each {@code dc} in
     * ascending order whose source channel exists, as {@link PrismConvKernels#forwardRow} adds them (same
     * bits). Four blocks at a time, then single blocks, the last one masked.
     */
    private static void channelSpan(float[] x, float[] f, float bias, float[] y, int c, int hw, int kc, int mode,
                                    int p, int e0, int len) {
        int img = p / c;
        int ch = p - img * c;
        int pc = kc / 2;
        int out = p * hw + e0;
        int k = 0;
        for (; k + 4 * V <= len; k += 4 * V) {
            FloatVector a0 = FloatVector.broadcast(S, bias);
            FloatVector a1 = a0, a2 = a0, a3 = a0;
            for (int dc = 0; dc < kc; dc++) {
                int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
                if (cs < 0) {
                    continue;
                }
                FloatVector fv = FloatVector.broadcast(S, f[dc]);
                int s = (img * c + cs) * hw + e0 + k;
                a0 = a0.add(fv.mul(FloatVector.fromArray(S, x, s)));
                a1 = a1.add(fv.mul(FloatVector.fromArray(S, x, s + V)));
                a2 = a2.add(fv.mul(FloatVector.fromArray(S, x, s + 2 * V)));
                a3 = a3.add(fv.mul(FloatVector.fromArray(S, x, s + 3 * V)));
            }
            a0.intoArray(y, out + k);
            a1.intoArray(y, out + k + V);
            a2.intoArray(y, out + k + 2 * V);
            a3.intoArray(y, out + k + 3 * V);
        }
        for (; k < len; k += V) {
            VectorMask<Float> m = S.indexInRange(k, len);
            FloatVector a = FloatVector.broadcast(S, bias);
            for (int dc = 0; dc < kc; dc++) {
                int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
                if (cs < 0) {
                    continue;
                }
                FloatVector fv = FloatVector.broadcast(S, f[dc]);
                a = a.add(fv.mul(FloatVector.fromArray(S, x, (img * c + cs) * hw + e0 + k, m)));
            }
            a.intoArray(y, out + k, m);
        }
    }
}
