package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training kernels against PyTorch 1.13 (tools/refgen/families/training.py). */
class TrainingTest {
    private static void seq(List<Launch> launches) {
        launches.forEach(Backends::seq);
    }

    @Test
    void qSampleMixesEachSampleWithItsOwnCoefficients() {
        Npz r = Npz.resource("training/qsample");
        float[] xt = Inputs.poisoned(r.f("xt").length);
        Backends.seq(Training.qSample(r.f("x0"), r.f("eps"), r.f("coef"), xt, 3, 70));
        assertClose("xt", r.f("xt"), xt);
        float[] par = Inputs.poisoned(xt.length);
        Backends.par(Training.qSample(r.f("x0"), r.f("eps"), r.f("coef"), par, 3, 70));
        assertArrayEquals(xt, par);
    }

    @Test
    void meanSquaredErrorAndItsGradientMatchPyTorch() {
        for (String c : List.of("mse_small", "mse_long")) {
            Npz r = Npz.resource("training/" + c);
            float[] pred = r.f("pred"), target = r.f("target");
            int n = pred.length;
            float[] partials = Inputs.poisoned(Training.blocks(n));
            float[] loss = Inputs.poisoned(1);
            seq(Training.meanSquaredError(pred, target, partials, loss, n));
            assertClose(c + " loss", r.f("loss"), loss);
            float[] grad = Inputs.poisoned(n);
            Backends.seq(Training.meanSquaredErrorBackward(pred, target, r.f("gy"), grad, n));
            assertClose(c + " grad", r.f("grad"), grad);
        }
    }

    @Test
    void crossEntropyAndItsGradientMatchPyTorch() {
        for (String c : List.of("xent_small", "xent_wide")) {
            Npz r = Npz.resource("training/" + c);
            float[] z = r.f("logits"), y = r.f("labels");
            int rows = y.length, classes = z.length / rows;
            float[] partials = Inputs.poisoned(rows);
            float[] loss = Inputs.poisoned(1);
            seq(Training.crossEntropy(z, y, partials, loss, rows, classes));
            assertClose(c + " per row", r.f("per_row"), partials);
            assertClose(c + " loss", r.f("loss"), loss);
            float[] grad = Inputs.poisoned(z.length);
            Backends.seq(Training.crossEntropyBackward(z, y, r.f("gy"), grad, rows, classes));
            assertClose(c + " grad", r.f("grad"), grad);
            float[] par = Inputs.poisoned(z.length);
            Backends.par(Training.crossEntropyBackward(z, y, r.f("gy"), par, rows, classes));
            assertArrayEquals(grad, par, c + ": the parallel backend gives the same bits");
        }
    }

    @Test
    void crossEntropyBackwardIsTheDerivativeOfItsForward() {
        int rows = 5, classes = 4;
        float[] z = Inputs.gaussian(rows * classes, 21);
        float[] y = {0, 3, 1, 1, 2};
        float[] gy = {1.3f};
        float[] grad = Inputs.poisoned(z.length);
        Backends.seq(Training.crossEntropyBackward(z, y, gy, grad, rows, classes));
        FiniteDifference.check("crossEntropy", x -> {
            float[] loss = new float[1];
            seq(Training.crossEntropy(x, y, new float[rows], loss, rows, classes));
            return loss;
        }, z, gy, grad, 4, z.length);
    }

