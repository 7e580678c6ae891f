package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variant (Vector API) of {@link ApproxKernels#synthesizeRow}, ApproxConv's congruence
 * {@code out[pair] = Mᵀ · in[pair] · M} (synthesis and its backward), which stays the reference and the TornadoVM
 * input. One vector lane per pair: {@code L} whole pairs at a time are copied into scratch with their elements
 * lane-interleaved, the loop's operations run on vectors in the loop's order (a product, then a sum, each rounded as
 * the loop rounds it), and the results are copied back. The same bits as the loop; the lanes of a pair cut by a
 * thread's range, and the pairs after the last whole group of {@code L}, run the loop's helper.
 *
 * <p>Each thread keeps its scratch in a thread-local, grown on first use: no allocation in steady state.
 */
final class ApproxVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int L = F.length();

    private static final class Scratch {
        float[] in = new float[0];
        float[] out = new float[0];
        float[] c = new float[0];
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private ApproxVector() {
    }

    /**
     * Lanes {@code [from, to)} of {@link ApproxKernels#synthesize}, lane {@code l} being output row {@code r = l % rn}
     * of pair {@code l / rn}.
     */
    static void synthesizeRows(float[] in, float[] table, int offset, float[] out, int pairs, int pn, int rn, int from, int to) {
        int l = from;
        // a pair cut by the range's start: its rows one by one
        while (l < to && l % rn != 0) {
            ApproxKernels.synthesizeRow(in, table, offset, out, pairs, pn, rn, l / rn, l % rn);
            l++;
        }
        int p0 = l / rn;
        int whole = (to - l) / rn;
        int groups = whole / L;
        if (groups > 0) {
            Scratch s = SCRATCH.get();
            int ps = pn * pn, rs = rn * rn;
            if (s.in.length < ps * L) {
                s.in = new float[ps * L];
            }
            if (s.out.length < rs * L) {
                s.out = new float[rs * L];
            }
            if (s.c.length < pn * L) {
                s.c = new float[pn * L];
            }
            for (int g = 0; g < groups; g++) {
                group(in, table, offset, out, pn, rn, p0 + g * L, s);
            }
        }
        l += groups * L * rn;
        for (; l < to; l++) {
            ApproxKernels.synthesizeRow(in, table, offset, out, pairs, pn, rn, l / rn, l % rn);
        }
    }

    /** Pairs {@code [p0, p0 + L)}, every row. */
    private static void group(float[] in, float[] table, int offset, float[] out, int pn, int rn, int p0, Scratch s) {
        int ps = pn * pn, rs = rn * rn;
        float[] x = s.in, y = s.out, cq = s.c;
        // x[e·L + j] = in[(p0 + j)·P² + e]
        for (int j = 0; j < L; j++) {
            int a = (p0 + j) * ps;
            for (int e = 0; e < ps; e++) {
                x[e * L + j] = in[a + e];
            }
        }
        for (int r = 0; r < rn; r++) {
            // c_q = Σ_p M[p][r]·in[p, q], p ascending from 0f, each product rounded, then added (the loop's weight())
            for (int q = 0; q < pn; q++) {
                FloatVector c = FloatVector.zero(F);
                for (int p = 0; p < pn; p++) {
                    c = c.add(FloatVector.fromArray(F, x, (p * pn + q) * L).mul(table[offset + p * rn + r]));
                }
                c.intoArray(cq, q * L);
            }
            // out[r, s] = c_0·M[0][s], then += c_q·M[q][s] for q ascending
            for (int t = 0; t < rn; t++) {
                FloatVector o = FloatVector.fromArray(F, cq, 0).mul(table[offset + t]);
                for (int q = 1; q < pn; q++) {
                    o = o.add(FloatVector.fromArray(F, cq, q * L).mul(table[offset + q * rn + t]));
                }
                o.intoArray(y, (r * rn + t) * L);
            }
        }
        for (int j = 0; j < L; j++) {
            int o = (p0 + j) * rs;
            for (int e = 0; e < rs; e++) {
                out[o + e] = y[e * L + j];
            }
        }
    }
}
