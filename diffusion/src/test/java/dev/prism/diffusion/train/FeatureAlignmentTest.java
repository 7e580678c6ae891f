package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.nn.Graph;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Arrays32;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.prism.testing.Arrays32.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The feature term of spectrum-aware distillation: the 1×1 alignment convolutions and the mean of the per-level L2, against
 * PyTorch, a double-precision host sum and finite differences.
 */
class FeatureAlignmentTest {
    private static final int N = 1, H = 4, W = 4;

    /** A 3-level student (width 4, concatenated skips) and a 2-level teacher (width 6, added skips). */
    private static UNet student() {
        return Models.build("wg-unet", Map.of("width", "4", "levels", "3", "attn", "3", "groups", "2", "mults", "1,2,2", "skip", "concat"), 3).unet();
    }

    private static UNet teacher() {
        return Models.build("unet", Map.of("width", "6", "levels", "2", "attn", "2", "groups", "2"), 4).unet();
    }

    /** The loss's graph over given student features (with gradients), teacher features and the alignment's parameters. */
    private record Case(FeatureAlignment align, Graph graph, List<Tensor> fs, List<Tensor> ft, Tensor loss) {
        static Case of(int[] levels, long stream) {
            UNet s = FeatureAlignmentTest.student(), t = FeatureAlignmentTest.teacher();
            FeatureAlignment a = new FeatureAlignment(s, t, levels);
            int k = 0;
            for (Parameter p : a.parameters()) {
                float[] v = Inputs.gaussian(p.numel(), stream + 100 + k++);
                System.arraycopy(v, 0, p.value().data(), 0, v.length);
            }
            Graph g = new Graph("feature");
            List<Tensor> fs = new ArrayList<>();
            for (int l = 0; l < s.config().levels(); l++) {
                fs.add(g.requiresGrad(Tensor.of(Inputs.gaussian(N * s.decoderWidth(l) * (H >> l) * (W >> l), stream + l), N, s.decoderWidth(l),
                        H >> l, W >> l)));
            }
            List<Tensor> ft = new ArrayList<>();
            for (int i = 0; i < levels.length; i++) {
                int l = levels[i];
                ft.add(Tensor.of(Inputs.gaussian(N * a.teacherWidth(i) * (H >> l) * (W >> l), stream + 50 + l), N, a.teacherWidth(i), H >> l, W >> l));
            }
            return new Case(a, g, fs, ft, a.loss(g, fs, ft));
        }

        float run(JvmBackend b) {
            graph.forwardLaunches().forEach(b::run);
            return loss.data()[0];
        }

        /** The loss in double on the host: mean over levels of the mean over [N, Ct, h, w] of (W·fs + b − ft)². */
        double reference() {
            int[] levels = align.levels();
            List<Parameter> p = align.parameters();
            double total = 0;
            for (int i = 0; i < levels.length; i++) {
                float[] w = p.get(2 * i).value().data(), bias = p.get(2 * i + 1).value().data();
                Tensor x = fs.get(levels[i]), y = ft.get(i);
                int cin = x.dim(1), cout = y.dim(1), hw = x.dim(2) * x.dim(3);
                double sum = 0;
                for (int n = 0; n < N; n++) {
                    for (int o = 0; o < cout; o++) {
                        for (int q = 0; q < hw; q++) {
                            double v = bias[o];
                            for (int c = 0; c < cin; c++) {
                                v += (double) w[o * cin + c] * x.data()[(n * cin + c) * hw + q];
                            }
                            double d = v - y.data()[(n * cout + o) * hw + q];
                            sum += d * d;
                        }
                    }
                }
                total += sum / ((double) N * cout * hw);
            }
            return total / levels.length;
        }
    }