    @Test
    void gaussianSampleAndKlAndTheirGradientsMatchPyTorchInsideAndOutsideTheClamp() {
        for (String c : List.of("gaussian_small", "gaussian_long")) {
            Npz r = Npz.resource("training/" + c);
            float[] mean = r.f("mean"), logvar = r.f("logvar"), eps = r.f("eps");
            int n = mean.length, batch = r.shape("mean")[0];
            float[] z = Inputs.poisoned(n);
            Backends.seq(Training.gaussianSample(mean, logvar, eps, z, n));
            assertClose(c + " z", r.f("z"), z);
            float[] glv = Inputs.poisoned(n);
            Backends.seq(Training.gaussianSampleBackward(logvar, eps, r.f("gz"), glv, n));
            assertClose(c + " z: logvar grad", r.f("z_glogvar"), glv);
            assertEquals(0f, glv[3], c + ": no gradient below the clamp");
            assertEquals(0f, glv[7], c + ": no gradient above the clamp");
            assertArrayEquals(r.f("gz"), r.f("z_gmean"), c + ": the mean's gradient of z is gz itself");

            float[] partials = Inputs.poisoned(Training.blocks(n)), kl = Inputs.poisoned(1);
            seq(Training.klNormal(mean, logvar, partials, kl, n, 1f / batch));
            assertClose(c + " kl", r.f("kl"), kl);
            float[] gm = Inputs.poisoned(n), gl = Inputs.poisoned(n);
            Backends.seq(Training.klNormalBackward(mean, logvar, r.f("gy"), gm, gl, n, 1f / batch));
            assertClose(c + " kl: mean grad", r.f("kl_gmean"), gm);
            assertClose(c + " kl: logvar grad", r.f("kl_glogvar"), gl);
            float[] par = Inputs.poisoned(n);
            Backends.plain(Training.gaussianSample(mean, logvar, eps, par, n));
            assertArrayEquals(z, par, c + ": the parallel backend's plain loops give the same bits");
            // the vector variant (exp in float, TrainingVectorTest) within the tolerance of the peer
            Backends.par(Training.gaussianSample(mean, logvar, eps, par, n));
            assertClose(c + " z (vector variant)", r.f("z"), par);
        }
    }

    @Test
    void klAndSampleBackwardsAreTheDerivativesOfTheirForwards() {
        // The KL is one float whose rounding (6e-8 of its value) the finite differences divide by their
        // step (1e-2); FiniteDifference allows 1e-6 of the value, so the value must stay small against its
        // derivative: a mean and log-variance of size 0.2 keep the KL near 0.02 per element, the slopes near 0.2.
        int n = 24, batch = 3;
        float[] mean = small(Inputs.gaussian(n, 31)), logvar = small(Inputs.gaussian(n, 32)), eps = Inputs.gaussian(n, 33);
        float[] gy = {1.3f}, gm = Inputs.poisoned(n), gl = Inputs.poisoned(n);
        Backends.seq(Training.klNormalBackward(mean, logvar, gy, gm, gl, n, 1f / batch));
        FiniteDifference.check("klNormal (mean)", m -> {
            float[] loss = new float[1];
            seq(Training.klNormal(m, logvar, new float[Training.blocks(n)], loss, n, 1f / batch));
            return loss;
        }, mean, gy, gm, 4, n);
        FiniteDifference.check("klNormal (logvar)", lv -> {
            float[] loss = new float[1];
            seq(Training.klNormal(mean, lv, new float[Training.blocks(n)], loss, n, 1f / batch));
            return loss;
        }, logvar, gy, gl, 4, n);
        float[] gz = Inputs.gaussian(n, 34), glv = Inputs.poisoned(n);
        Backends.seq(Training.gaussianSampleBackward(logvar, eps, gz, glv, n));
        FiniteDifference.check("gaussianSample (logvar)", lv -> {
            float[] z = new float[n];
            Backends.seq(Training.gaussianSample(mean, lv, eps, z, n));
            return z;
        }, logvar, gz, glv, 4, n);
    }

