package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Hand-vectorised JVM variant (Vector API) of {@link ResampleKernels#upfirdnRow}, StyleGAN2's upfirdn2d, which stays
 * the reference and the TornadoVM input. Per output row and per filter row that lands on an input row (the loop's
 * rows, in its order), the input row is laid out zero-inserted and zero-padded in a scratch row, and the horizontal
 * sums {@code s[q'] = Σ_j k[kt−1−j]·u[q' + j]} are computed for every full-resolution column q' at once, vectors along
 * q', j ascending; the output row then adds {@code k[kt−1−i]·s[q·down]}, i ascending. The loop's operations in its
 * order (products and sums rounded, no fused multiply-add), except that the taps the loop skips (on inserted zeros and
 * padding) add a zero product here: the same values, up to the sign of a zero sum. With {@code down > 1} the
 * horizontal sums are computed at every column and every down-th is kept.
 */
final class ResampleVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int V = F.length();

    /** Per thread, reused: the zero-inserted input row, the horizontal sums and the output row. */
    private static final class Scratch {
        float[] u = new float[0];
        float[] s = new float[0];
        float[] acc = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private ResampleVector() {
    }

    /** Lanes {@code [from, to)} (lane {@code p·oh + o}: output row o of plane p) of {@link ResampleKernels#upfirdn}. */
    static void upfirdnRows(float[] x, float[] k, float[] y, int planes, int h, int w, int oh, int ow,
                            int up, int down, int pad, int kt, int from, int to) {
        // full-resolution columns q' = 0 .. (ow − 1)·down, each reading u[q' + j − pad] for j < kt
        int cols = (ow - 1) * down + 1;
        int colsV = (cols + V - 1) / V * V;
        int uLen = colsV + kt;
        Scratch sc = SCRATCH.get();
        if (sc.u.length < uLen) {
            sc.u = new float[uLen];
        }
        if (sc.s.length < colsV) {
            sc.s = new float[colsV];
        }
        if (sc.acc.length < ow) {
            sc.acc = new float[ow];
        }
        float[] u = sc.u, s = sc.s, acc = sc.acc;
        for (int l = from; l < to; l++) {
            int p = l / oh;
            int o = l - p * oh;
            java.util.Arrays.fill(acc, 0, ow, 0f);
            int r0 = o * down - pad;
            for (int i = 0; i < kt; i++) {
                int r = r0 + i;
                if (r < 0 || r >= h * up || r % up != 0) {
                    continue;
                }
                int src = (p * h + r / up) * w;
                // u[c] holds the zero-inserted row at column c − pad
                if (up == 1) {
                    int n = Math.min(w, uLen - pad);
                    java.util.Arrays.fill(u, 0, pad, 0f);
                    System.arraycopy(x, src, u, pad, n);
                    java.util.Arrays.fill(u, pad + n, uLen, 0f);
                } else {
                    java.util.Arrays.fill(u, 0, uLen, 0f);
                    for (int c = 0; c < w; c++) {
                        int at = c * up + pad;
                        if (at < uLen) {
                            u[at] = x[src + c];
                        }
                    }
                }
                for (int q = 0; q < colsV; q += V) {
                    FloatVector sum = FloatVector.zero(F);
                    for (int j = 0; j < kt; j++) {
                        sum = sum.add(FloatVector.fromArray(F, u, q + j).mul(k[kt - 1 - j]));
                    }
                    sum.intoArray(s, q);
                }
                float ki = k[kt - 1 - i];
                int q = 0;
                if (down == 1) {
                    for (; q + V <= ow; q += V) {
                        FloatVector.fromArray(F, acc, q).add(FloatVector.fromArray(F, s, q).mul(ki)).intoArray(acc, q);
                    }
                }
                for (; q < ow; q++) {
                    acc[q] += ki * s[q * down];
                }
            }
            System.arraycopy(acc, 0, y, (p * oh + o) * ow, ow);
        }
    }
}
