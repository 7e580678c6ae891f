package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the 2-D DFT kernels in {@link DftKernels}: real images {@code x[N,C,H,W]} and their
 * unnormalised 2-D DFT {@code y[N,C,H,W,2]} (complex, interleaved; {@code torch.view_as_real(torch.fft.fft2(x))}),
 * for any H, W ≥ 1.
 *
 * <p>A transform is two launches, one pass along W into a caller-provided {@code scratch[2·N·C·H·W]} (the
 * planes transposed and complex, {@code [N,C,W,H,2]}), then one pass along H out of it; the factories return
 * them in order. The passes read constant tables of length {@code 2H²} and {@code 2W²} from {@link #twiddleTable}
 * (or the {@link #table} kernel); when H = W one table serves both. Scratch and tables must be distinct from
 * the input and the output.
 */
public final class Dft {
    private static final Kernel TABLE = Kernel.of("dft.table", "tableRow");
    private static final Kernel PASS = Kernel.of("dft.pass", "passRow").vector("DftVector", "passRows");

    private Dft() {
    }

    /**
     * The length-{@code n} table the transforms read (layout in {@link DftKernels}), computed on the calling
     * thread by the same helper as the {@link #table} kernel. A new array of length {@code 2n²}.
     */
    public static float[] twiddleTable(int n) {
        Check k = Check.of("dft.table").positive("n", n);
        float[] t = new float[k.size("t", 2, n, n)];
        for (int f = 0; f < n; f++) {
            DftKernels.tableRow(t, n, f);
        }
        return t;
    }

    /** Writes the length-{@code n} table into {@code t[2n²]}. */
    public static Launch table(float[] t, int n) {
        Check k = Check.of("dft.table").positive("n", n);
        k.length("t", t, k.size("t", 2, n, n));
        return TABLE.with(t, n).writes(0).grid(n).launch(4L * n * n, 8L * n * n);
    }

    /**
     * {@code y = fft2(x)} over the last two axes: reads {@code x[N,C,H,W]} (real), writes {@code scratch[2NCHW]}
     * (first launch) and {@code y[N,C,H,W,2]} (second).
     */
    public static List<Launch> fft2(float[] x, float[] tableH, float[] tableW, float[] scratch, float[] y, int n, int c, int h, int w) {
        return transform("dft.fft2", "x", x, "y", y, tableH, tableW, scratch, n, c, h, w, -1,
                DftKernels.REAL_TO_COMPLEX, DftKernels.COMPLEX_TO_COMPLEX);
    }

    /**
     * Backward of {@link #fft2}: {@code gx = Re(F^H gy)}, the gradient of a real loss with respect to the real
     * input, given {@code gy[N,C,H,W,2] = ∂L/∂Re y + i·∂L/∂Im y}. Writes {@code scratch}, then {@code gx[N,C,H,W]}.
     */
    public static List<Launch> fft2Backward(float[] gy, float[] tableH, float[] tableW, float[] scratch, float[] gx,
                                            int n, int c, int h, int w) {
        return transform("dft.fft2Backward", "gy", gy, "gx", gx, tableH, tableW, scratch, n, c, h, w, 1,
                DftKernels.COMPLEX_TO_COMPLEX, DftKernels.COMPLEX_TO_REAL);
    }

    private static List<Launch> transform(String kernel, String inName, float[] in, String outName, float[] out, float[] tableH,
                                          float[] tableW, float[] scratch, int n, int c, int h, int w, int sign, int first, int second) {
        Check k = Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
        int size = k.size("x", n, c, h, w);
        int complex = k.size("y", n, c, h, w, 2);
        k.length(inName, in, first == DftKernels.REAL_TO_COMPLEX ? size : complex)
                .length(outName, out, second == DftKernels.COMPLEX_TO_REAL ? size : complex)
                .length("tableH", tableH, k.size("tableH", 2, h, h)).length("tableW", tableW, k.size("tableW", 2, w, w))
                .length("scratch", scratch, complex)
                .distinct(inName, in, "scratch", scratch).distinct("scratch", scratch, outName, out).distinct(inName, in, outName, out)
                .distinct("tableH", tableH, "scratch", scratch).distinct("tableH", tableH, outName, out)
                .distinct("tableW", tableW, "scratch", scratch).distinct("tableW", tableW, outName, out);
        int planes = n * c;
        Launch passW = PASS.with(in, tableW, scratch, planes, h, w, sign, first).writes(2).grid(planes, h)
                .launch(8L * size * w, 4L * (2L * size + 3L * size + 2L * w * w));
        Launch passH = PASS.with(scratch, tableH, out, planes, w, h, sign, second).writes(2).grid(planes, w)
                .launch(8L * size * h, 4L * (4L * size + 2L * size + 2L * h * h));
        return List.of(passW, passH);
    }
}
