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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Conv2dVector}, the hand-vectorised variant of {@link Conv2dKernels#forwardRow}, against the plain
 * loops: every geometry {@link Conv2dTest} uses, the models' 3×3 and 1×1 layers, and shapes that put the
 * lane boundaries, the column tail and the input-channel blocking in awkward places. The variant (run by
 * {@code JvmBackend.parallel(3)}) must agree with the reference ({@link Backends#SEQ}) within the shared
 * tolerance and give the same bits on every thread count.
 */
class Conv2dVectorTest {
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

    private static final String[] RESOURCES = {"k3_p1_bias", "k3_s2_p1_n2", "k3_d2_p2", "k3_g2_p1_n2", "depthwise_k3_p1",
            "depthwise_x2_k5_s2_p2", "k2x5_s2x1_p1x2_d1x2", "k4_s3_odd", "k3_p3_wide_pad", "k1_n2_bias", "k1_nobias",
            "k1_s2_n2", "k3x5_p0x1_n2", "k5_d2_p3_n3", "k2_p1_even", "k3_s1_p3_wide_pad"};

    /**
     * The geometries of the reference vectors and of {@link Conv2dTest}'s other tests: every variant of the
     * family runs on each.
     */
    static List<Conv2d.Geometry> testGeometries() {
        List<Conv2d.Geometry> gs = new ArrayList<>();
        for (String name : RESOURCES) {
            long[] v = Npz.resource("conv2d/" + name).get("geom").ints();
            gs.add(new Conv2d.Geometry((int) v[0], (int) v[1], (int) v[2], (int) v[3], (int) v[4], (int) v[5], (int) v[6],
                    (int) v[7], (int) v[8], (int) v[9], (int) v[10], (int) v[11], (int) v[12], (int) v[13]));
        }
        gs.add(Conv2d.Geometry.of(3, 7, 5, 9, 6, 1, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 3, 5, 5, 2, 1, 2, 0, 1, 1));
        gs.add(new Conv2d.Geometry(2, 4, 5, 6, 4, 3, 2, 2, 1, 1, 1, 1, 2, 2));
        gs.add(new Conv2d.Geometry(1, 3, 6, 5, 3, 3, 3, 1, 2, 2, 1, 2, 1, 3));
        gs.add(Conv2d.Geometry.of(2, 3, 3, 4, 2, 1, 1, 0, 1, 1));
        gs.add(new Conv2d.Geometry(2, 3, 5, 6, 2, 3, 2, 1, 1, 1, 0, 1, 2, 1));
        gs.add(Conv2d.Geometry.of(2, 5, 7, 9, 3, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 4, 6, 5, 6, 3, 1, 0, 1, 1));
        gs.add(new Conv2d.Geometry(2, 3, 9, 11, 4, 3, 5, 1, 1, 2, 1, 2, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 2, 5, 4, 3, 2, 1, 1, 1, 1));
        gs.add(new Conv2d.Geometry(2, 6, 13, 11, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3));
        gs.add(new Conv2d.Geometry(1, 5, 12, 17, 7, 3, 5, 2, 1, 2, 1, 1, 2, 1));
        gs.add(new Conv2d.Geometry(2, 6, 9, 10, 4, 3, 5, 2, 1, 1, 2, 1, 2, 2));
        gs.add(Conv2d.Geometry.of(1, 6, 8, 8, 4, 3, 1, 1, 1, 2));
        return gs;
    }

    private static List<Conv2d.Geometry> geometries() {
        List<Conv2d.Geometry> gs = testGeometries();
        // the models' layers, and the vector path's edges: a column tail after full blocks, input channels
        // in several cache blocks, an odd channel count, rows split between lanes, padding wider than the row
        gs.add(Conv2d.Geometry.of(1, 64, 64, 64, 64, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 64, 32, 32, 64, 1, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 70, 9, 45, 5, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 33, 7, 41, 3, 3, 1, 2, 2, 1));
        gs.add(new Conv2d.Geometry(1, 2, 4, 3, 3, 3, 3, 2, 1, 4, 5, 1, 1, 1));
        gs.add(new Conv2d.Geometry(2, 9, 11, 70, 7, 5, 1, 1, 1, 2, 0, 1, 1, 1));
        // output rows around the lane counts 4, 8 and 16: narrower than one vector of 16, between one and four, past four
        gs.add(Conv2d.Geometry.of(1, 5, 6, 12, 6, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 4, 5, 20, 3, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 3, 4, 48, 5, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 3, 3, 80, 4, 1, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 6, 16, 16, 6, 3, 1, 1, 1, 1));
        // more input channels than one cache block holds (the block is 436 channels for a 3×3 kernel)
        gs.add(Conv2d.Geometry.of(1, 900, 4, 9, 3, 3, 1, 1, 1, 1));
        // Conv2dWinogradVector (3×3, stride 1, at least 4 input channels): odd output sizes (a last tile half outside),
        // no padding and padding 2, rows of more tiles than one block holds (cut into pieces), a single output row,
        // channel counts off CH
        gs.add(Conv2d.Geometry.of(3, 5, 7, 9, 6, 3, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 4, 6, 7, 5, 3, 1, 2, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 4, 5, 300, 7, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 6, 3, 40, 3, 3, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(5, 17, 4, 4, 9, 3, 1, 1, 1, 1));
        // the models' 32×32 and 16×16 layers and their input gradients (96 and 128 channels in, 96 out), and odd sizes
        // from 16 up (the last tiles partly outside), no padding and padding 2, a row of more tiles than one block holds
        gs.add(Conv2d.Geometry.of(2, 32, 32, 32, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 96, 32, 32, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 32, 32, 32, 96, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 128, 16, 16, 64, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 8, 17, 19, 9, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 9, 18, 18, 10, 3, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 8, 20, 21, 8, 3, 1, 2, 1, 1));
        // 8×8 layers on F(4×4, 3×3) at 256 bits, a vector of tiles two images: an odd batch (the last vector half empty),
        // and two images only
        gs.add(Conv2d.Geometry.of(3, 16, 8, 8, 17, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 64, 8, 8, 16, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 8, 16, 270, 11, 3, 1, 1, 1, 1));
        // F(4×4, 3×3) with an odd input-channel count: the weight transform's last filters of each block one at a time
        // (cin·CH is not a multiple of the double lanes)
        gs.add(Conv2d.Geometry.of(2, 17, 16, 16, 18, 3, 1, 1, 1, 1));
        // square images of 2 to 32 columns: at each width, three of them take the input transform's stacked paths
        // (Conv2dWinogradVector.stacks: L/4, L/2 and L tiles a row)
        for (int w = 2; w <= 32; w *= 2) {
            gs.add(Conv2d.Geometry.of(3, 5, w, w, 6, 3, 1, 1, 1, 1));
        }
        return gs;
    }

    private static float[] run(JvmBackend backend, float[] x, float[] w, float[] b, Conv2d.Geometry g) {
        float[] y = Inputs.poisoned(g.ySize());
        for (Launch l : Conv2d.forwardDirect(x, w, b, y, g)) {
            backend.run(l);
        }
        return y;
    }

    @Test
    void theForwardLaunchCarriesTheVariant() {
        Conv2d.Geometry g = Conv2d.Geometry.of(1, 4, 6, 6, 4, 3, 1, 1, 1, 1);
        assertNotNull(Conv2d.forwardDirect(new float[g.xSize()], new float[g.wSize()], null, new float[g.ySize()], g)
                .getFirst().vector());
    }

    @Test
    void variantAgreesWithTheLoopsOnEveryShape() {
        long stream = 100;
        for (Conv2d.Geometry g : geometries()) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] b = Inputs.gaussian(g.cout(), stream++);
            float[] ref = run(Backends.SEQ, x, w, b, g);
            float[] vec = run(Backends.PAR, x, w, b, g);
            assertClose("conv2d vector " + g, ref, vec);
        }
    }

    /**
     * The input transform's stacked paths ({@link Conv2dWinogradVector#stacks}: four, two or one tile rows of {@code L/4},
     * {@code L/2} or {@code L} tiles a vector) and the vector stores of whole output rows give the bits of the path that
     * splits each input row: a {@code w}-wide image's outputs are the first {@code w} columns of the outputs of that image
     * with a zero column appended, {@code w + 1} wide, which takes the split path and stores by element.
     */
    @Test
    void stackedTileRowsGiveTheSplitPathsBits() {
        int lanes = VectorMath.FLOAT.length();
        long stream = 900;
        for (int rows : new int[] {4, 2, 1}) {
            int w = 2 * lanes / rows;
            Conv2d.Geometry g = Conv2d.Geometry.of(3, 5, w, w, 6, 3, 1, 1, 1, 1);
            Conv2d.Geometry wide = Conv2d.Geometry.of(3, 5, w, w + 1, 6, 3, 1, 1, 1, 1);
            assertTrue(Conv2dWinogradVector.stacks(g.pack(), 0, w / 2, rows), g + " stacks " + rows + " tile rows");
            for (int r : new int[] {1, 2, 4}) {
                assertFalse(Conv2dWinogradVector.stacks(wide.pack(), 0, (w + 2) / 2, r), wide + " stacks " + r + " tile rows");
            }
            float[] x = Inputs.gaussian(g.xSize(), stream++), wt = Inputs.gaussian(g.wSize(), stream++);
            float[] xw = new float[wide.xSize()];
            for (int row = 0; row < 3 * 5 * w; row++) {
                System.arraycopy(x, row * w, xw, row * (w + 1), w);
            }
            for (JvmBackend team : TEAMS) {
                float[] y = run(team, x, wt, null, g);
                float[] yw = run(team, xw, wt, null, wide);
                float[] cut = new float[y.length];
                for (int row = 0; row < 3 * 6 * w; row++) {
                    System.arraycopy(yw, row * (w + 1), cut, row * w, w);
                }
                assertIdentical("conv2d " + g + " against " + wide + " on " + team.threads() + " threads", cut, y);
            }
        }
    }

    /**
     * The kernel adds the bias to each finished sum on every path (the plain loops, the vector variant's direct rows and
     * Winograd's tiles): the bits of the convolution without bias and a separate {@code gemm.addBias} after it.
     */
    @Test
    void theBiasAddedInTheKernelGivesTheBitsOfASeparateAdd() {
        long stream = 1300;
        for (Conv2d.Geometry g : geometries()) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] b = Inputs.gaussian(g.cout(), stream++);
            for (JvmBackend backend : List.of(Backends.SEQ, Backends.PAR)) {
                float[] apart = run(backend, x, w, null, g);
                backend.run(Gemm.addBias(apart, b, g.n(), g.cout(), g.oh() * g.ow()));
                assertIdentical("conv2d " + g + " with its bias, " + (backend == Backends.SEQ ? "loops" : "vector variant"),
                        apart, run(backend, x, w, b, g));
            }
        }
    }

    @Test
    void variantGivesTheSameBitsOnEveryThreadCount() {
        long stream = 500;
        for (Conv2d.Geometry g : geometries()) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] first = run(TEAMS.getFirst(), x, w, null, g);
            for (JvmBackend team : TEAMS.subList(1, TEAMS.size())) {
                assertIdentical("conv2d vector " + g + " on " + team.threads() + " threads", first, run(team, x, w, null, g));
            }
        }
    }
}
