package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GemmTest {

    static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    /** The parallel backend on the plain per-lane helpers (GemmVectorTest tests the vector variant). */
    static void par(List<Launch> launches) {
        launches.forEach(Backends::plain);
    }

    @ParameterizedTest
    @ValueSource(strings = {"nn_b1_5x7x3", "tn_b3_4x9x6", "nt_b2_7x5x11", "tt_b2_3x6x5", "nn_bcastA_b4_6x5x7_acc",
            "nt_bcastB_b3_5x9x4_acc", "nt_sum_b3_6x7x5", "tn_sum_b2_5x3x8_acc"})
    void batchedProductsMatchTorchMatmul(String name) {
        Npz r = Npz.resource("gemm/" + name);
        long[] d = r.get("dims").ints();
        int batch = (int) d[0], m = (int) d[1], n = (int) d[2], k = (int) d[3];
        boolean ta = d[4] == 1, tb = d[5] == 1, acc = d[9] == 1;
        int sa = (int) d[6], sb = (int) d[7], sc = (int) d[8];
        float[] c = start(r.f("c0"), batch, m * n, sc, acc);
        Backends.seq(Gemm.matmul(r.f("a"), r.f("b"), c, batch, m, n, k, ta, tb, sa, sb, sc, acc));
        assertClose("matmul " + name, r.f("c"), c);

        float[] cp = start(r.f("c0"), batch, m * n, sc, acc);
        Backends.plain(Gemm.matmul(r.f("a"), r.f("b"), cp, batch, m, n, k, ta, tb, sa, sb, sc, acc));
        assertIdentical("parallel matmul " + name, c, cp);
    }

    /** The initial C: the stored values, with every matrix element NaN unless the product accumulates. */
    private static float[] start(float[] c0, int batch, int size, int strideC, boolean accumulate) {
        float[] c = c0.clone();
        if (!accumulate) {
            for (int b = 0; b < (strideC == 0 ? 1 : batch); b++) {
                Arrays.fill(c, b * strideC, b * strideC + size, Float.NaN);
            }
        }
        return c;
    }

    @Test
    void everyTransposeGivesBitIdenticalProducts() {
        // The summation order of each element is the same on every path, so storing an operand
        // transposed must not change a single bit.
        int m = 7, n = 13, k = 9;
        float[] a = Inputs.gaussian(m * k, 1), b = Inputs.gaussian(k * n, 2);
        float[] at = transpose(a, m, k), bt = transpose(b, k, n);
        float[] ref = Inputs.poisoned(m * n);
        Backends.seq(Gemm.matmul(a, b, ref, m, n, k, false, false));
        float[][] operands = {a, at};
        float[][] others = {b, bt};
        for (int ta = 0; ta < 2; ta++) {
            for (int tb = 0; tb < 2; tb++) {
                float[] c = Inputs.poisoned(m * n);
                Backends.seq(Gemm.matmul(operands[ta], others[tb], c, m, n, k, ta == 1, tb == 1));
                assertIdentical("transA=" + ta + " transB=" + tb, ref, c);
            }
        }
    }

    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = a[i * cols + j];
            }
        }
        return t;
    }

    /**
     * The reduction form ({@code strideC = 0}, what a weight gradient runs): every element is the double sum
     * over the batch and {@code k} of exact products, rounded to float once, so it lies within half an ulp
     * plus the bound of a double sum of {@code n} terms, {@code 2·n·2⁻⁵³·Σ|t|}. Every transpose, with and
     * without accumulating, batch 1 included.
     */
    @Test
    void batchSumIsTheDoubleSumOfEveryItemRoundedOnce() {
        int m = 5, n = 6, k = 7;
        for (int batch : new int[] {1, 4}) {
            float[] a = Inputs.gaussian(batch * m * k, 3), b = Inputs.gaussian(batch * k * n, 4);
            float[] old = Inputs.gaussian(m * n, 5);
            for (int ta = 0; ta < 2; ta++) {
                for (int tb = 0; tb < 2; tb++) {
                    for (boolean acc : new boolean[] {false, true}) {
                        float[] c = acc ? old.clone() : Inputs.poisoned(m * n);
                        Launch l = Gemm.matmul(a, b, c, batch, m, n, k, ta == 1, tb == 1, m * k, k * n, 0, acc);
                        assertEquals("gemm.matmulBatchSum", l.kernel());
                        Backends.seq(l);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                double s = acc ? old[i * n + j] : 0, abs = Math.abs(s);
                                for (int bi = 0; bi < batch; bi++) {
                                    for (int p = 0; p < k; p++) {
                                        float av = ta == 0 ? a[bi * m * k + i * k + p] : a[bi * m * k + p * m + i];
                                        float bv = tb == 0 ? b[bi * k * n + p * n + j] : b[bi * k * n + j * k + p];
                                        s += (double) av * bv;
                                        abs += Math.abs((double) av * bv);
                                    }
                                }
                                double allowed = 0.5 * Math.ulp(c[i * n + j]) + 2.0 * (batch * k + 1) * 0x1p-53 * abs;
                                assertTrue(Math.abs(c[i * n + j] - s) <= allowed, "batch " + batch + " transA=" + ta
                                        + " transB=" + tb + " accumulate=" + acc + " [" + i + "," + j + "]: " + c[i * n + j]
                                        + ", double sum " + s);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * {@link GemmSumVector} sums float runs of {@link GemmSumVector#RUN} terms per lane in double and rounds once:
     * every element within {@code ulp/2 + 2·m·2⁻⁵³·Σ|t| + RUN·2⁻²⁴·Σ|t|} of the exact sum (inputs with a mean
     * away from 0, where a float running sum drifts), on odd row counts, column counts and depths that are not
     * multiples of the lane count, with and without accumulating, at the 1×1 weight gradient's depth, and with float
     * runs that go on across batch items (short depths, batches that are not a multiple of a run's items); and
     * its largest error no larger than the loop's double sum's plus that float bound.
     */
    @Test
    void batchSumVariantIsFloatRunsSummedInDouble() {
        int[][] shapes = {{3, 7, 10, 13}, {2, 16, 16, 4096}, {1, 1, 3, 5}, {4, 9, 4, 8}, {2, 5, 6, 37}, {1, 4, 4, 20000},
                // runs that span items, the last run of the batch shorter: 40 = 16 + 16 + 8 items of 2 steps at 512 bits
                {40, 5, 8, 40}, {20, 3, 4, 100}, {9, 2, 4, 64}};
        for (int[] sh : shapes) {
            int batch = sh[0], m = sh[1], n = sh[2], k = sh[3];
            float[] a = Inputs.uniform(batch * m * k, 0.25f, 1.25f, 6), b = Inputs.uniform(batch * n * k, -0.5f, 1.5f, 7);
            float[] old = Inputs.gaussian(m * n, 8);
            for (int ta = 0; ta < 2; ta++) {
                for (boolean acc : new boolean[] {false, true}) {
                    float[] vec = acc ? old.clone() : Inputs.poisoned(m * n);
                    Backends.par(Gemm.matmul(a, b, vec, batch, m, n, k, ta == 1, true, m * k, n * k, 0, acc));
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double s = acc ? old[i * n + j] : 0, abs = Math.abs(s);
                            for (int bi = 0; bi < batch; bi++) {
                                for (int p = 0; p < k; p++) {
                                    float av = ta == 0 ? a[bi * m * k + i * k + p] : a[bi * m * k + p * m + i];
                                    double t = (double) av * b[bi * n * k + j * k + p];
                                    s += t;
                                    abs += Math.abs(t);
                                }
                            }
                            float r = vec[i * n + j];
                            // transA = 1 runs the plain rows (a double sum); transA = 0 the float runs
                            double allowed = 0.5 * Math.ulp(r) + 2.0 * (batch * k + 1) * 0x1p-53 * abs
                                    + (ta == 0 ? GemmSumVector.RUN * 0x1p-24 * abs : 0);
                            assertTrue(Math.abs(r - s) <= allowed, Arrays.toString(sh) + " transA=" + ta
                                    + " accumulate=" + acc + " [" + i + "," + j + "]: " + r + ", double sum " + s
                                    + ", allowed " + allowed);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"r5_in7_out3_bias", "r1_in4_out6", "r9_in16_out10_bias"})
    void linearMatchesTorchLinearAndAutograd(String name) {
        Npz r = Npz.resource("gemm/linear_" + name);
        long[] d = r.get("dims").ints();
        int rows = (int) d[0], in = (int) d[1], out = (int) d[2];
        float[] bias = d[3] == 1 ? r.f("b") : null;
        float[] y = Inputs.poisoned(rows * out);
        seq(Gemm.linear(r.f("x"), r.f("w"), bias, y, rows, in, out));
        assertClose("linear " + name, r.f("y"), y);

        float[] gx = Inputs.poisoned(rows * in), gw = Inputs.poisoned(out * in);
        float[] gb = bias == null ? null : Inputs.poisoned(out);
        seq(Gemm.linearBackward(r.f("x"), r.f("w"), r.f("gy"), gx, gw, gb, rows, in, out));
        assertClose("linear gx " + name, r.f("gx"), gx);
        assertClose("linear gw " + name, r.f("gw"), gw);
        if (bias != null) {
            assertClose("linear gb " + name, r.f("gb"), gb);
        }
    }

    @Test
    void linearBackwardAgreesWithFiniteDifferences() {
        int rows = 4, in = 5, out = 3;
        float[] x = Inputs.gaussian(rows * in, 5), w = Inputs.gaussian(out * in, 6), b = Inputs.gaussian(out, 7);
        float[] gy = Inputs.gaussian(rows * out, 8);
        float[] gx = new float[rows * in], gw = new float[out * in], gb = new float[out];
        seq(Gemm.linearBackward(x, w, gy, gx, gw, gb, rows, in, out));
        FiniteDifference.check("linear gx", xi -> linear(xi, w, b, rows, in, out), x, gy, gx, 3, rows * in);
        FiniteDifference.check("linear gw", wi -> linear(x, wi, b, rows, in, out), w, gy, gw, 3, out * in);
        FiniteDifference.check("linear gb", bi -> linear(x, w, bi, rows, in, out), b, gy, gb, 3, out);
    }

    private static float[] linear(float[] x, float[] w, float[] b, int rows, int in, int out) {
        float[] y = new float[rows * out];
        seq(Gemm.linear(x, w, b, y, rows, in, out));
        return y;
    }

    @Test
    void parallelLinearIsBitIdenticalToTheLoops() {
        int rows = 11, in = 37, out = 23;
        float[] x = Inputs.gaussian(rows * in, 9), w = Inputs.gaussian(out * in, 10), b = Inputs.gaussian(out, 11);
        float[] gy = Inputs.gaussian(rows * out, 12);
        float[][] s = {Inputs.poisoned(rows * out), Inputs.poisoned(rows * in), Inputs.poisoned(out * in), Inputs.poisoned(out)};
        float[][] p = {Inputs.poisoned(rows * out), Inputs.poisoned(rows * in), Inputs.poisoned(out * in), Inputs.poisoned(out)};
        seq(Gemm.linear(x, w, b, s[0], rows, in, out));
        seq(Gemm.linearBackward(x, w, gy, s[1], s[2], s[3], rows, in, out));
        par(Gemm.linear(x, w, b, p[0], rows, in, out));
        par(Gemm.linearBackward(x, w, gy, p[1], p[2], p[3], rows, in, out));
        for (int i = 0; i < s.length; i++) {
            assertIdentical("linear output " + i, s[i], p[i]);
        }
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] a = new float[12], b = new float[20], c = new float[15];
        var e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.matmul(a, b, c, 2, 3, 5, 4, false, false, 12, 20, 15, false));
        assertEquals("gemm.matmul: argument 'a' expected length >= 24, found 12", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.matmul(a, b, c, 2, 3, 5, 4, false, false, 0, 0, 7, false));
        assertEquals("gemm.matmul: argument 'strideC' expected 0 (sum over the batch) or >= m·n = 15, found 7", e.getMessage());
        float[] ac = new float[15];
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(ac, b, ac, 3, 5, 4, false, false));
        assertEquals("gemm.matmul: argument 'c' expected an array distinct from 'a' (the kernel reads one while writing the other), found the same array",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gemm.matmul(a, b, c, 0, 5, 4, false, false));
        assertEquals("gemm.matmul: argument 'm' expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linear(new float[15], new float[12], new float[4], new float[15], 5, 3, 4));
        assertEquals("gemm.linear: argument 'y' expected length 20, found 15", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linear(new float[15], new float[12], new float[3], new float[20], 5, 3, 4));
        assertEquals("gemm.linear: argument 'bias' expected length 4, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gemm.linearBackward(new float[15], new float[12], new float[20], null, new float[11], null, 5, 3, 4));
        assertEquals("gemm.linearBackward: argument 'gw' expected length 12, found 11", e.getMessage());
    }
}
