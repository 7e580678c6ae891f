package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the CosConv / ChebConv kernels in {@link ApproxKernels}: coefficients
 * {@code a[Cout, Cin, N, N]}, synthesised convolution weights {@code w[Cout, Cin, K, K]}, basis table
 * {@code B[2·N·K]} (B then Bᵀ), with {@code 1 ≤ N ≤ K} (ApproxConv §3.3: N harmonics for a K×K kernel).
 */
public final class Approx {
    private static final Kernel BASIS = Kernel.of("approx.basis", "basisLane");
    private static final Kernel SYNTHESIZE = Kernel.of("approx.synthesize", "synthesizeRow").vector("ApproxVector", "synthesizeRows");
    private Approx() {
    }

    /** The two series of ApproxConv, with their default sample intervals. */
    public enum Basis {
        /**
         * {@code φ_p(x) = cos(p·x)} (ApproxConv eq. (3)) on {@code [0.2π, 0.8π]}, the interval of the
         * authors' code: away from 0 and π, where every cos(p·x) would be flat.
         */
        COSINE(ApproxKernels.COSINE, (float) (0.2 * Math.PI), (float) (0.8 * Math.PI)),
        /** {@code φ_p = T_p} (ApproxConv eq. (4)) on {@code [−1, 1]}, the Chebyshev polynomials' natural interval. */
        CHEBYSHEV(ApproxKernels.CHEBYSHEV, -1f, 1f);

        private final int code;
        private final float x0;
        private final float x1;

        Basis(int code, float x0, float x1) {
            this.code = code;
            this.x0 = x0;
            this.x1 = x1;
        }

        /** The kernel's {@code kind} argument. */
        public int code() {
            return code;
        }

        /** The default first sample point. */
        public float x0() {
            return x0;
        }

        /** The default last sample point. */
        public float x1() {
            return x1;
        }
    }

    /** Length of the basis table for {@code n} functions at {@code k} points: {@code 2·n·k}. */
    public static int tableLength(int n, int k) {
        return 2 * n * k;
    }

    /**
     * The basis table on the calling thread, by the same helper as the {@link #basis} kernel: a new
     * array of length {@code 2nk}, sample points on the basis's default interval.
     */
    public static float[] basisTable(Basis basis, int n, int k) {
        float[] t = new float[checkBasis("approx.basis", basis, n, k, basis.x0(), basis.x1())];
        for (int u = 0; u < k; u++) {
            ApproxKernels.basisLane(t, basis.code(), n, k, basis.x0(), basis.x1(), u);
        }
        return t;
    }

    /** Writes the table {@code t[2nk]} of {@code n} basis functions at {@code k} points of the default interval. */
    public static Launch basis(float[] t, Basis basis, int n, int k) {
        return basis(t, basis, n, k, basis.x0(), basis.x1());
    }

    /**
     * Writes the table {@code t[2nk]} of {@code n} basis functions at {@code k} equispaced points of
     * {@code [x0, x1]} (both ends included; the midpoint when k = 1).
     */
    public static Launch basis(float[] t, Basis basis, int n, int k, float x0, float x1) {
        int len = checkBasis("approx.basis", basis, n, k, x0, x1);
        Check.of("approx.basis").length("t", t, len);
        int kind = basis.code();
        return BASIS.with(t, kind, n, k, x0, x1).writes(0).grid(k).launch(4L * n * k, 4L * len);
    }

    /**
     * {@code w[o,i] = Bᵀ · a[o,i] · B} for every pair (ApproxConv eqs. (3)–(4)): reads
     * {@code a[cout,cin,n,n]} and {@code table[2nk]}, writes {@code w[cout,cin,k,k]}.
     */
    public static Launch synthesize(float[] a, float[] table, float[] w, int cout, int cin, int n, int k) {
        return congruence("approx.synthesize", "a", a, table, 0, "w", w, cout, cin, n, k, n, k);
    }

    /**
     * Backward of {@link #synthesize}: {@code ga[o,i] = B · gw[o,i] · Bᵀ}. Reads {@code gw[cout,cin,k,k]}
     * and {@code table[2nk]}, writes {@code ga[cout,cin,n,n]}. The basis is a constant, so there is no
     * other gradient.
     */
    public static Launch synthesizeBackward(float[] gw, float[] table, float[] ga, int cout, int cin, int n, int k) {
        return congruence("approx.synthesizeBackward", "gw", gw, table, n * k, "ga", ga, cout, cin, n, k, k, n);
    }

    private static Launch congruence(String kernel, String inName, float[] in, float[] table, int offset,
                                     String outName, float[] out, int cout, int cin, int n, int k, int pn, int rn) {
        Check ck = Check.of(kernel).positive("cout", cout).positive("cin", cin).positive("k", k).positive("n", n)
                .that(n <= k, "n", "<= k = " + k, n);
        int pairs = ck.size("pairs", cout, cin);
        ck.length(inName, in, ck.size(inName, cout, cin, pn, pn)).length("table", table, tableLength(n, k))
                .length(outName, out, ck.size(outName, cout, cin, rn, rn))
                .distinct(inName, in, outName, out).distinct("table", table, outName, out);
        long flops = 2L * pairs * rn * pn * (pn + rn);
        long bytes = 4L * ((long) pairs * (pn * pn + rn * rn) + tableLength(n, k));
        return SYNTHESIZE.with(in, table, offset, out, pairs, pn, rn).writes(3).grid(pairs, rn).launch(flops, bytes);
    }

    private static int checkBasis(String kernel, Basis basis, int n, int k, float x0, float x1) {
        Check ck = Check.of(kernel).that(basis != null, "basis", "COSINE or CHEBYSHEV", "null")
                .positive("k", k).positive("n", n).that(n <= k, "n", "<= k = " + k, n)
                .finite("x0", x0).finite("x1", x1).that(x0 < x1, "x1", "> x0 = " + x0, x1);
        return ck.size("t", 2, n, k);
    }
}
