package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the wavelet-gating kernels in {@link GatingKernels} (Spectral Diffusion §5.1).
 *
 * <p>How many gates: the paper calls g "the gating score of each wavelet band", computed from the
 * pooled feature of one sample, so the default is {@code gates = 1}: one gate per band per sample,
 * {@code g[N,4,1]}, shared by every channel. {@code gates = C}, {@code g[N,4,C]}, one gate per band and
 * channel, is the option for an FFN with 4C outputs. In both cases the FFN's output is read as
 * band-major {@code [N, 4, G]}.
 *
 * <p>Sizes {@code c, h, w} of the gated-sum and gating factories are those of one sub-band
 * ({@code y[N,4,C,h,w]}); the average pool takes any {@code x[N,C,H,W]}.
 */
public final class Gating {
    private static final Kernel ROW_SUMS = Kernel.of("gating.rowSums", "rowSumsLane");
    private static final Kernel BROADCAST = Kernel.of("gating.broadcast", "broadcastRow");
    private static final Kernel GATED_SUM = Kernel.of("gating.gatedSum", "gatedSumRow");
    private static final Kernel BAND_GATE = Kernel.of("gating.bandGate", "bandGateRow");
    private static final Kernel BAND_DOT = Kernel.of("gating.bandDot", "bandDotLane").vector("GatingVector", "bandDotLanes");
    private Gating() {
    }

    /**
     * Length of the {@code partial} scratch of {@link #gatedSumBackward} and {@link #bandGateBackward} when
     * one gate serves C channels: {@code 2·N·4·C}, each channel's partial sum a pair of floats
     * ({@link Sums#storeSplit}).
     */
    public static int partialLength(int n, int c) {
        return Check.of("gating.partial").size("partial", 2, n, 4, c);
    }

    /** {@code m[n,c] = mean over H·W of x[n,c,:,:]}. Reads {@code x[N,C,H,W]}, writes {@code m[N,C]}. */
    public static Launch avgPool(float[] x, float[] m, int n, int c, int h, int w) {
        Check k = dims("gating.avgPool", n, c, h, w);
        int size = k.size("x", n, c, h, w), planes = n * c, hw = h * w;
        k.length("x", x, size).length("m", m, planes).distinct("x", x, "m", m);
        return rowSums(x, m, planes, hw, (float) (1.0 / hw), size);
    }

    /** Backward of {@link #avgPool}: {@code gx[n,c,:,:] = gm[n,c] / (H·W)}. Writes {@code gx[N,C,H,W]}. */
    public static Launch avgPoolBackward(float[] gm, float[] gx, int n, int c, int h, int w) {
        Check k = dims("gating.avgPoolBackward", n, c, h, w);
        int size = k.size("gx", n, c, h, w), planes = n * c;
        k.length("gm", gm, planes).length("gx", gx, size).distinct("gm", gm, "gx", gx);
        // The same rounded 1/(H·W) as the forward pass, so the pair is an exact transpose.
        float scale = (float) (1.0 / ((long) h * w));
        return BROADCAST.with(gm, gx, planes, h, w, scale).writes(1).grid(planes, h).launch(size, 4L * (planes + size));
    }

    /**
     * WG-Down's gated sum: {@code out[n,c] = Σ_k g[n,k,c or 0] · y[n,k,c]}. Reads {@code y[N,4,C,h,w]},
     * {@code g[N,4,gates]}, writes {@code out[N,C,h,w]}.
     */
    public static Launch gatedSum(float[] y, float[] g, float[] out, int n, int c, int h, int w, int gates) {
        Check k = bands("gating.gatedSum", n, c, h, w, gates);
        int plane = k.size("out", n, c, h, w);
        k.length("y", y, 4L * plane).length("g", g, 4L * n * gates).length("out", out, plane)
                .distinct("y", y, "out", out).distinct("g", g, "out", out);
        return GATED_SUM.with(y, g, out, n, c, h, w, gates).writes(2).grid(n * c, h)
                .launch(8L * plane, 4L * (5L * plane + 4L * n * gates));
    }

    /**
     * Backward of {@link #gatedSum}: {@code gy[n,k,c] = g[n,k,c or 0] · gout[n,c]} and
     * {@code gg[n,k,c] = Σ_{h,w} y[n,k,c]·gout[n,c]} (G = C) or {@code gg[n,k] = Σ_c Σ_{h,w} y·gout}
     * (G = 1). Writes {@code gy[N,4,C,h,w]}, {@code gg[N,4,gates]} and, when {@code gates = 1 < c},
     * {@code partial} (at least {@link #partialLength} floats: per-channel sums as pairs of floats, reduced
     * by a second launch so that each sum has one owner); {@code partial} may be null when {@code gates = c}. Launches in order: gy, the partial
     * sums (or gg), the reduction (G = 1 < C only).
     */
    public static List<Launch> gatedSumBackward(float[] y, float[] g, float[] gout, float[] gy, float[] partial,
                                                float[] gg, int n, int c, int h, int w, int gates) {
        String kernel = "gating.gatedSumBackward";
        Check k = bands(kernel, n, c, h, w, gates);
        int plane = k.size("gout", n, c, h, w);
        k.length("y", y, 4L * plane).length("g", g, 4L * n * gates).length("gout", gout, plane)
                .length("gy", gy, 4L * plane).length("gg", gg, 4L * n * gates)
                .distinct("gout", gout, "gy", gy).distinct("g", g, "gy", gy).distinct("y", y, "gy", gy)
                .distinct("y", y, "gg", gg).distinct("gout", gout, "gg", gg).distinct("g", g, "gg", gg);
        Launch dy = bandGate(gout, 0, g, gy, n, c, h, w, gates);
        return gateGradient(dy, y, "gout", gout, 0, partial, gg, n, c, h * w, gates, k);
    }

