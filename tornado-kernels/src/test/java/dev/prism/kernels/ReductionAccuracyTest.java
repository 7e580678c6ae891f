package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The accuracy of every kernel that reduces a long run of fp32 terms ({@link Sums}): bias and weight
 * gradients, plane sums, pools, gate gradients, the attention softmax and its backward, group-norm
 * statistics and affine gradients. Each test
 * <ul>
 *   <li>runs the kernel on inputs large enough for an fp32 running sum to drift (planes of 64×64,
 *       values with a non-zero mean), on the sequential oracle, the plain parallel backend and the
 *       parallel backend with its vector variants;</li>
 *   <li>computes the exact result in float64 in the test (a compensated double sum, {@link Exact}) and
 *       asserts a bound derived from the kernel's arithmetic: one rounding to float (half an ulp of the
 *       result), plus the few other roundings the kernel's formula has, plus the worst case of a double
 *       sum of {@code n} terms, {@code 2·n·2⁻⁵³·Σ|t|}. A plain fp32 running sum misses these bounds by
 *       orders of magnitude: its error grows with the sum's length, about {@code 2⁻²⁴·√n} relative;</li>
 *   <li>compares with PyTorch 1.13 on the same inputs ({@code tools/refgen/families/sums.py}, which records
 *       PyTorch's float32 result): the kernel's largest error against float64 must be no larger than
 *       PyTorch's, with no slack.</li>
 * </ul>
 * The inputs are drawn by {@link #hashed}, which the generator reproduces bit for bit, so the reference
 * files hold only PyTorch's results.
 */
class ReductionAccuracyTest {
    /** The unit roundoff of float: a rounding to nearest changes a value by at most this, relatively. */
    private static final double U = 0x1p-24;

    // ------------------------------------------------------------------ inputs shared with the generator

    /**
     * {@code n} floats {@code mean + half·u}, {@code u} uniform in [-1, 1) on a 2⁻²³ grid: the top 24 bits of
     * splitmix64 of {@code (seed << 32) + i}, the sum rounded to float once. The same function as
     * {@code hashed()} in {@code tools/refgen/families/sums.py}.
     */
    static float[] hashed(long seed, int n, double mean, double half) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            long z = (seed << 32) + i + 0x9E3779B97F4A7C15L;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z ^= z >>> 31;
            long u = z >>> 40;
            a[i] = (float) (mean + half * ((u - (1L << 23)) * 0x1p-23));
        }
        return a;
    }

    /** Input {@code key} of a reference case, drawn as the generator drew it; its first values must match. */
    private static float[] draw(Npz ref, String key, int n) {
        float[] law = ref.f("law_" + key);
        float[] a = hashed(ref.get("seed_" + key).ints()[0], n, law[0], law[1]);
        float[] head = ref.f("head_" + key);
        float[] mine = new float[head.length];
        System.arraycopy(a, 0, mine, 0, head.length);
        assertIdentical(ref.source() + ": input '" + key + "' as the generator drew it", head, mine);
        return a;
    }

    private static int[] dims(Npz ref, String key) {
        long[] v = ref.get(key).ints();
        int[] d = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = (int) v[i];
        }
        return d;
    }

    // ------------------------------------------------------------------ float64 references and bounds

    /** A float64 reference sum: Neumaier's compensated double sum (error about 2⁻⁵³ of the result), with Σ|t| and the count. */
    static final class Exact {
        private double s;
        private double c;
        private double abs;
        private long n;

        void add(double t) {
            double u = s + t;
            c += Math.abs(s) >= Math.abs(t) ? (s - u) + t : (t - u) + s;
            s = u;
            abs += Math.abs(t);
            n++;
        }

        double value() {
            return s + c;
        }

        /**
         * What a double sum of these terms may be off by, in any order: {@code (n − 1)·2⁻⁵³·Σ|t|} (Higham,
         * Accuracy and Stability of Numerical Algorithms, §4.2), doubled to cover the conversion of a
         * partial to a pair of floats ({@link Sums#storeSplit}, {@code 2⁻⁴⁸} of the partial).
         */
        double doubleSumBound() {
            return 2.0 * n * 0x1p-53 * abs;
        }

        /**
         * What float running sums of at most {@code run} terms each may add, their results then summed in double:
         * each fused multiply-add rounds once, to within 2⁻²⁴ of a partial sum no larger than its run's Σ|t|
         * (two levels of float sums of R terms: {@code run = 2R}).
         */
        double floatRunBound(double run) {
            return run * 0x1p-24 * abs;
        }

        static Exact[] array(int n) {
            Exact[] e = new Exact[n];
            for (int i = 0; i < n; i++) {
                e[i] = new Exact();
            }
            return e;
        }
    }

    private static double[] values(Exact[] e) {
        double[] v = new double[e.length];
        for (int i = 0; i < e.length; i++) {
            v[i] = e[i].value();
        }
        return v;
    }

    /** Half an ulp of {@code r}: what rounding the exact value to the float {@code r} may cost. */
    private static double half(float r) {
        return 0.5 * Math.ulp(r);
    }

    /** Bounds of a result that is a double sum rounded to float once: {@code ulp(r)/2 + 2·n·2⁻⁵³·Σ|t|}. */
    private static double[] oneRounding(float[] r, Exact[] e) {
        double[] allowed = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            allowed[i] = half(r[i]) + e[i].doubleSumBound();
        }
        return allowed;
    }

    /** Asserts {@code |actual[i] − exact[i]| <= allowed[i]} everywhere, naming the worst element. */
    private static void assertWithin(String what, float[] actual, double[] exact, double[] allowed) {
        assertEquals(exact.length, actual.length, what + ": length");
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < exact.length; i++) {
            double ratio = Math.abs(actual[i] - exact[i]) / allowed[i];
            if (!(ratio <= 1) && (worst < 0 || !(ratio <= worstRatio))) {
                worst = i;
                worstRatio = ratio;
            }
        }
        if (worst >= 0) {
            fail(String.format(Locale.ROOT, "%s: [%d] = %s, exact %s: off by %.3g, %.3g times the bound %.3g",
                    what, worst, actual[worst], exact[worst], Math.abs(actual[worst] - exact[worst]), worstRatio,
                    allowed[worst]));
        }
    }

    /**
     * Asserts that the kernel's result is no further from float64 than PyTorch's float32 result on the same
     * inputs, both measured as the largest error over the elements, against the test's own float64 result.
     * First checks that this float64 result is the one the generator computed (same inputs, same function).
     */
    private static void assertNoWorseThanTorch(Npz ref, String key, float[] prism, double[] exact) {
        String what = ref.source() + " " + key;
        float[] torch = ref.f("torch_" + key);
        assertEquals(exact.length, torch.length, what + ": PyTorch's result length");
        double scale = 0;
        for (double v : exact) {
            scale = Math.max(scale, Math.abs(v));
        }
        float[] hi = ref.f("exact_hi_" + key);
        float[] lo = ref.f("exact_lo_" + key);
        for (int i = 0; i < hi.length; i++) {
            // two float64 computations of the same sums, in different orders: about 1e-13 apart
            assertTrue(Math.abs((double) hi[i] + lo[i] - exact[i]) <= 1e-10 * scale,
                    what + ": the generator's float64 result [" + i + "] is " + ((double) hi[i] + lo[i])
                            + ", this test's " + exact[i]);
        }
        double errTorch = maxError(torch, exact);
        double errPrism = maxError(prism, exact);
        System.out.printf(Locale.ROOT, "%-40s max|err|/max|exact|: Prism %.2e, PyTorch %.2e%n", what,
                errPrism / scale, errTorch / scale);
        assertTrue(errPrism <= errTorch, String.format(Locale.ROOT,
                "%s: Prism's largest error against float64 is %.3g (%.2e of max|exact|), PyTorch's %.3g (%.2e)",
                what, errPrism, errPrism / scale, errTorch, errTorch / scale));
    }

    private static double maxError(float[] r, double[] exact) {
        double m = 0;
        for (int i = 0; i < r.length; i++) {
            m = Math.max(m, Math.abs(r[i] - exact[i]));
        }
        return m;
    }

    // ------------------------------------------------------------------ backends

    private static void run(JvmBackend backend, List<Launch> launches) {
        launches.forEach(backend::run);
    }

    /**
     * The outputs {@code run} produces on the sequential oracle, the plain parallel backend and the parallel
     * backend with its vector variants, in that order. The plain backend must give the oracle's bits
     * (the same lane helpers); so must the variants when {@code variantsIdentical}.
     */
    private static float[][][] everywhere(String what, boolean variantsIdentical, Function<JvmBackend, float[][]> run) {
        float[][][] out = {run.apply(Backends.SEQ), run.apply(Backends.PLAIN), run.apply(Backends.PAR)};
        for (int k = 0; k < out[0].length; k++) {
            assertIdentical(what + " output " + k + ": plain parallel against the loops", out[0][k], out[1][k]);
            if (variantsIdentical) {
                assertIdentical(what + " output " + k + ": vector variants against the loops", out[0][k], out[2][k]);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ the kernels

    @ParameterizedTest
    @ValueSource(strings = {"prismconv_zeros", "prismconv_circular"})
    void prismConvFilterAndBiasGradientsAreSummedExactlyAndRoundedOnce(String name) {
        Npz ref = Npz.resource("sums/" + name);
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], size = n * c * h * w;
        boolean circular = ref.get("flags").ints()[0] == 1;
        float[] x = draw(ref, "x", size), gy = draw(ref, "gy", size);
        draw(ref, "f", 27);
        draw(ref, "b", 1);
        ChannelPadding padding = circular ? ChannelPadding.CIRCULAR : ChannelPadding.ZEROS;

        // the vector variant sums in another order (PrismConvWeightVector): its own bound below
        float[][][] out = everywhere(name, false, backend -> {
            float[] gf = Inputs.poisoned(27), gb = Inputs.poisoned(1);
            run(backend, PrismConv.backwardWeight(x, gy, Inputs.poisoned(PrismConv.partialsLength(n, c, 3, 3, 3)),
                    gf, gb, n, c, h, w, 3, 3, 3, padding));
            return new float[][] {gf, gb};
        });

        Exact[] gf = Exact.array(27);
        Exact[] gb = Exact.array(1);
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        double g = gy[((b * c + ch) * h + i) * w + j];
                        gb[0].add(g);
                        for (int dc = 0; dc < 3; dc++) {
                            int q = ch + dc - 1;
                            if (q < 0 || q >= c) {
                                if (!circular) {
                                    continue;
                                }
                                q = Math.floorMod(q, c);
                            }
                            for (int dy = 0; dy < 3; dy++) {
                                for (int dx = 0; dx < 3; dx++) {
                                    int si = i + dy - 1, sj = j + dx - 1;
                                    if (si >= 0 && si < h && sj >= 0 && sj < w) {
                                        gf[(dc * 3 + dy) * 3 + dx].add(g * x[((b * c + q) * h + si) * w + sj]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int k : new int[] {0, 2}) {
            String which = k == 0 ? " (loops)" : " (vector variant)";
            assertWithin(name + " gf" + which, out[k][0], values(gf), oneRounding(out[k][0], gf));
            assertWithin(name + " gb" + which, out[k][1], values(gb), oneRounding(out[k][1], gb));
            assertNoWorseThanTorch(ref, "gf", out[k][0], values(gf));
            assertNoWorseThanTorch(ref, "gb", out[k][1], values(gb));
        }
    }

    /**
     * The 3×3 cases run the direct kernel, and on the JVM's vector variants the direct weight gradient (8 → 8 channels),
     * Winograd's F(2×2, 3×3) ({@code conv2d_3x3_wide}, 9 → 17, {@link Conv2dWinogradWeightVector#pays}) and, at 256 and
     * 512 bits, F(4×4, 3×3) ({@code conv2d_3x3_f4}, 16 → 17 at 32×32, {@link Conv2dWinograd4WeightVector#pays}); the 1×1
     * case the reduction form of the matrix product and its variant.
     */
    @ParameterizedTest
    @ValueSource(strings = {"conv2d_3x3", "conv2d_3x3_wide", "conv2d_3x3_f4", "conv2d_1x1"})
    void conv2dWeightAndBiasGradientsAreSummedExactlyAndRoundedOnce(String name) {
        Npz ref = Npz.resource("sums/" + name);
        int[] d = dims(ref, "dims");
        int n = d[0], cin = d[1], h = d[2], w = d[3], cout = d[4], k = d[5], pad = d[6];
        Conv2d.Geometry g = Conv2d.Geometry.of(n, cin, h, w, cout, k, 1, pad, 1, 1);
        float[] x = draw(ref, "x", g.xSize()), gy = draw(ref, "gy", g.ySize()), wt = draw(ref, "w", g.wSize());
        draw(ref, "b", cout);
        List<String> kernels = Conv2d.backward(x, wt, gy, null, new float[g.wSize()], new float[cout], g).stream()
                .map(Launch::kernel).toList();
        assertEquals(k == 1 ? List.of("gemm.matmulBatchSum", "gemm.biasGrad")
                : List.of("conv2d.backwardWeightChunks", "conv2d.weightChunksReduce", "gemm.biasGrad"), kernels);

        // the vector variants sum in another order (GemmSumVector, Conv2dWeightGradVector): their own bound below
        float[][][] out = everywhere(name, false, backend -> {
            float[] gw = Inputs.poisoned(g.wSize()), gb = Inputs.poisoned(cout);
            run(backend, Conv2d.backward(x, wt, gy, null, gw, gb, g));
            return new float[][] {gw, gb};
        });

        Exact[] gw = Exact.array(g.wSize());
        Exact[] gb = Exact.array(cout);
        for (int b = 0; b < n; b++) {
            for (int co = 0; co < cout; co++) {
                for (int oy = 0; oy < h; oy++) {
                    for (int ox = 0; ox < w; ox++) {
                        double e = gy[((b * cout + co) * h + oy) * w + ox];
                        gb[co].add(e);
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy + ky - pad, ix = ox + kx - pad;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        gw[((co * cin + ci) * k + ky) * k + kx].add(e * x[((b * cin + ci) * h + iy) * w + ix]);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int v : new int[] {0, 2}) {
            String which = v == 0 ? " (loops)" : " (vector variants)";
            double[] allowed = oneRounding(out[v][0], gw);
            if (v == 2) {
                // GemmSumVector (1×1): float runs of RUN terms per lane, each added to a double sum;
                // Conv2dWeightGradVector: up to RUN such runs summed in float first, a second float level
                double floats = k > 1 ? 2 * Conv2dWeightGradVector.RUN : GemmSumVector.RUN;
                for (int i = 0; i < allowed.length; i++) {
                    allowed[i] += gw[i].floatRunBound(floats);
                }
            }
            assertWithin(name + " gw" + which, out[v][0], values(gw), allowed);
            assertWithin(name + " gb" + which, out[v][1], values(gb), oneRounding(out[v][1], gb));
            assertNoWorseThanTorch(ref, "gw", out[v][0], values(gw));
            assertNoWorseThanTorch(ref, "gb", out[v][1], values(gb));
        }
    }

    @Test
    void linearBiasGradientIsSummedExactlyAndRoundedOnce() {
        Npz ref = Npz.resource("sums/linear_bias");
        int[] d = dims(ref, "dims");
        int rows = d[0], in = d[1], out = d[2];
        float[] x = draw(ref, "x", rows * in), wt = draw(ref, "w", out * in), gy = draw(ref, "gy", rows * out);
        draw(ref, "b", out);
        float[][][] r = everywhere("linear bias", true, backend -> {
            float[] gb = Inputs.poisoned(out);
            run(backend, Gemm.linearBackward(x, wt, gy, null, null, gb, rows, in, out));
            return new float[][] {gb};
        });
        Exact[] gb = Exact.array(out);
        for (int i = 0; i < rows; i++) {
            for (int o = 0; o < out; o++) {
                gb[o].add(gy[i * out + o]);
            }
        }
        assertWithin("linear gb", r[0][0], values(gb), oneRounding(r[0][0], gb));
        assertNoWorseThanTorch(ref, "gb", r[0][0], values(gb));
    }

    @Test
    void planeAndChannelSumsAreSummedExactlyAndRoundedOnce() {
        Npz ref = Npz.resource("sums/planes");
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], hw = h * w;
        float[] gy = draw(ref, "gy", n * c * hw);
        // the vector variant (ElementwiseVector.sumPlanes) sums in another order: held to the same bound below
        float[][][] out = everywhere("plane sums", false, backend -> {
            float[] gv = Inputs.poisoned(n * c), gbias = Inputs.poisoned(c);
            backend.run(Elementwise.addPlanesBackward(gy, gv, n, c, h, w));
            backend.run(Elementwise.addBiasBackward(gy, gbias, n, c, h, w));
            return new float[][] {gv, gbias};
        });
        Exact[] gv = Exact.array(n * c);
        Exact[] gbias = Exact.array(c);
        for (int p = 0; p < n * c; p++) {
            for (int i = 0; i < hw; i++) {
                gv[p].add(gy[p * hw + i]);
                gbias[p % c].add(gy[p * hw + i]);
            }
        }
        for (int v : new int[] {0, 2}) {
            String which = v == 0 ? " (loops)" : " (vector variants)";
            assertWithin("addPlanes gv" + which, out[v][0], values(gv), oneRounding(out[v][0], gv));
            assertWithin("addBias gbias" + which, out[v][1], values(gbias), oneRounding(out[v][1], gbias));
            assertNoWorseThanTorch(ref, "gv", out[v][0], values(gv));
            assertNoWorseThanTorch(ref, "gbias", out[v][1], values(gbias));
        }
    }

    @Test
    void averagePoolIsSummedExactlyAndRoundedOnce() {
        Npz ref = Npz.resource("sums/avgpool");
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], hw = h * w;
        assertEquals(0, hw & (hw - 1), "a power-of-two plane, so that the scale 1/(H·W) is exact");
        float[] x = draw(ref, "x", n * c * hw);
        float[][][] out = everywhere("average pool", true, backend -> {
            float[] m = Inputs.poisoned(n * c);
            backend.run(Gating.avgPool(x, m, n, c, h, w));
            return new float[][] {m};
        });
        Exact[] sums = Exact.array(n * c);
        double[] mean = new double[n * c];
        double[] allowed = new double[n * c];
        for (int p = 0; p < n * c; p++) {
            for (int i = 0; i < hw; i++) {
                sums[p].add(x[p * hw + i]);
            }
            mean[p] = sums[p].value() / hw;
            allowed[p] = half(out[0][0][p]) + sums[p].doubleSumBound() / hw;
        }
        assertWithin("avgPool", out[0][0], mean, allowed);
        assertNoWorseThanTorch(ref, "m", out[0][0], mean);
    }

    /**
     * With one gate per band and channel the gradient is one dot product per plane; with one per band it is
     * the sum over the channels of those dot products, which the first kernel hands to the second as pairs
     * of floats ({@link Sums#storeSplit}), unrounded: one rounding either way.
     */
    @ParameterizedTest
    @ValueSource(strings = {"gates_per_channel", "gates_per_band"})
    void gateGradientsAreSummedExactly(String name) {
        Npz ref = Npz.resource("sums/" + name);
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], gates = d[4], hw = h * w, plane = n * c * hw;
        float[] y = draw(ref, "y", 4 * plane), g = draw(ref, "g", 4 * n * gates), gout = draw(ref, "gout", plane);
        // the vector variant (GatingVector) sums the same products in another order: held to the same bound below
        float[][][] out = everywhere(name, false, backend -> {
            float[] gg = Inputs.poisoned(4 * n * gates);
            run(backend, Gating.gatedSumBackward(y, g, gout, Inputs.poisoned(4 * plane),
                    gates == 1 ? Inputs.poisoned(Gating.partialLength(n, c)) : null, gg, n, c, h, w, gates));
            return new float[][] {gg};
        });
        Exact[] part = Exact.array(4 * n * c);
        for (int b = 0; b < n; b++) {
            for (int k = 0; k < 4; k++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < hw; i++) {
                        part[(b * 4 + k) * c + ch].add((double) y[((b * 4 + k) * c + ch) * hw + i] * gout[(b * c + ch) * hw + i]);
                    }
                }
            }
        }
        for (int v : new int[] {0, 2}) {
            float[] gg = out[v][0];
            double[] exact = new double[gg.length];
            double[] allowed = new double[gg.length];
            for (int q = 0; q < gg.length; q++) {
                allowed[q] = half(gg[q]);
                // per channel (G = C): one partial; per band (G = 1): the C partials of the band
                int first = gates == c ? q : q * c;
                for (int ch = first; ch < first + (gates == c ? 1 : c); ch++) {
                    exact[q] += part[ch].value();
                    allowed[q] += part[ch].doubleSumBound();
                }
            }
            assertWithin(name + " gg" + (v == 0 ? " (loops)" : " (vector variants)"), gg, exact, allowed);
            assertNoWorseThanTorch(ref, "gg", gg, exact);
        }
    }

    /**
     * The exponent arguments {@code scale·s − max} are formed in float as the kernel (and PyTorch) forms
     * them, the rest in float64, so what is measured is the exponential, the row sum and the scaling.
     * Bound for the loops: four roundings of at most {@code 2⁻²⁴} relative each — the exponential to
     * float, the row sum of those rounded terms, {@code 1/sum} to float and the product — so
     * {@code 4·2⁻²⁴}. The vector variant's exponential is within 2 float ulps ({@link VectorMath}), up to
     * {@code 4·2⁻²⁴} in the term and again in the sum, hence {@code 10·2⁻²⁴}. A float running sum over
     * the 1024 columns alone would cost several times {@code 2⁻²⁴}.
     */
    @Test
    void attentionSoftmaxNormalisesByAnExactRowSum() {
        Npz ref = Npz.resource("sums/softmax");
        int[] d = dims(ref, "dims");
        int rows = d[0], cols = d[1];
        float scale = ref.scalar("scale");
        float[] s = draw(ref, "s", rows * cols);
        float[][][] out = everywhere("attention softmax", false, backend -> {
            float[] p = s.clone();
            backend.run(Attention.softmax(p, rows, cols, scale));
            return new float[][] {p};
        });
        double[] exact = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int m = 0; m < cols; m++) {
                max = Math.max(max, scale * s[r * cols + m]);
            }
            Exact sum = new Exact();
            for (int m = 0; m < cols; m++) {
                exact[r * cols + m] = Math.exp(scale * s[r * cols + m] - max);
                sum.add(exact[r * cols + m]);
            }
            for (int m = 0; m < cols; m++) {
                exact[r * cols + m] /= sum.value();
            }
        }
        assertWithin("softmax, loops", out[0][0], exact, relative(exact, 4.01 * U));
        assertWithin("softmax, vector variant", out[2][0], exact, relative(exact, 10.01 * U));
        assertNoWorseThanTorch(ref, "p", out[0][0], exact);
        assertNoWorseThanTorch(ref, "p", out[2][0], exact);
    }

    private static double[] relative(double[] exact, double factor) {
        double[] allowed = new double[exact.length];
        for (int i = 0; i < exact.length; i++) {
            allowed[i] = factor * Math.abs(exact[i]);
        }
        return allowed;
    }

    /**
     * {@code dS = scale·P·(dP − Σ dP·P)}: the dot product in double, the difference taken in double and
     * rounded once, then one float product ({@code scale·P} is exact for a power-of-two scale). Bound: two
     * roundings, {@code 2·2⁻²⁴} relative, plus the double dot product's own bound carried by
     * {@code scale·P}. Where {@code dP} is close to the dot product the difference cancels; a dot product
     * summed in float would then be off relative to it by far more than that.
     */
    @Test
    void attentionSoftmaxBackwardSubtractsAnExactDotProduct() {
        Npz ref = Npz.resource("sums/softmax_backward");
        int[] d = dims(ref, "dims");
        int rows = d[0], cols = d[1];
        float scale = ref.scalar("scale");
        assertEquals(0, Float.floatToRawIntBits(scale) & 0x7FFFFF, "a power-of-two scale");
        float[] p = draw(ref, "p", rows * cols), dp = draw(ref, "dp", rows * cols);
        float[][][] out = everywhere("attention softmax backward", true, backend -> {
            float[] g = dp.clone();
            backend.run(Attention.softmaxBackward(p, g, rows, cols, scale));
            return new float[][] {g};
        });
        double[] exact = new double[rows * cols];
        double[] allowed = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            Exact dot = new Exact();
            for (int m = 0; m < cols; m++) {
                dot.add((double) dp[r * cols + m] * p[r * cols + m]);
            }
            for (int m = 0; m < cols; m++) {
                int i = r * cols + m;
                double sp = (double) scale * p[i];
                exact[i] = sp * (dp[i] - dot.value());
                allowed[i] = 2.01 * U * Math.abs(exact[i]) + 1.01 * sp * dot.doubleSumBound();
            }
        }
        assertWithin("softmax backward", out[0][0], exact, allowed);
        assertNoWorseThanTorch(ref, "gs", out[0][0], exact);
    }

    /**
     * The mean is one double sum divided and rounded once; {@code 1/√(var + eps)} comes from a double sum
     * of squared deviations from the double mean, rounded once at the end: each is within half an ulp
     * plus what the double arithmetic may cost over the group's {@code M} elements ({@code 2·M·2⁻⁵³}
     * relative, generously). Loops and vector variant alike.
     */
    @Test
    void groupNormStatisticsAreSummedInDoubleAndRoundedOnce() {
        Npz ref = Npz.resource("sums/group_norm");
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], groups = d[4], q = n * groups, m = c / groups * h * w;
        float eps = 1e-5f;
        float[] x = draw(ref, "x", n * c * h * w);
        float[][][] out = everywhere("group norm statistics", false, backend -> {
            float[] stats = Inputs.poisoned(2 * q);
            backend.run(Norm.groupStats(x, stats, n, c, h, w, groups, eps));
            return new float[][] {stats};
        });
        double[] mean = new double[q], rstd = new double[q];
        double[] meanAllowed = new double[q];
        for (int g = 0; g < q; g++) {
            Exact s = new Exact();
            for (int i = 0; i < m; i++) {
                s.add(x[g * m + i]);
            }
            mean[g] = s.value() / m;
            meanAllowed[g] = s.doubleSumBound() / m;
            Exact v = new Exact();
            for (int i = 0; i < m; i++) {
                double dev = x[g * m + i] - mean[g];
                v.add(dev * dev);
            }
            rstd[g] = 1.0 / Math.sqrt(v.value() / m + eps);
        }
        for (int k : new int[] {0, 2}) {
            String which = k == 0 ? "loops" : "vector variant";
            float[] mu = new float[q], r = new float[q];
            for (int g = 0; g < q; g++) {
                mu[g] = out[k][0][2 * g];
                r[g] = out[k][0][2 * g + 1];
            }
            double[] muAllowed = new double[q], rAllowed = new double[q];
            for (int g = 0; g < q; g++) {
                muAllowed[g] = half(mu[g]) + meanAllowed[g];
                rAllowed[g] = half(r[g]) + 2.0 * m * 0x1p-53 * rstd[g];
            }
            assertWithin("group mean, " + which, mu, mean, muAllowed);
            assertWithin("group 1/std, " + which, r, rstd, rAllowed);
            assertNoWorseThanTorch(ref, "mean", mu, mean);
            assertNoWorseThanTorch(ref, "rstd", r, rstd);
        }
    }

    /**
     * {@code gβ_c = Σ_n Σ gy} and {@code gγ_c = Σ_n Σ gy·(x − μ)·r}: per plane in double, each plane's sum
     * rounded to float by the first kernel, the {@code N} planes of a channel summed in double by the
     * second and rounded once. The bound: half an ulp of the result and of each plane's partial, plus the
     * double sums' bound. For {@code gγ} the in-test reference uses the statistics and the deviations
     * {@code x − μ} as the kernel forms them in float (the statistics are the forward's float output, and
     * the deviation is one float subtraction per element, not part of the sum), so that the summation
     * alone is measured; the comparison with PyTorch uses the exact statistics.
     */
    @Test
    void groupNormAffineGradientsAreSummedInDouble() {
        Npz ref = Npz.resource("sums/group_norm");
        int[] d = dims(ref, "dims");
        int n = d[0], c = d[1], h = d[2], w = d[3], groups = d[4], hw = h * w, cg = c / groups;
        float eps = 1e-5f;
        float[] x = draw(ref, "x", n * c * hw), gamma = draw(ref, "gamma", c), beta = draw(ref, "beta", c);
        float[] gy = draw(ref, "gy", n * c * hw);
        float[] stats = new float[2 * n * groups];
        Backends.SEQ.run(Norm.groupStats(x, stats, n, c, h, w, groups, eps));
        float[][][] out = everywhere("group norm affine gradients", true, backend -> {
            float[] gGamma = Inputs.poisoned(c), gBeta = Inputs.poisoned(c);
            run(backend, Norm.groupNormBackward(x, gy, stats, gamma, beta, Inputs.poisoned(2 * n * c),
                    Inputs.poisoned(n * c * hw), gGamma, gBeta, n, c, h, w, groups, false));
            return new float[][] {gGamma, gBeta};
        });
        double[] groupMean = new double[n * groups], groupRstd = new double[n * groups];
        for (int g = 0; g < n * groups; g++) {
            Exact s = new Exact();
            for (int i = 0; i < cg * hw; i++) {
                s.add(x[g * cg * hw + i]);
            }
            groupMean[g] = s.value() / (cg * hw);
            Exact v = new Exact();
            for (int i = 0; i < cg * hw; i++) {
                double dev = x[g * cg * hw + i] - groupMean[g];
                v.add(dev * dev);
            }
            groupRstd[g] = 1.0 / Math.sqrt(v.value() / (cg * hw) + eps);
        }
        double[] gBeta = new double[c], gGamma = new double[c], gGammaTrue = new double[c];
        double[] betaAllowed = new double[c], gammaAllowed = new double[c];
        for (int ch = 0; ch < c; ch++) {
            betaAllowed[ch] = half(out[0][1][ch]);
            gammaAllowed[ch] = half(out[0][0][ch]);
        }
        for (int p = 0; p < n * c; p++) {
            int ch = p % c, g = p / cg;
            float mu = stats[2 * g], r = stats[2 * g + 1];
            Exact a = new Exact(), b = new Exact(), t = new Exact();
            for (int i = 0; i < hw; i++) {
                float e = gy[p * hw + i];
                float dev = x[p * hw + i] - mu;
                a.add(e);
                b.add((double) e * dev);
                t.add(e * ((double) x[p * hw + i] - groupMean[g]) * groupRstd[g]);
            }
            gBeta[ch] += a.value();
            gGamma[ch] += b.value() * r;
            gGammaTrue[ch] += t.value();
            betaAllowed[ch] += half((float) a.value()) + a.doubleSumBound();
            gammaAllowed[ch] += half((float) (b.value() * r)) + b.doubleSumBound() * r;
        }
        assertWithin("group norm gβ", out[0][1], gBeta, betaAllowed);
        assertWithin("group norm gγ (float statistics)", out[0][0], gGamma, gammaAllowed);
        assertNoWorseThanTorch(ref, "gbeta", out[0][1], gBeta);
        assertNoWorseThanTorch(ref, "ggamma", out[0][0], gGammaTrue);
    }

    @Test
    void theInputsAreTheGeneratorsInputs() {
        // splitmix64's published first output for seed 0 (state 0x9E3779B97F4A7C15), top 24 bits
        float[] a = hashed(0, 1, 0.0, 1.0);
        long z = 0xE220A8397B1DCDAFL;
        assertEquals((float) (((z >>> 40) - (1L << 23)) * 0x1p-23), a[0]);
        assertArrayEquals(hashed(7, 5, 1.0, 0.5), hashed(7, 5, 1.0, 0.5));
    }
}
