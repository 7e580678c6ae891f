package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link GemmVector}, the hand-vectorised variant of {@link GemmKernels#matmulRow}, against the plain loops
 * on every product {@link GemmTest} runs (the reference vectors' batched products, the transposes, the
 * linear layers forward and backward), the models' products (the 1×1 convolution, the linear layer,
 * attention's two products) and shapes that leave column, row and {@code k} tails: the variant (run by
 * {@code JvmBackend.parallel(3)}) within the shared tolerance of {@link Backends#SEQ}, and the same bits on
 * every thread count.
 */
class GemmVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final List<JvmBackend> TEAMS = List.of(JvmBackend.parallel(1), JvmBackend.parallel(2),
            JvmBackend.parallel(3), JvmBackend.parallel(7));

    @AfterAll
    static void close() {
        TEAMS.forEach(JvmBackend::close);
    }

    /** One batched product: {@code batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate}. */
    private record Product(int batch, int m, int n, int k, boolean ta, boolean tb, int sa, int sb, int sc, boolean acc) {
        static Product of(int m, int n, int k, boolean ta, boolean tb) {
            return new Product(1, m, n, k, ta, tb, 0, 0, m * n, false);
        }

        int cSize() {
            return (sc == 0 ? 1 : batch - 1) * sc + m * n;
        }

        Launch launch(float[] a, float[] b, float[] c) {
            return Gemm.matmul(a, b, c, batch, m, n, k, ta, tb, sa, sb, sc, acc);
        }

        @Override
        public String toString() {
            return "b" + batch + " " + m + "x" + n + "x" + k + (ta ? " t" : " n") + (tb ? "t" : "n") + " strides " + sa + "," + sb + ","
                    + sc + (acc ? " acc" : "");
        }
    }

    private static final String[] RESOURCES = {"nn_b1_5x7x3", "tn_b3_4x9x6", "nt_b2_7x5x11", "tt_b2_3x6x5",
            "nn_bcastA_b4_6x5x7_acc", "nt_bcastB_b3_5x9x4_acc", "nt_sum_b3_6x7x5", "tn_sum_b2_5x3x8_acc"};

    private static List<Product> products() {
        List<Product> ps = new ArrayList<>();
        for (String name : RESOURCES) {
            long[] d = Npz.resource("gemm/" + name).get("dims").ints();
            ps.add(new Product((int) d[0], (int) d[1], (int) d[2], (int) d[3], d[4] == 1, d[5] == 1, (int) d[6], (int) d[7],
                    (int) d[8], d[9] == 1));
        }
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                ps.add(Product.of(7, 13, 9, ta, tb));                 // GemmTest's transposes
                ps.add(Product.of(37, 45, 19, ta, tb));               // row, column and k tails
                ps.add(new Product(3, 11, 70, 33, ta, tb, 11 * 33, 0, 11 * 70, true));
            }
        }
        // around the lane counts 4, 8 and 16: k shorter than a vector (all of it the dot path's scalar tail),
        // columns just below and above 4 vectors of 16 (one panel of 64), k just past one vector
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                ps.add(Product.of(5, 63, 3, ta, tb));
                ps.add(Product.of(6, 65, 8, ta, tb));
                ps.add(Product.of(3, 129, 17, ta, tb));
                ps.add(Product.of(9, 20, 12, ta, tb));
            }
        }
        // the batch-sum test's items, one at a time
        ps.add(new Product(1, 5, 6, 3, false, true, 0, 0, 30, true));
        // batch sums (strideC = 0) deep enough for float runs, with row counts that the threads' ranges cut into blocks of
        // four rows and pairs differently (GemmSumVector.block4 and block: each element summed the same way)
        ps.add(new Product(3, 9, 20, 40, false, true, 9 * 40, 20 * 40, 0, false));
        ps.add(new Product(2, 13, 8, 1030, false, true, 13 * 1030, 8 * 1030, 0, true));
        // GemmTest's linear layers: forward x·Wᵀ, backward gy·W and gyᵀ·x
        int[][] linears = {{5, 7, 3}, {1, 4, 6}, {9, 16, 10}, {4, 5, 3}, {11, 37, 23}, {64, 256, 256}, {6, 8, 8}, {3, 20, 12}};
        for (int[] l : linears) {
            int rows = l[0], in = l[1], out = l[2];
            ps.add(Product.of(rows, out, in, false, true));
            ps.add(Product.of(rows, in, out, false, false));
            ps.add(Product.of(out, in, rows, true, false));
        }
        // op(B) = Bᵀ no deeper than GemmVector.TRANSPOSE_K runs on a transposed copy of B: attention at 8×8 (64 positions),
        // batches whose items the threads' row ranges split, the depth at that limit and one past it
        int d = GemmVector.TRANSPOSE_K;
        for (boolean ta : new boolean[] {false, true}) {
            ps.add(new Product(64, 64, 64, 64, ta, true, 64 * 64, 64 * 64, 64 * 64, false));
            ps.add(new Product(5, 9, 21, d, ta, true, 9 * d, 21 * d, 9 * 21, true));
            ps.add(new Product(3, 7, 20, d + 1, ta, true, 7 * (d + 1), 20 * (d + 1), 7 * 20, false));
        }
        // A shared by the batch (strideA = 0: the 1×1 convolutions, attention's projections), whose copies are made once
        // per call and range of rows: one block of columns at each width (n = 16, 32, 64, B read in place), rows in
        // groups of four and not, and two products of one shape in a row (a copy from the first must not serve the second)
        for (boolean ta : new boolean[] {false, true}) {
            for (int n : new int[] {16, 32, 64}) {
                ps.add(new Product(6, 12, n, 20, ta, false, 0, 20 * n, 12 * n, false));
                ps.add(new Product(6, 12, n, 20, ta, false, 0, 20 * n, 12 * n, true));
                ps.add(new Product(5, 10, n, 9, ta, false, 0, 9 * n, 10 * n, true));
            }
        }
        // the models: the 256³ catalog products, a 64→64 1×1 convolution on 64×64, attention at 1024 positions
        ps.add(new Product(2, 256, 256, 256, false, false, 256 * 256, 0, 256 * 256, false));
        ps.add(Product.of(256, 256, 256, true, true));
        ps.add(new Product(1, 64, 4096, 64, false, false, 0, 64 * 4096, 64 * 4096, false));
        ps.add(Product.of(1024, 1024, 64, true, false));
        ps.add(Product.of(64, 1024, 1024, false, true));
        return ps;
    }

    private static float[] run(JvmBackend backend, Product p, float[] a, float[] b, float[] c0) {
        float[] c = c0.clone();
        backend.run(p.launch(a, b, c));
        return c;
    }

    private static float[][] operands(Product p, long stream) {
        int aSize = (p.batch() - 1) * p.sa() + p.m() * p.k();
        int bSize = (p.batch() - 1) * p.sb() + p.k() * p.n();
        float[] c0 = Inputs.gaussian(p.cSize(), stream + 2);
        if (!p.acc()) {
            // every element of C is written without being read: NaN there (the gaps between matrices keep their values)
            for (int bi = 0; bi < (p.sc() == 0 ? 1 : p.batch()); bi++) {
                java.util.Arrays.fill(c0, bi * p.sc(), bi * p.sc() + p.m() * p.n(), Float.NaN);
            }
        }
        return new float[][] {Inputs.gaussian(aSize, stream), Inputs.gaussian(bSize, stream + 1), c0};
    }

    @Test
    void theProductLaunchCarriesTheVariant() {
        assertNotNull(Gemm.matmul(new float[6], new float[6], new float[4], 2, 2, 3, false, false).vector());
    }

    @Test
    void variantAgreesWithTheLoopsOnEveryShape() {
        long stream = 100;
        for (Product p : products()) {
            float[][] o = operands(p, stream += 3);
            assertClose("matmul vector " + p, run(Backends.SEQ, p, o[0], o[1], o[2]), run(Backends.PAR, p, o[0], o[1], o[2]));
        }
    }

    @Test
    void variantGivesTheSameBitsOnEveryThreadCount() {
        long stream = 500;
        for (Product p : products()) {
            float[][] o = operands(p, stream += 3);
            float[] first = run(TEAMS.getFirst(), p, o[0], o[1], o[2]);
            for (JvmBackend team : TEAMS.subList(1, TEAMS.size())) {
                assertIdentical("matmul vector " + p + " on " + team.threads() + " threads", first, run(team, p, o[0], o[1], o[2]));
            }
        }
    }
}