    /**
     * WG-Up's band gating: {@code z[n,k,c] = g[n,k,c or 0] · x[n,k,c]}, x being the input
     * {@code [N,4C,h,w]} seen as four chunks {@code [N,4,C,h,w]}. Reads {@code x}, {@code g[N,4,gates]},
     * writes {@code z[N,4,C,h,w]}.
     */
    public static Launch bandGate(float[] x, float[] g, float[] z, int n, int c, int h, int w, int gates) {
        Check k = bands("gating.bandGate", n, c, h, w, gates);
        int size = k.size("z", n, 4, c, h, w);
        k.length("x", x, size).length("g", g, 4L * n * gates).length("z", z, size)
                .distinct("x", x, "z", z).distinct("g", g, "z", z);
        return bandGate(x, 1, g, z, n, c, h, w, gates);
    }

    /**
     * Backward of {@link #bandGate}: {@code gx[n,k,c] = g[n,k,c or 0] · gz[n,k,c]} (the gating itself,
     * applied to gz) and {@code gg} as in {@link #gatedSumBackward} with {@code Σ x·gz}. Writes
     * {@code gx[N,4,C,h,w]}, {@code gg[N,4,gates]} and, when {@code gates = 1 < c}, {@code partial} ({@link #partialLength}).
     */
    public static List<Launch> bandGateBackward(float[] x, float[] g, float[] gz, float[] gx, float[] partial,
                                                float[] gg, int n, int c, int h, int w, int gates) {
        String kernel = "gating.bandGateBackward";
        Check k = bands(kernel, n, c, h, w, gates);
        int size = k.size("gz", n, 4, c, h, w);
        k.length("x", x, size).length("g", g, 4L * n * gates).length("gz", gz, size)
                .length("gx", gx, size).length("gg", gg, 4L * n * gates)
                .distinct("gz", gz, "gx", gx).distinct("g", g, "gx", gx).distinct("x", x, "gx", gx)
                .distinct("x", x, "gg", gg).distinct("gz", gz, "gg", gg).distinct("g", g, "gg", gg);
        Launch dx = bandGate(gz, 1, g, gx, n, c, h, w, gates);
        return gateGradient(dx, x, "gz", gz, 1, partial, gg, n, c, h * w, gates, k);
    }

    private static List<Launch> gateGradient(Launch first, float[] y, String zName, float[] z, int perBand,
                                             float[] partial, float[] gg, int n, int c, int hw, int gates, Check k) {
        int q = 4 * n * c;
        if (gates == c) {
            return List.of(first, bandDot(y, z, perBand, gg, 0, n, c, hw));
        }
        k.length("partial", partial, partialLength(n, c)).distinct("y", y, "partial", partial).distinct(zName, z, "partial", partial)
                .distinct("partial", partial, "gg", gg)
                .distinct("partial", partial, perBand == 1 ? "gx" : "gy", first.outputs()[0]);
        return List.of(first, bandDot(y, z, perBand, partial, 1, n, c, hw),
                rowSums(partial, gg, 4 * n, 2 * c, 1f, 2L * q));
    }

    private static Launch bandGate(float[] x, int perBand, float[] g, float[] z,
                                   int n, int c, int h, int w, int gates) {
        int size = 4 * n * c * h * w;
        return BAND_GATE.with(x, perBand, g, z, n, c, h, w, gates).writes(3).grid(4 * n * c, h)
                .launch(size, 4L * ((perBand == 1 ? size : size / 4) + size + 4L * n * gates));
    }

    private static Launch bandDot(float[] y, float[] z, int perBand, float[] out, int pairs, int n, int c, int hw) {
        int q = 4 * n * c;
        long size = (long) q * hw;
        return BAND_DOT.with(y, z, perBand, out, pairs, n, c, hw).writes(3).grid(q)
                .launch(2L * size, 4L * (size + (perBand == 1 ? size : size / 4) + (1L + pairs) * q));
    }

    private static Launch rowSums(float[] in, float[] out, int rows, int len, float scale, long size) {
        return ROW_SUMS.with(in, out, rows, len, scale).writes(1).grid(rows).launch(size + rows, 4L * (size + rows));
    }

    private static Check dims(String kernel, int n, int c, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("c", c).positive("h", h).positive("w", w);
    }

    private static Check bands(String kernel, int n, int c, int h, int w, int gates) {
        Check k = dims(kernel, n, c, h, w);
        return k.that(gates == 1 || gates == c, "gates", "1 or c = " + c, gates);
    }
}