    /**
     * The loss and every gradient against PyTorch 1.13 (F.conv2d with a 1×1 kernel, F.mse_loss, the mean over levels, autograd in
     * float64; tools/refgen/feature_align.py), on the widths of this test's networks, N = 2, 8×8.
     */
    @ParameterizedTest
    @ValueSource(strings = {"levels_0", "levels_1", "levels_0_1"})
    void theLossAndItsGradientsMatchPyTorch(String name) {
        Npz r = Npz.resource("feature_align/" + name);
        int[] levels = java.util.Arrays.stream(r.get("levels").ints()).mapToInt(Math::toIntExact).toArray();
        UNet s = student();
        FeatureAlignment a = new FeatureAlignment(s, teacher(), levels);
        List<Parameter> p = a.parameters();
        for (int i = 0; i < levels.length; i++) {
            p.get(2 * i).load(Tensor.of(r.f("w" + i), r.shape("w" + i)));
            p.get(2 * i + 1).load(Tensor.of(r.f("b" + i), r.shape("b" + i)));
        }
        Graph g = new Graph("feature");
        List<Tensor> fs = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            fs.add(g.requiresGrad(Tensor.of(r.f("fs" + l), r.shape("fs" + l))));
        }
        fs.add(g.requiresGrad(Tensor.zeros(2, s.decoderWidth(2), 2, 2)));
        List<Tensor> ft = new ArrayList<>();
        for (int i = 0; i < levels.length; i++) {
            ft.add(Tensor.of(r.f("ft" + i), r.shape("ft" + i)));
        }
        Tensor loss = a.loss(g, fs, ft);
        g.backward(loss, Tensor.of(new float[] {1f}, 1));
        try (JvmBackend b = JvmBackend.sequential()) {
            g.forwardLaunches().forEach(b::run);
            g.backwardLaunches().forEach(b::run);
        }
        assertClose(name + " loss", r.f("loss"), loss.data());
        for (int l = 0; l < 2; l++) {
            Tensor grad = g.gradOf(fs.get(l));
            float[] expected = r.f("gfs" + l);
            if (grad == null) {
                assertEquals(0.0, Arrays32.maxAbs(expected), name + ": PyTorch has a gradient at level " + l + " where Prism has none");
            } else {
                assertClose(name + " gradient of student feature " + l, expected, grad.data());
            }
        }
        for (int i = 0; i < levels.length; i++) {
            assertClose(name + " gradient of " + p.get(2 * i).name(), r.f("gw" + i), g.gradOf(p.get(2 * i)).data());
            assertClose(name + " gradient of " + p.get(2 * i + 1).name(), r.f("gb" + i), g.gradOf(p.get(2 * i + 1)).data());
        }
    }

    @Test
    void theMatchedScalesAreTheLevelsBothNetworksHave() {
        assertArrayEquals(new int[] {0, 1}, FeatureAlignment.allLevels(student(), teacher()));
        FeatureAlignment a = new FeatureAlignment(student(), teacher(), new int[] {0, 1});
        // the student's decoder ends its levels at 4 and 8 channels (concat: each block maps to w_l), the teacher's at 6 and 6
        assertEquals(Map.of("feature_align.0.weight", List.of(6, 4, 1, 1), "feature_align.0.bias", List.of(6),
                        "feature_align.1.weight", List.of(6, 8, 1, 1), "feature_align.1.bias", List.of(6)),
                a.expectedShapes().entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
                        e -> java.util.Arrays.stream(e.getValue()).boxed().toList())));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FeatureAlignment(student(), teacher(), new int[] {0, 2}));
        assertEquals("feature levels expected increasing levels in 0..1 (the student has 3, the teacher 2), found [0, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FeatureAlignment(student(), teacher(), new int[] {1, 0}));
        assertTrue(e.getMessage().endsWith("found [1, 0]"), e.getMessage());
    }

    @Test
    void theStudentsFeaturesAtEachLevelHaveTheLevelsScale() {
        UNet s = student();
        Graph g = new Graph("f");
        UNet.Features f = s.forwardWithFeatures(g, Tensor.zeros(N, 1, H, W), Tensor.zeros(N));
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(new int[] {N, s.decoderWidth(l), H >> l, W >> l}, f.levels().get(l).shape(), "level " + l);
        }
        assertArrayEquals(new int[] {N, 1, H, W}, f.eps().shape());
    }

    @Test
    void theFeatureTermIsTheMeanOverLevelsOfTheAlignedL2() {
        try (JvmBackend b = JvmBackend.sequential()) {
            for (int[] levels : new int[][] {{0}, {1}, {0, 1}}) {
                Case c = Case.of(levels, 7);
                double expected = c.reference();
                assertEquals(expected, c.run(b), 1e-5 * expected, java.util.Arrays.toString(levels));
            }
        }
    }

    /** The identity start: a student feature equal to the teacher's (equal widths here) costs exactly 0. */
    @Test
    void theIdentityStartMapsEqualFeaturesToZeroLoss() {
        UNet s = student();
        FeatureAlignment a = new FeatureAlignment(s, s, new int[] {0, 1, 2});
        Graph g = new Graph("feature");
        List<Tensor> fs = new ArrayList<>();
        for (int l = 0; l < 3; l++) {
            fs.add(Tensor.of(Inputs.gaussian(N * s.decoderWidth(l) * (H >> l) * (W >> l), 30 + l), N, s.decoderWidth(l), H >> l, W >> l));
        }
        Tensor loss = a.loss(g, fs, fs);
        try (JvmBackend b = JvmBackend.sequential()) {
            g.forwardLaunches().forEach(b::run);
        }
        assertEquals(0f, loss.data()[0]);
    }

    /**
     * {@link FiniteDifference#check} of the loss in {@code x} (one of the graph's arrays, restored after each evaluation), in
     * the variable u = x / {@value #SCALE}: the loss is a quadratic, so a larger step costs no truncation error and lifts the
     * differences above the loss's fp32 rounding (about 1e-6 of the loss, against FiniteDifference's step of 1e-2).
     */
    private static void check(String what, Case c, JvmBackend b, float[] x, float[] gx) {
        float[] keep = x.clone();
        float[] u0 = new float[x.length], gu = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            u0[i] = x[i] / SCALE;
            gu[i] = gx[i] * SCALE;
        }
        FiniteDifference.check(what, u -> {
            for (int i = 0; i < x.length; i++) {
                x[i] = u[i] * SCALE;
            }
            float v = c.run(b);
            System.arraycopy(keep, 0, x, 0, x.length);
            return new float[] {v};
        }, u0, new float[] {1f}, gu, 3, 8);
    }

    private static final float SCALE = 64f;

    /** Gradients through the one autograd path (Graph's rules for conv2d, meanSquaredError, add, scale) against finite differences. */
    @Test
    void theGradientsAgreeWithFiniteDifferences() {
        try (JvmBackend b = JvmBackend.sequential()) {
            Case c = Case.of(new int[] {0, 1}, 11);
            c.graph().backward(c.loss(), Tensor.of(new float[] {1f}, 1));
            c.run(b);
            c.graph().backwardLaunches().forEach(b::run);
            for (int l = 0; l < 2; l++) {
                check("student feature " + l, c, b, c.fs().get(l).data(), c.graph().gradOf(c.fs().get(l)).data().clone());
            }
            for (Parameter p : c.align().parameters()) {
                check(p.name(), c, b, p.value().data(), c.graph().gradOf(p).data().clone());
            }
            // the student's level 2 is not matched: no gradient reaches it
            assertEquals(null, c.graph().gradOf(c.fs().get(2)));
        }
    }
}
