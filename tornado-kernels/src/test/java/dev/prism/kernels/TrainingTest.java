package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
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
    // ---------------------------------------------------------------- WaveDiff / DDGAN's adversarial training

    /** Runs {@code launches} on each of the parallel backends and asserts the bits of {@code out} equal {@code expected}. */
    private static void sameBitsOnEveryThreadCount(String what, float[] expected, float[] out, List<Launch> launches) {
        for (int threads : new int[] {2, 3, 7}) {
            JvmBackend b = JvmBackend.parallel(threads, false);
            try {
                Inputs.poison(out);
                launches.forEach(b::run);
                assertArrayEquals(expected, out, what + " on " + threads + " threads");
            } finally {
                b.close();
            }
        }
    }

    @Test
    void minibatchStddevAndItsGradientMatchPyTorchForEveryGroupSize() {
        for (String c : List.of("stddev_g4", "stddev_g2", "stddev_group_above_n")) {
            Npz r = Npz.resource("training/" + c);
            int[] s = r.shape("x");
            int n = s[0], ch = s[1], h = s[2], w = s[3], group = r.i("group");
            float[] x = r.f("x");
            float[] partials = Inputs.poisoned(Training.stddevPartialsLength(n, ch, h, w, group)), out = Inputs.poisoned(n * h * w);
            List<Launch> fwd = Training.minibatchStddev(x, partials, out, n, ch, h, w, group);
            seq(fwd);
            assertClose(c + " out", r.f("out"), out);
            sameBitsOnEveryThreadCount(c + " out", out.clone(), out, fwd);

            float[] sums = Inputs.poisoned(n), gx = Inputs.poisoned(x.length);
            List<Launch> bwd = Training.minibatchStddevBackward(x, r.f("gout"), sums, gx, n, ch, h, w, group);
            seq(bwd);
            assertClose(c + " gx", r.f("gx"), gx);
            sameBitsOnEveryThreadCount(c + " gx", gx.clone(), gx, bwd);
        }
    }

    @Test
    void minibatchStddevBackwardIsTheDerivativeOfItsForward() {
        // A standard deviation of two values is |a − b|/2 where they are far apart against 1e-4 and bends
        // sharply where they meet; the second member of each group is moved by 3 so that the steps of the
        // finite differences (1e-2) stay on the smooth part.
        int n = 4, c = 3, h = 2, w = 5, group = 2, size = c * h * w;
        float[] x = Inputs.gaussian(n * size, 41), gout = Inputs.gaussian(n * h * w, 42);
        for (int i = 2 * size; i < 4 * size; i++) {
            x[i] += 3f;
        }
        float[] gx = Inputs.poisoned(x.length);
        seq(Training.minibatchStddevBackward(x, gout, new float[n], gx, n, c, h, w, group));
        FiniteDifference.check("minibatchStddev", in -> {
            float[] out = new float[n * h * w];
            seq(Training.minibatchStddev(in, new float[Training.stddevPartialsLength(n, c, h, w, group)], out, n, c, h, w, group));
            return out;
        }, x, gout, gx, 4, x.length);
    }

    @Test
    void softplusMeanAndItsGradientMatchPyTorchAboveAndFarBelowTheThreshold() {
        for (String c : List.of("softplus_real", "softplus_fake", "softplus_tiny")) {
            Npz r = Npz.resource("training/" + c);
            float[] d = r.f("d");
            float sign = r.scalar("sign");
            int n = d.length;
            float[] partials = Inputs.poisoned(Training.blocks(n)), loss = Inputs.poisoned(1);
            List<Launch> fwd = Training.softplusMean(d, partials, loss, n, sign);
            seq(fwd);
            // softplus_tiny: every sign·d lies in [−30, −15], so the mean (about 1e-9) checks the relative
            // accuracy of log(1 + exp(−|z|)) itself
            assertClose(c + " loss", r.f("loss"), loss);
            sameBitsOnEveryThreadCount(c + " loss", loss.clone(), loss, fwd);
            float[] gd = Inputs.poisoned(n);
            Launch bwd = Training.softplusMeanBackward(d, r.f("gy"), gd, n, sign);
            Backends.seq(bwd);
            assertClose(c + " grad", r.f("grad"), gd);
            // the special values at the start (±30, ±20, ±20.5) each within 1e-5 of their own size, the
            // gradient at z = −30 (about 1e-16) included
            float[] ref = r.f("grad");
            for (int k = 0; k < 6; k++) {
                assertClose(c + " grad[" + k + "]", new float[] {ref[k]}, new float[] {gd[k]}, 1e-5, 0);
            }
            sameBitsOnEveryThreadCount(c + " grad", gd.clone(), gd, List.of(bwd));
        }
        Npz r = Npz.resource("training/softplus_real");
        float[] gd = Inputs.poisoned(r.f("d").length);
        Backends.seq(Training.softplusMeanBackward(r.f("d"), r.f("gy"), gd, gd.length, -1f));
        // d[1] = −30: sign·d = 30 lies above the threshold, where PyTorch's derivative is exactly 1
        assertEquals((float) (0.7f * -1.0 / gd.length), gd[1], "the gradient above the threshold");
    }

    @Test
    void softplusMeanBackwardIsTheDerivativeOfItsForward() {
        // The loss is one float whose rounding (6e-8 of it) the differences divide by their step (1e-2), and
        // a random direction's derivative cancels to a few 1e-3; with sign·d near −3 the softplus (about
        // 0.05) is small against its slopes (σ, also about 0.05), as in the KL's check above.
        int n = 6;
        for (float sign : new float[] {1f, -1f}) {
            float[] d = Inputs.gaussian(n, 43);
            for (int i = 0; i < n; i++) {
                d[i] -= 3f * sign;
            }
            float[] gy = {1.3f}, gd = Inputs.poisoned(n);
            Backends.seq(Training.softplusMeanBackward(d, gy, gd, n, sign));
            FiniteDifference.check("softplusMean " + sign, in -> {
                float[] loss = new float[1];
                seq(Training.softplusMean(in, new float[Training.blocks(n)], loss, n, sign));
                return loss;
            }, d, gy, gd, 4, n);
        }
    }

    @Test
    void meanAbsoluteErrorAndItsGradientMatchPyTorchWithZeroGradientAtTies() {
        for (String c : List.of("mae_small", "mae_long")) {
            Npz r = Npz.resource("training/" + c);
            float[] pred = r.f("pred"), target = r.f("target");
            int n = pred.length;
            float[] partials = Inputs.poisoned(Training.blocks(n)), loss = Inputs.poisoned(1);
            List<Launch> fwd = Training.meanAbsoluteError(pred, target, partials, loss, n);
            seq(fwd);
            assertClose(c + " loss", r.f("loss"), loss);
            sameBitsOnEveryThreadCount(c + " loss", loss.clone(), loss, fwd);
            float[] grad = Inputs.poisoned(n);
            Launch bwd = Training.meanAbsoluteErrorBackward(pred, target, r.f("gy"), grad, n);
            Backends.seq(bwd);
            assertClose(c + " grad", r.f("grad"), grad);
            for (int k : new int[] {1, 5, n - 1}) {
                assertEquals(0f, grad[k], c + ": sign(0) = 0 where pred equals target, as PyTorch's");
            }
            sameBitsOnEveryThreadCount(c + " grad", grad.clone(), grad, List.of(bwd));
        }
    }

    @Test
    void meanAbsoluteErrorBackwardIsTheDerivativeOfItsForward() {
        int n = 50;
        float[] pred = Inputs.gaussian(n, 44), target = Inputs.gaussian(n, 45);
        float[] gy = {1.3f}, grad = Inputs.poisoned(n);
        Backends.seq(Training.meanAbsoluteErrorBackward(pred, target, gy, grad, n));
        // the random directions cross no kink: the step (at most 1e-2) is below min |pred − target| here
        double gap = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            gap = Math.min(gap, Math.abs(pred[i] - target[i]));
        }
        assertTrue(gap > 1e-2, "inputs keep away from the kinks: " + gap);
        FiniteDifference.check("meanAbsoluteError", p -> {
            float[] loss = new float[1];
            seq(Training.meanAbsoluteError(p, target, new float[Training.blocks(n)], loss, n));
            return loss;
        }, pred, gy, grad, 4, n);
    }

    @Test
    void minibatchStddevDoubleBackwardMatchesPyTorchsAutogradTwice() {
        for (String c : List.of("stddev_double_g4", "stddev_double_group_above_n")) {
            Npz r = Npz.resource("training/" + c);
            int[] s = r.shape("x");
            int n = s[0], ch = s[1], h = s[2], w = s[3], group = r.i("group");
            float[] x = r.f("x"), gout = r.f("gout"), u = r.f("u");
            float[] gx = Inputs.poisoned(x.length);
            seq(Training.minibatchStddevBackward(x, gout, new float[n], gx, n, ch, h, w, group));
            assertClose(c + " gx", r.f("gx"), gx);

            float[] scratch = Inputs.poisoned(Training.stddevDoubleBackwardScratch(n, ch, h, w, group));
            float[] ux = Inputs.poisoned(x.length), ugout = Inputs.poisoned(gout.length);
            List<Launch> launches = Training.minibatchStddevDoubleBackward(x, gout, u, scratch, ux, ugout, n, ch, h, w, group);
            seq(launches);
            // stddev_double_group_above_n has G = 2, where ux cancels to about 1e-8 of its terms (the two deviations
            // are ±δ and only the 1e-8 under the root keeps them apart); in double that leaves about 1e-16/1e-8 of
            // relative error, well inside the 1e-5
            assertClose(c + " ux", r.f("ux"), ux);
            assertClose(c + " ugout", r.f("ugout"), ugout);
            sameBitsOnEveryThreadCount(c + " ux", ux.clone(), ux, launches);
            sameBitsOnEveryThreadCount(c + " ugout", ugout.clone(), ugout, launches);
        }
    }

    @Test
    void minibatchStddevDoubleBackwardIsTheDerivativeOfTheBackward() {
        // L = Σ u·gx(x, gout) with gx the backward kernel: ux its derivative in x, by central differences; ugout its
        // derivative in gout, where gx is linear, so exactly Σ u·gx(x, e_k) for each unit vector e_k (a central
        // difference there sees only gx's float rounding, some 1e-5 of Σ|u·gx| after the division by the step, about
        // the tolerance of these small derivatives). Groups of 4 and 3 samples, whose standard deviations keep well
        // away from 0 (with G = 2 the backward is flat in x).
        for (int group : new int[] {4, 3}) {
            int n = 2 * group, c = 3, h = 2, w = 5, size = c * h * w;
            float[] x = Inputs.gaussian(n * size, 53 + group), gout = Inputs.gaussian(n * h * w, 54 + group);
            float[] u = Inputs.gaussian(n * size, 55 + group);
            float[] ux = Inputs.poisoned(x.length), ugout = Inputs.poisoned(gout.length);
            seq(Training.minibatchStddevDoubleBackward(x, gout, u, new float[Training.stddevDoubleBackwardScratch(n, c, h, w, group)], ux,
                    ugout, n, c, h, w, group));
            FiniteDifference.check("minibatchStddevBackward in x, group " + group, in -> {
                float[] gx = new float[n * size];
                seq(Training.minibatchStddevBackward(in, gout, new float[n], gx, n, c, h, w, group));
                return gx;
            }, x, u, ux, 4, x.length);
            float[] linear = new float[gout.length];
            for (int k = 0; k < gout.length; k++) {
                float[] e = new float[gout.length], gx = new float[n * size];
                e[k] = 1f;
                seq(Training.minibatchStddevBackward(x, e, new float[n], gx, n, c, h, w, group));
                double s = 0;
                for (int i = 0; i < gx.length; i++) {
                    s += (double) u[i] * gx[i];
                }
                linear[k] = (float) s;
            }
            assertClose("minibatchStddevBackward in gout, group " + group, linear, ugout);
        }
    }

    @Test
    void badAdversarialArgumentsAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Training.minibatchStddev(new float[6 * 4], new float[100], new float[6 * 4], 6, 1, 2, 2, 4));
        assertEquals("training.minibatchStddev: argument 'group' expected a size whose min(n, group) divides n = 6, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Training.minibatchStddev(new float[8 * 12], new float[3], new float[8 * 4], 8, 3, 2, 2, 4));
        assertEquals("training.minibatchStddev: argument 'partials' expected length >= 4, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Training.softplusMean(new float[5], new float[1], new float[1], 5, 0.5f));
        assertEquals("training.softplusMean: argument 'sign' expected 1 or -1, found 0.5", e.getMessage());
        // n = 8, group 4: M = 2 groups, P = 600 positions in B = 3 blocks, so M·(1 + 2·B) = 14 floats of scratch
        e = assertThrows(IllegalArgumentException.class, () -> Training.minibatchStddevDoubleBackward(new float[8 * 600], new float[8 * 100],
                new float[8 * 600], new float[13], new float[8 * 600], new float[8 * 100], 8, 6, 4, 25, 4));
        assertEquals("training.minibatchStddevDoubleBackward: argument 'scratch' expected length >= 14, found 13", e.getMessage());
        float[] u = new float[8 * 12];
        e = assertThrows(IllegalArgumentException.class, () -> Training.minibatchStddevDoubleBackward(new float[8 * 12], new float[8 * 4],
                u, new float[100], u, new float[8 * 4], 8, 3, 2, 2, 4));
        assertEquals("training.minibatchStddevDoubleBackward: argument 'ux' expected an array distinct from 'u' (the kernel reads one while"
                + " writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Training.stddevDoubleBackwardScratch(6, 1, 2, 2, 4));
        assertEquals("training.minibatchStddevDoubleBackward: argument 'group' expected a size whose min(n, group) divides n = 6, found 4",
                e.getMessage());
    }
}
