package dev.prism.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hand-vectorised JVM variants (Vector API) of {@link ElementwiseKernels#sumPlanes} (the gradients of a bias
 * and of a per-plane vector: each result a sum in double, of the widened lanes in four partial sums, as group
 * norm's statistics sum; the plain helper sums in another order, so the two differ in the last bits of a double
 * before the rounding to float) and of {@link ElementwiseKernels#modulatePlanes}, the adaptive group
 * norm's per-(n, c) scale and shift with optional SiLU in WaveDiff's generator, which the plain loop's row helper
 * ran at about 1.5 GFLOP/s (a scalar double {@code Math.exp} per element): 7% of a CIFAR-10 forward at batch 100.
 * The plain loops stay the reference and the TornadoVM input.
 *
 * <p>Without SiLU it is the loop's {@code x·γ + β} lane by lane, a multiply then an add (no FMA): the same bits.
 * With SiLU it evaluates {@code v / (1 + exp(−v))} in float with {@link VectorMath#exp(FloatVector)}, as
 * {@link ActivationVector}'s SiLU does: a few float ulps from the plain helper, inside the shared tolerance.
 *
 * <p>A range of lanes (rows of planes) is contiguous in memory; each plane's part of it is one stream under one
 * broadcast γ and β, its tail a masked vector. Every element takes the same operations wherever a thread's range
 * ends, so every thread count gives the same bits. Elements are read before they are written (in place works).
 */
public final class ElementwiseVector {
    private static final VectorSpecies<Float> F = VectorMath.FLOAT;
    private static final int V = F.length();

    private ElementwiseVector() {
    }

    /** Lanes {@code [from, to)} (lane {@code p·h + i}: row i of plane p) of {@link ElementwiseKernels#modulatePlanes}. */
    public static void modulatePlanesRows(float[] x, float[] s, float[] y, int n, int c, int h, int w, int silu, int from, int to) {
        int lane = from;
        while (lane < to) {
            int p = lane / h;
            int last = Math.min(to, (p + 1) * h);
            int b = p / c;
            int ch = p - b * c;
            FloatVector gamma = FloatVector.broadcast(F, s[b * 2 * c + ch]);
            FloatVector beta = FloatVector.broadcast(F, s[b * 2 * c + c + ch]);
            int end = last * w;
            int i = lane * w;
            if (silu != 0) {
                for (; i + V <= end; i += V) {
                    FloatVector v = FloatVector.fromArray(F, x, i).mul(gamma).add(beta);
                    v.div(VectorMath.exp(v.neg()).add(1f)).intoArray(y, i);
                }
                for (; i < end; i += V) {
                    VectorMask<Float> m = F.indexInRange(i, end);
                    FloatVector v = FloatVector.fromArray(F, x, i, m).mul(gamma).add(beta);
                    v.div(VectorMath.exp(v.neg()).add(1f)).intoArray(y, i, m);
                }
            } else {
                for (; i + V <= end; i += V) {
                    FloatVector.fromArray(F, x, i).mul(gamma).add(beta).intoArray(y, i);
                }
                for (; i < end; i += V) {
                    VectorMask<Float> m = F.indexInRange(i, end);
                    FloatVector.fromArray(F, x, i, m).mul(gamma).add(beta).intoArray(y, i, m);
                }
            }
            lane = last;
        }
    }

    /** Results {@code [from, to)} of {@link ElementwiseKernels#sumPlanes}. */
    public static void sumPlanesLanes(float[] g, float[] out, int count, int reps, int hw, int from, int to) {
        for (int k = from; k < to; k++) {
            double s = 0;
            for (int m = 0; m < reps; m++) {
                s += NormVector.sum(g, (m * count + k) * hw, hw);
            }
            out[k] = (float) s;
        }
    }

    /**
     * Lanes {@code [from, to)} (lane {@code p·h + y}: row y of plane p) of {@link ElementwiseKernels#addPlanes}, the
     * loop's additions in one pass over the range (its bits; the per-row calls cost as much as the adds).
     */
    public static void addPlanesRows(float[] x, float[] v, float[] out, int planes, int period, int h, int w,
                                     int from, int to) {
        for (int l = from; l < to; l++) {
            float b = v[(l / h) % period];
            int o = l * w;
            for (int j = 0; j < w; j++) {
                out[o + j] = x[o + j] + b;
            }
        }
    }

    /**
     * Results {@code [from, to)} of {@link GemmKernels#biasGrad}: the channel's planes summed as
     * {@link #sumPlanesLanes} sums them; a bias over a last dimension of 1 (a linear layer's) as the loop does.
     */
    public static void biasGradLanes(float[] gy, float[] gb, int outer, int channels, int inner, int from, int to) {
        for (int ch = from; ch < to; ch++) {
            if (inner == 1) {
                GemmKernels.biasGradLane(gy, gb, outer, channels, inner, ch);
                continue;
            }
            double s = 0;
            for (int o = 0; o < outer; o++) {
                s += NormVector.sum(gy, (o * channels + ch) * inner, inner);
            }
            gb[ch] = (float) s;
        }
    }
}
