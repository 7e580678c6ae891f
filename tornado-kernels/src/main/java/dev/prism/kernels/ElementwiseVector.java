package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
    private static final VectorSpecies<Double> D = VectorMath.DOUBLE;
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
     * Rows {@code [from, to)} of {@link GemmKernels#addBias} ({@code y += bias[oc mod channels]} on row {@code oc}, in
     * place): the loop's one addition per element, by vectors and a scalar tail, so the same bits. The loop's rows took
     * 1.4 ms for 2 Mi floats in the ddpm-unet training step (Intel Xeon, 2 threads), twice an element-wise add's time.
     */
    public static void gemmAddBiasLanes(float[] y, float[] bias, int outer, int channels, int inner, int from, int to) {
        for (int oc = from; oc < to; oc++) {
            float v = bias[oc % channels];
            FloatVector bv = FloatVector.broadcast(F, v);
            int i = oc * inner;
            int end = i + inner;
            for (; i + V <= end; i += V) {
                FloatVector.fromArray(F, y, i).add(bv).intoArray(y, i);
            }
            for (; i < end; i++) {
                y[i] += v;
            }
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

    /**
     * Planes {@code [from, to)} of {@link ElementwiseKernels#modulatePlanesBackward}: {@code v = x·γ + β} as the
     * forward forms it, {@code g = gy·silu'(v)} in float as {@link ActivationVector}'s SiLU gradient (or
     * {@code g = gy}), {@code gx = g·γ}, and the style's gradients {@code Σ g·x} and {@code Σ g} in double from the
     * widened lanes (two partial sums each, then the lanes left to right, then the plane's last elements).
     * Without SiLU the same values as the loop up to the order of the double sums; with it, a few float ulps apart.
     */
    public static void modulatePlanesBackwardLanes(float[] x, float[] s, float[] gy, float[] gx, float[] gs,
                                                   int n, int c, int hw, int silu, int from, int to) {
        double[] lanes = VectorMath.lanes();
        for (int p = from; p < to; p++) {
            int b = p / c;
            int ch = p - b * c;
            float gamma = s[b * 2 * c + ch];
            float beta = s[b * 2 * c + c + ch];
            FloatVector vg = FloatVector.broadcast(F, gamma), vb = FloatVector.broadcast(F, beta);
            int o = p * hw;
            DoubleVector sg0 = DoubleVector.zero(D), sg1 = sg0, sx0 = sg0, sx1 = sg0;
            int j = 0;
            for (; j + V <= hw; j += V) {
                FloatVector xv = FloatVector.fromArray(F, x, o + j);
                FloatVector g = FloatVector.fromArray(F, gy, o + j);
                if (silu != 0) {
                    FloatVector v = xv.mul(vg).add(vb);
                    FloatVector one = FloatVector.broadcast(F, 1f);
                    FloatVector sig = one.div(VectorMath.exp(v.neg()).add(one));
                    g = g.mul(sig.mul(one.add(v.mul(one.sub(sig)))));
                }
                g.mul(vg).intoArray(gx, o + j);
                DoubleVector g0 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 0);
                DoubleVector g1 = (DoubleVector) g.convertShape(VectorOperators.F2D, D, 1);
                sg0 = sg0.add(g0);
                sg1 = sg1.add(g1);
                sx0 = g0.fma((DoubleVector) xv.convertShape(VectorOperators.F2D, D, 0), sx0);
                sx1 = g1.fma((DoubleVector) xv.convertShape(VectorOperators.F2D, D, 1), sx1);
            }
            sg0.add(sg1).intoArray(lanes, 0);
            double sumG = VectorMath.sumLanes(lanes);
            sx0.add(sx1).intoArray(lanes, 0);
            double sumGx = VectorMath.sumLanes(lanes);
            for (; j < hw; j++) {
                float xv = x[o + j];
                float g = silu != 0 ? ActivationVector.siluGrad(xv * gamma + beta, gy[o + j]) : gy[o + j];
                gx[o + j] = g * gamma;
                sumG += g;
                sumGx += (double) g * xv;
            }
            gs[b * 2 * c + ch] = (float) sumGx;
            gs[b * 2 * c + c + ch] = (float) sumG;
        }
    }
}
