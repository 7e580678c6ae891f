package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Conv2dTest {

    static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    /** The parallel backend on the plain per-lane helpers (Conv2dVectorTest tests the vector variant). */
    static void par(List<Launch> launches) {
        launches.forEach(Backends::plain);
    }

    private static Conv2d.Geometry geometry(Npz r) {
        long[] v = r.get("geom").ints();
        int[] g = new int[14];
        for (int i = 0; i < 14; i++) {
            g[i] = (int) v[i];
        }
        return new Conv2d.Geometry(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13]);
    }

    private static boolean hasBias(Npz r) {
        return r.get("geom").ints()[14] == 1;
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3_p1_bias", "k3_s2_p1_n2", "k3_d2_p2", "k3_g2_p1_n2", "depthwise_k3_p1",
            "depthwise_x2_k5_s2_p2", "k2x5_s2x1_p1x2_d1x2", "k4_s3_odd", "k3_p3_wide_pad", "k1_n2_bias", "k1_nobias",
            "k1_s2_n2", "k3x5_p0x1_n2", "k5_d2_p3_n3", "k2_p1_even", "k3_s1_p3_wide_pad"})
    void forwardMatchesTorchConv2d(String name) {
        Npz r = Npz.resource("conv2d/" + name);
        Conv2d.Geometry g = geometry(r);
        float[] bias = hasBias(r) ? r.f("b") : null;
        assertArrayEquals(r.shape("y"), new int[] {g.n(), g.cout(), g.oh(), g.ow()}, "output shape " + name);
        float[] y = Inputs.poisoned(g.ySize());
        seq(Conv2d.forward(r.f("x"), r.f("w"), bias, y, g));
        assertClose("conv2d " + name, r.f("y"), y);
        float[] yd = Inputs.poisoned(g.ySize());
        seq(Conv2d.forwardDirect(r.f("x"), r.f("w"), bias, yd, g));
        assertClose("conv2d direct " + name, r.f("y"), yd);
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3_p1_bias", "k3_s2_p1_n2", "k3_d2_p2", "k3_g2_p1_n2", "depthwise_k3_p1",
            "depthwise_x2_k5_s2_p2", "k2x5_s2x1_p1x2_d1x2", "k4_s3_odd", "k3_p3_wide_pad", "k1_n2_bias", "k1_nobias",
            "k1_s2_n2", "k3x5_p0x1_n2", "k5_d2_p3_n3", "k2_p1_even", "k3_s1_p3_wide_pad"})
    void backwardMatchesTorchAutograd(String name) {
        Npz r = Npz.resource("conv2d/" + name);
        Conv2d.Geometry g = geometry(r);
        boolean bias = hasBias(r);
        for (boolean direct : new boolean[] {false, true}) {
            float[] gx = Inputs.poisoned(g.xSize()), gw = Inputs.poisoned(g.wSize());
            float[] gb = bias ? Inputs.poisoned(g.cout()) : null;
            seq(direct ? Conv2d.backwardDirect(r.f("x"), r.f("w"), r.f("gy"), gx, gw, gb, g)
                    : Conv2d.backward(r.f("x"), r.f("w"), r.f("gy"), gx, gw, gb, g));
            String what = (direct ? "direct " : "") + name;
            assertClose("gx " + what, r.f("gx"), gx);
            assertClose("gw " + what, r.f("gw"), gw);
            if (bias) {
                assertClose("gb " + what, r.f("gb"), gb);
            }
        }
    }

    @Test
    void pointwiseConvolutionRunsAsMatrixProductsWithBitIdenticalResults() {
        Conv2d.Geometry g = Conv2d.Geometry.of(3, 7, 5, 9, 6, 1, 1, 0, 1, 1);
        assertTrue(g.isPointwise());
        float[] x = Inputs.gaussian(g.xSize(), 1), w = Inputs.gaussian(g.wSize(), 2), b = Inputs.gaussian(g.cout(), 3);
        float[] gy = Inputs.gaussian(g.ySize(), 4);

        List<Launch> routed = Conv2d.forward(x, w, b, Inputs.poisoned(g.ySize()), g);
        List<Launch> direct = Conv2d.forwardDirect(x, w, b, Inputs.poisoned(g.ySize()), g);
        assertEquals(List.of("gemm.matmul", "gemm.addBias"), routed.stream().map(Launch::kernel).toList());
        assertEquals(List.of("conv2d.forward"), direct.stream().map(Launch::kernel).toList(), "the kernel adds the bias");
        seq(routed);
        seq(direct);
        assertIdentical("pointwise forward", direct.get(0).outputs()[0], routed.get(0).outputs()[0]);

        float[][] r = {Inputs.poisoned(g.xSize()), Inputs.poisoned(g.wSize()), Inputs.poisoned(g.cout())};
        float[][] d = {Inputs.poisoned(g.xSize()), Inputs.poisoned(g.wSize()), Inputs.poisoned(g.cout())};
        List<Launch> routedBack = Conv2d.backward(x, w, gy, r[0], r[1], r[2], g);
        assertEquals(List.of("gemm.matmul", "gemm.matmulBatchSum", "gemm.biasGrad"),
                routedBack.stream().map(Launch::kernel).toList());
        seq(routedBack);
        seq(Conv2d.backwardDirect(x, w, gy, d[0], d[1], d[2], g));
        assertIdentical("pointwise gx", d[0], r[0]);
        // The weight gradients are two double sums in different orders (per row, per plane), each rounded
        // once: the same float unless the two straddle a rounding boundary, and never more than an ulp apart.
        for (int i = 0; i < d[1].length; i++) {
            assertTrue(Math.abs(d[1][i] - r[1][i]) <= Math.ulp(d[1][i]), "pointwise gw [" + i + "]: " + d[1][i] + " vs " + r[1][i]);
        }
        assertIdentical("pointwise gb", d[2], r[2]);

        // stride 2 is not a plain product: it must stay on the direct kernel
        Conv2d.Geometry strided = Conv2d.Geometry.of(1, 3, 5, 5, 2, 1, 2, 0, 1, 1);
        assertEquals("conv2d.forward", Conv2d.forward(new float[strided.xSize()], new float[strided.wSize()], null,
                new float[strided.ySize()], strided).get(0).kernel());
    }

    @Test
    void aBatchOfNarrowPlanesRunsSideBySideWithTheDirectKernelsBits() {
        // 3×3 "same", over-padded, valid, a 5-wide kernel, 1-wide planes, and the widest that still runs side by side
        List<Conv2d.Geometry> narrow = List.of(Conv2d.Geometry.of(3, 5, 4, 4, 6, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(2, 3, 5, 3, 4, 3, 1, 2, 1, 1), Conv2d.Geometry.of(4, 2, 6, 7, 3, 3, 1, 0, 1, 1),
                Conv2d.Geometry.of(2, 3, 7, 6, 2, 5, 1, 2, 1, 1), Conv2d.Geometry.of(5, 2, 3, 1, 3, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(2, 4, 8, 8, 5, 3, 1, 1, 1, 1));
        for (Conv2d.Geometry g : narrow) {
            assertTrue(g.tileable(), g.toString());
            float[] x = Inputs.gaussian(g.xSize(), 11), w = Inputs.gaussian(g.wSize(), 12), b = Inputs.gaussian(g.cout(), 13);
            List<Launch> tiled = Conv2d.forwardSideBySide(x, w, b, Inputs.poisoned(g.ySize()), g);
            assertEquals("conv2d.forward", Conv2d.forward(x, w, b, Inputs.poisoned(g.ySize()), g).get(0).kernel(), "opt-in only");
            List<Launch> direct = Conv2d.forwardDirect(x, w, b, Inputs.poisoned(g.ySize()), g);
            assertEquals(List.of("conv2d.batchToWidth", "conv2d.forward", "conv2d.widthToBatch"),
                    tiled.stream().map(Launch::kernel).toList(), g.toString());
            seq(tiled);
            seq(direct);
            float[] y = tiled.get(2).outputs()[0];
            assertIdentical("side by side " + g, direct.get(0).outputs()[0], y);
            float[] vector = Inputs.poisoned(g.ySize());
            for (Launch l : Conv2d.forwardSideBySide(x, w, b, vector, g)) {
                Backends.par(l);
            }
            assertClose("side by side, vector variant " + g, y, vector);
        }
        // one image, wider planes, stride 2: the direct kernel
        for (Conv2d.Geometry g : List.of(Conv2d.Geometry.of(1, 3, 4, 4, 2, 3, 1, 1, 1, 1), Conv2d.Geometry.of(2, 3, 9, 9, 2, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(2, 3, 8, 8, 2, 3, 2, 1, 1, 1))) {
            assertEquals(false, g.tileable(), g.toString());
            assertEquals("conv2d.forward", Conv2d.forwardSideBySide(new float[g.xSize()], new float[g.wSize()], null, new float[g.ySize()], g)
                    .get(0).kernel());
        }
    }

    @Test
    void inputGradientOfStrideOneRunsAsForwardConvolutionOfFlippedWeights() {
        // the models' 3×3 "same" layer, a valid convolution, a non-square dilated kernel, an even kernel
        List<Conv2d.Geometry> routed = List.of(Conv2d.Geometry.of(2, 5, 7, 9, 3, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(1, 4, 6, 5, 6, 3, 1, 0, 1, 1),
                new Conv2d.Geometry(2, 3, 9, 11, 4, 3, 5, 1, 1, 2, 1, 2, 1, 1),
                Conv2d.Geometry.of(3, 2, 5, 4, 3, 2, 1, 1, 1, 1));
        long stream = 40;
        for (Conv2d.Geometry g : routed) {
            assertTrue(g.inputGradientIsForward(), g.toString());
            Conv2d.Geometry t = g.inputGradientAsForward();
            assertArrayEquals(new int[] {g.n(), g.cin(), g.h(), g.w()}, new int[] {t.n(), t.cout(), t.oh(), t.ow()},
                    "the transposed convolution's output is gx's shape, " + g);
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] gy = Inputs.gaussian(g.ySize(), stream++);
            float[] gx = Inputs.poisoned(g.xSize()), gxDirect = Inputs.poisoned(g.xSize());
            List<Launch> launches = Conv2d.backward(x, w, gy, gx, null, null, g);
            assertEquals(List.of("conv2d.flipWeights", "conv2d.forward"), launches.stream().map(Launch::kernel).toList());
            seq(launches);
            seq(Conv2d.backwardDirect(x, w, gy, gxDirect, null, null, g));
            assertEquals(List.of("conv2d.backwardInput"),
                    Conv2d.backwardDirect(x, w, gy, gxDirect, null, null, g).stream().map(Launch::kernel).toList());
            assertClose("gx as a forward convolution against the direct kernel, " + g, gxDirect, gx);
        }
        // stride 2, groups 2, padding beyond the kernel's reach: the direct kernel
        for (Conv2d.Geometry g : List.of(Conv2d.Geometry.of(1, 2, 8, 8, 2, 3, 2, 1, 1, 1),
                Conv2d.Geometry.of(1, 4, 6, 6, 2, 3, 1, 1, 1, 2), Conv2d.Geometry.of(1, 2, 4, 6, 2, 3, 1, 3, 1, 1))) {
            assertEquals(List.of("conv2d.backwardInput"), Conv2d.backward(new float[g.xSize()], new float[g.wSize()],
                    new float[g.ySize()], new float[g.xSize()], null, null, g).stream().map(Launch::kernel).toList(), g.toString());
            var e = assertThrows(IllegalStateException.class, g::inputGradientAsForward);
            assertTrue(e.getMessage().startsWith("conv2d " + g + ": the input gradient is not a forward convolution"), e.getMessage());
        }
    }

    @Test
    void flippedWeightsSwapChannelsAndReverseBothAxes() {
        Conv2d.Geometry g = new Conv2d.Geometry(1, 3, 6, 7, 2, 2, 3, 1, 1, 1, 1, 1, 1, 1);
        float[] w = Inputs.gaussian(g.wSize(), 60);
        float[] wf = Inputs.poisoned(g.wSize());
        Conv2dKernels.flipWeights(w, wf, g.pack());
        for (int co = 0; co < 2; co++) {
            for (int ci = 0; ci < 3; ci++) {
                for (int ky = 0; ky < 2; ky++) {
                    for (int kx = 0; kx < 3; kx++) {
                        assertEquals(w[((co * 3 + ci) * 2 + ky) * 3 + kx], wf[((ci * 2 + co) * 2 + (1 - ky)) * 3 + (2 - kx)],
                                "w[" + co + "," + ci + "," + ky + "," + kx + "]");
                    }
                }
            }
        }
    }

    @Test
    void backwardAgreesWithFiniteDifferences() {
        List<Conv2d.Geometry> geometries = List.of(
                new Conv2d.Geometry(2, 4, 5, 6, 4, 3, 2, 2, 1, 1, 1, 1, 2, 2),
                new Conv2d.Geometry(1, 3, 6, 5, 3, 3, 3, 1, 2, 2, 1, 2, 1, 3),
                Conv2d.Geometry.of(2, 3, 3, 4, 2, 1, 1, 0, 1, 1),
                new Conv2d.Geometry(2, 3, 5, 6, 2, 3, 2, 1, 1, 1, 0, 1, 2, 1));
        long stream = 10;
        for (Conv2d.Geometry g : geometries) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] b = Inputs.gaussian(g.cout(), stream++), gy = Inputs.gaussian(g.ySize(), stream++);
            float[] gx = new float[g.xSize()], gw = new float[g.wSize()], gb = new float[g.cout()];
            seq(Conv2d.backward(x, w, gy, gx, gw, gb, g));
            FiniteDifference.check("conv2d gx " + g, xi -> conv(xi, w, b, g), x, gy, gx, 3, 12);
            FiniteDifference.check("conv2d gw " + g, wi -> conv(x, wi, b, g), w, gy, gw, 3, 12);
            FiniteDifference.check("conv2d gb " + g, bi -> conv(x, w, bi, g), b, gy, gb, 2, g.cout());
        }
    }

    private static float[] conv(float[] x, float[] w, float[] b, Conv2d.Geometry g) {
        float[] y = new float[g.ySize()];
        seq(Conv2d.forward(x, w, b, y, g));
        return y;
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        for (Conv2d.Geometry g : List.of(new Conv2d.Geometry(2, 6, 13, 11, 9, 3, 3, 1, 1, 1, 1, 1, 1, 3),
                new Conv2d.Geometry(1, 5, 12, 17, 7, 3, 5, 2, 1, 2, 1, 1, 2, 1))) {
            float[] x = Inputs.gaussian(g.xSize(), 21), w = Inputs.gaussian(g.wSize(), 22);
            float[] b = Inputs.gaussian(g.cout(), 23), gy = Inputs.gaussian(g.ySize(), 24);
            float[][] s = {Inputs.poisoned(g.ySize()), Inputs.poisoned(g.xSize()), Inputs.poisoned(g.wSize()), Inputs.poisoned(g.cout())};
            float[][] p = {Inputs.poisoned(g.ySize()), Inputs.poisoned(g.xSize()), Inputs.poisoned(g.wSize()), Inputs.poisoned(g.cout())};
            seq(Conv2d.forward(x, w, b, s[0], g));
            seq(Conv2d.backward(x, w, gy, s[1], s[2], s[3], g));
            par(Conv2d.forward(x, w, b, p[0], g));
            par(Conv2d.backward(x, w, gy, p[1], p[2], p[3], g));
            for (int i = 0; i < s.length; i++) {
                assertIdentical("conv2d output " + i + " " + g, s[i], p[i]);
            }
        }
    }

    @Test
    void geometryPacksTheDocumentedLayout() {
        var g = new Conv2d.Geometry(2, 6, 9, 10, 4, 3, 5, 2, 1, 1, 2, 1, 2, 2);
        assertArrayEquals(new int[] {2, 6, 9, 10, 4, 3, 5, 2, 1, 1, 2, 1, 2, 2, 5, 6}, g.pack());
        assertEquals(5, g.pack()[Conv2dKernels.OH]);
        assertEquals(6, g.pack()[Conv2dKernels.OW]);
        assertEquals(Conv2dKernels.GEOMETRY_LENGTH, g.pack().length);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> Conv2d.Geometry.of(1, 6, 8, 8, 4, 3, 1, 1, 1, 4));
        assertEquals("conv2d: argument 'groups' expected a divisor of cin = 6, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.Geometry.of(1, 6, 8, 8, 4, 3, 1, 1, 1, 3));
        assertEquals("conv2d: argument 'groups' expected a divisor of cout = 4, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv2d.Geometry(1, 2, 3, 8, 4, 5, 3, 1, 1, 0, 1, 1, 1, 1));
        assertEquals("conv2d: argument 'oh' expected > 0 where oh = (h + 2·ph − dh·(kh−1) − 1)/sh + 1 with h = 3, ph = 0,"
                + " dh = 1, kh = 5, sh = 1, found -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Conv2d.Geometry(1, 2, 8, 4, 4, 3, 3, 1, 2, 1, 0, 1, 2, 1));
        assertEquals("conv2d: argument 'ow' expected > 0 where ow = (w + 2·pw − dw·(kw−1) − 1)/sw + 1 with w = 4, pw = 0,"
                + " dw = 2, kw = 3, sw = 2, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.Geometry.of(1, 2, 8, 8, 4, 3, 0, 1, 1, 1));
        assertEquals("conv2d: argument 'sh' expected > 0, found 0", e.getMessage());

        Conv2d.Geometry g = Conv2d.Geometry.of(1, 6, 8, 8, 4, 3, 1, 1, 1, 2);
        float[] x = new float[g.xSize()], y = new float[g.ySize()];
        // a weight shaped for groups = 1 ([4, 6, 3, 3]) where groups = 2 needs [4, 3, 3, 3]
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, new float[4 * 6 * 9], null, y, g));
        assertEquals("conv2d.forward: argument 'w' expected length 108 = [cout, cin/groups, kh, kw] = [4, 3, 3, 3]"
                + " for groups = 2, found 216", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.backward(x, new float[108], new float[g.ySize() - 1], null, null, null, g));
        assertEquals("conv2d.backward: argument 'gy' expected length 256, found 255", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, new float[108], new float[3], y, g));
        assertEquals("conv2d.forward: argument 'bias' expected length 4, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.forward(x, new float[108], null, x, g));
        assertEquals("conv2d.forward: argument 'y' expected length 256, found 384", e.getMessage());
    }
}