    private static float[] small(float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] *= 0.2f;
        }
        return a;
    }

    @Test
    void aLabelOutsideTheClassesMakesItsRowNaN() {
        int rows = 3, classes = 4;
        float[] z = Inputs.gaussian(rows * classes, 22);
        for (float bad : new float[] {-1f, 4f, 1.5f, Float.NaN}) {
            float[] y = {0, bad, 2};
            float[] partials = Inputs.poisoned(rows), loss = Inputs.poisoned(1), grad = Inputs.poisoned(z.length);
            seq(Training.crossEntropy(z, y, partials, loss, rows, classes));
            Backends.seq(Training.crossEntropyBackward(z, y, new float[] {1f}, grad, rows, classes));
            assertTrue(Float.isFinite(partials[0]) && Float.isFinite(partials[2]), "label " + bad + ": the other rows keep their loss");
            assertTrue(Float.isNaN(partials[1]) && Float.isNaN(loss[0]), "label " + bad + ": row 1 and the mean are NaN");
            for (int j = 0; j < classes; j++) {
                assertTrue(Float.isNaN(grad[classes + j]) && Float.isFinite(grad[j]), "label " + bad + ": gradient of class " + j);
            }
        }
    }

    /** Runs sumSquares over every gradient of the case into one partials buffer, then the clip factor. */
    private static float[] clip(Npz r, float maxNorm) {
        List<float[]> grads = new ArrayList<>();
        for (int i = 0; r.has("g" + i); i++) {
            grads.add(r.f("g" + i));
        }
        int count = 0;
        for (float[] g : grads) {
            count += Training.blocks(g.length);
        }
        float[] partials = Inputs.poisoned(count);
        float[] clip = Inputs.poisoned(2);
        int at = 0;
        for (float[] g : grads) {
            Backends.seq(Training.sumSquares(g, partials, g.length, at));
            at += Training.blocks(g.length);
        }
        Backends.seq(Training.clipFactor(partials, clip, count, maxNorm));
        return clip;
    }

    @Test
    void clipFactorIsTheOneOfClipGradNorm() {
        for (String c : List.of("clip_active", "clip_inactive")) {
            Npz r = Npz.resource("training/" + c);
            float[] clip = clip(r, r.scalar("max_norm"));
            assertClose(c + " norm", r.f("norm"), new float[] {clip[1]});
            assertClose(c + " factor", r.f("factor"), new float[] {clip[0]});
        }
        assertEquals(1f, clip(Npz.resource("training/clip_inactive"), 0f)[0], "maxNorm 0 disables clipping");
    }

    @Test
    void threeAdamwStepsMatchTorchOptimAdamw() {
        for (String c : List.of("adamw", "adamw_clipped")) {
            Npz r = Npz.resource("training/" + c);
            float[] hp = r.f("hp");
            float[] w = r.f("w0").clone();
            float[] m = new float[w.length], v = new float[w.length];
            float[] hyper = new float[TrainingKernels.HYPER];
            for (int k = 1; k <= 3; k++) {
                Training.adamwHyper(hyper, hp[0], hp[1], hp[2], hp[3], hp[4], k);
                Backends.seq(Training.adamw(w, r.f("grad" + k), m, v, hyper, r.f("clip")));
                // PyTorch's reference is float64 from the same float32 inputs; the float32 kernel rounds
                // the update's few operations once each, so 1e-5 relative holds for w, m and v alike.
                assertClose(c + " w after step " + k, r.f("w" + k), w);
                assertClose(c + " m after step " + k, r.f("m" + k), m);
                assertClose(c + " v after step " + k, r.f("v" + k), v);
            }
        }
    }

    @Test
    void adamwOnTheParallelBackendGivesTheSameBits() {
        int n = 10_000;
        float[] w1 = Inputs.gaussian(n, 3), g = Inputs.gaussian(n, 4);
        float[] w2 = w1.clone(), m1 = new float[n], m2 = new float[n], v1 = new float[n], v2 = new float[n];
        float[] hyper = Training.adamwHyper(new float[TrainingKernels.HYPER], 1e-3, 0.9, 0.999, 1e-8, 0.01, 5);
        float[] clip = {0.5f, 0f};
        Backends.seq(Training.adamw(w1, g, m1, v1, hyper, clip));
        Backends.par(Training.adamw(w2, g, m2, v2, hyper, clip));
        assertArrayEquals(w1, w2);
        assertArrayEquals(m1, m2);
        assertArrayEquals(v1, v2);
    }

    @Test
    void emaMatchesTheFloat64Average() {
        Npz r = Npz.resource("training/ema");
        float[] e = r.f("ema").clone();
        Backends.seq(Training.ema(e, r.f("w"), r.f("decay")));
        assertClose("ema", r.f("out"), e);
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Training.adamwHyper(new float[TrainingKernels.HYPER], 1e-3, 1.0, 0.999, 1e-8, 0, 1));
        assertEquals("training.adamwHyper: argument 'beta1' expected in [0, 1), found 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Training.adamwHyper(new float[TrainingKernels.HYPER], 1e-3, 0.9, 0.999, 1e-8, 0, 0));
        assertEquals("training.adamwHyper: argument 'step' expected >= 1 (steps count from 1), found 0", e.getMessage());
        float[] a = new float[8];
        e = assertThrows(IllegalArgumentException.class, () -> Training.qSample(a, a.clone(), new float[3], new float[8], 2, 4));
        assertEquals("training.qSample: argument 'coef' expected length 4, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Training.crossEntropy(new float[30], new float[4], new float[3], new float[1], 3, 10));
        assertEquals("training.crossEntropy: argument 'labels' expected length 3, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Training.crossEntropyBackward(new float[30], new float[3], new float[1], new float[20], 3, 10));
        assertEquals("training.crossEntropyBackward: argument 'grad' expected length 30, found 20", e.getMessage());
    }
}
