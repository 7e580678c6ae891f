package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the DCT kernels in {@link DctKernels}: images {@code x[N,C,H,W]} and their
 * orthonormal 2-D DCT-II coefficients {@code y[N,C,H,W]} (coefficient {@code [u,v]}: frequency u along
 * H, v along W), for any H, W ≥ 1.
 *
 * <p>A transform is two launches, one pass along W into a caller-provided {@code scratch[N·C·H·W]}
 * (which then holds the planes transposed, {@code [N,C,W,H]}), then one pass along H out of it, so its
 * factories return a list to add to a plan in order. The
 * passes read constant cosine tables of length {@code 2H²} and {@code 2W²} from {@link #cosineTable}
 * (or the {@link #table} kernel); when H = W one table may serve both. The input and the output may be
 * one array (the first pass reads only the input, the second writes only the output); the scratch and
 * the tables must be distinct from both.
 */
public final class Dct {
    private static final Kernel TABLE = Kernel.of("dct.table", "tableRow");
    private static final Kernel PASS = Kernel.of("dct.pass", "passRow").vector("DctVector", "passRows");
    private static final Kernel LOWPASS = Kernel.of("dct.lowpass", "lowpassRow").vector("DctVector", "lowpassRows");
    private Dct() {
    }

    /**
     * The table of the length-{@code n} orthonormal DCT-II that the transforms read (layout in
     * {@link DctKernels}), computed on the calling thread by the same helper as the {@link #table}
     * kernel. A new array of length {@code 2n²}.
     */
    public static float[] cosineTable(int n) {
        Check k = Check.of("dct.table").positive("n", n);
        float[] t = new float[k.size("t", 2, n, n)];
        for (int f = 0; f < n; f++) {
            DctKernels.tableRow(t, n, f);
        }
        return t;
    }

    /** Writes the length-{@code n} table into {@code t[2n²]}. */
    public static Launch table(float[] t, int n) {
        Check k = Check.of("dct.table").positive("n", n);
        k.length("t", t, k.size("t", 2, n, n));
        return TABLE.with(t, n).writes(0).grid(n).launch(3L * n * n, 8L * n * n);
    }

    /**
     * {@code y = DCT-II(x)} over the last two axes, orthonormal. Writes {@code scratch} (first launch)
     * and {@code y} (second). {@code tableH[2h²]}, {@code tableW[2w²]}: from {@link #cosineTable}.
     */
    public static List<Launch> dct2(float[] x, float[] tableH, float[] tableW, float[] scratch, float[] y,
                                    int n, int c, int h, int w) {
        return transform("dct.dct2", x, tableH, tableW, scratch, y, n, c, h, w, false);
    }

    /** {@code x = DCT-III(y)}, the inverse of {@link #dct2}. Writes {@code scratch}, then {@code x}. */
    public static List<Launch> idct2(float[] y, float[] tableH, float[] tableW, float[] scratch, float[] x,
                                     int n, int c, int h, int w) {
        return transform("dct.idct2", y, tableH, tableW, scratch, x, n, c, h, w, true);
    }

    /**
     * Backward of {@link #dct2}: {@code gx = DCTᵀ(gy) = IDCT(gy)}, because the orthonormal DCT is an
     * orthogonal map, whose transpose is its inverse. Writes {@code scratch}, then {@code gx}.
     */
    public static List<Launch> dct2Backward(float[] gy, float[] tableH, float[] tableW, float[] scratch, float[] gx,
                                            int n, int c, int h, int w) {
        return idct2(gy, tableH, tableW, scratch, gx, n, c, h, w);
    }

    /** Backward of {@link #idct2}: {@code gy = DCT(gx)}. Writes {@code scratch}, then {@code gy}. */
    public static List<Launch> idct2Backward(float[] gx, float[] tableH, float[] tableW, float[] scratch, float[] gy,
                                             int n, int c, int h, int w) {
        return dct2(gx, tableH, tableW, scratch, gy, n, c, h, w);
    }

    /**
     * {@code y = x} on the lowest-frequency {@code k×k} block of every plane of DCT coefficients, 0
     * elsewhere; {@code k} in {@code [0, min(h, w)]}. Writes {@code y}. A plan whose k changes between
     * steps holds one launch per distinct k: k is captured when the plan is built.
     */
    public static Launch lowpass(float[] x, float[] y, int n, int c, int h, int w, int k) {
        Check ck = check("dct.lowpass", n, c, h, w).range("k", k, 0, Math.min(h, w));
        int size = ck.size("x", n, c, h, w);
        ck.length("x", x, size).length("y", y, size).distinct("x", x, "y", y);
        int planes = n * c;
        return LOWPASS.with(x, y, planes, h, w, k).writes(1).grid(planes, h).launch(0L, 8L * size);
    }

    /** Backward of {@link #lowpass}: the mask is diagonal with 0/1 entries, so {@code gx = lowpass(gy)}. Writes {@code gx}. */
    public static Launch lowpassBackward(float[] gy, float[] gx, int n, int c, int h, int w, int k) {
        return lowpass(gy, gx, n, c, h, w, k);
    }

    private static List<Launch> transform(String kernel, float[] in, float[] tableH, float[] tableW, float[] scratch,
                                          float[] out, int n, int c, int h, int w, boolean inverse) {
        String inName = inverse ? "y" : "x", outName = inverse ? "x" : "y";
        Check k = check(kernel, n, c, h, w);
        int size = k.size(inName, n, c, h, w);
        k.length(inName, in, size).length("tableH", tableH, k.size("tableH", 2, h, h))
                .length("tableW", tableW, k.size("tableW", 2, w, w))
                .length("scratch", scratch, size).length(outName, out, size)
                .distinct(inName, in, "scratch", scratch).distinct("scratch", scratch, outName, out)
                .distinct("tableH", tableH, "scratch", scratch).distinct("tableH", tableH, outName, out)
                .distinct("tableW", tableW, "scratch", scratch).distinct("tableW", tableW, outName, out);
        int planes = n * c;
        // Forward: M = D (first half of each table); inverse: M = Dᵀ (second half). The first pass turns
        // [p, h, w] into [p, w, h] along W, the second turns that back into [p, h, w] along H.
        int offW = inverse ? w * w : 0;
        int offH = inverse ? h * h : 0;
        Launch passW = PASS.with(in, tableW, offW, scratch, planes, h, w).writes(3).grid(planes, h)
                .launch(2L * size * w, 4L * (2L * size + (long) w * w));
        Launch passH = PASS.with(scratch, tableH, offH, out, planes, w, h).writes(3).grid(planes, w)
                .launch(2L * size * h, 4L * (2L * size + (long) h * h));
        return List.of(passW, passH);
    }

    private static Check check(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }
}
