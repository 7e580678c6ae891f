package dev.prism.nn;

import dev.prism.kernels.Training;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The ops of WaveDiff's adversarial training in {@link Graph} (the kernels themselves are checked against PyTorch in
 * {@code TrainingTest}): their shapes, the gradients they pass on, and their shape errors.
 */
class AdversarialOpsTest {
    private static final int N = 4, C = 3, H = 2, W = 5;

    @Test
    void minibatchStddevAndSoftplusMeanChainTheirKernelsBackward() {
        float[] x = Inputs.gaussian(N * C * H * W, 61);
        Graph g = new Graph("critic");
        Tensor xt = g.requiresGrad(Tensor.of(x, N, C, H, W));
        Tensor s = g.minibatchStddev(xt, 2);
        assertArrayEquals(new int[] {N, 1, H, W}, s.shape());
        Tensor loss = g.softplusMean(s, 1f);
        float[] gy = {1.3f};
        g.backward(loss, Tensor.of(gy, 1));
        GraphRuns.run(g, Backends.SEQ);

        // the same chain launched by hand (the kernels' derivatives are checked in TrainingTest)
        float[] out = new float[N * H * W], l = new float[1], gs = new float[out.length], gx = new float[x.length];
        Training.minibatchStddev(x, new float[Training.stddevPartialsLength(N, C, H, W, 2)], out, N, C, H, W, 2).forEach(Backends::seq);
        Training.softplusMean(out, new float[1], l, out.length, 1f).forEach(Backends::seq);
        Backends.seq(Training.softplusMeanBackward(out, gy, gs, out.length, 1f));
        Training.minibatchStddevBackward(x, gs, new float[N], gx, N, C, H, W, 2).forEach(Backends::seq);
        assertIdentical("the features", out, s.data());
        assertIdentical("the loss", l, loss.data());
        assertIdentical("x's gradient", gx, g.gradOf(xt).data());
    }

    @Test
    void meanAbsoluteErrorPassesItsGradientToThePredictionOnly() {
        float[] p = Inputs.gaussian(30, 62), t = Inputs.gaussian(30, 63);
        Graph g = new Graph("rec");
        Tensor pred = g.requiresGrad(Tensor.of(p, 3, 10)), target = g.requiresGrad(Tensor.of(t, 3, 10));
        Tensor loss = g.meanAbsoluteError(pred, target);
        g.backward(loss, Tensor.of(new float[] {0.5f}, 1));
        GraphRuns.run(g, Backends.SEQ);
        float[] grad = new float[30];
        Backends.seq(Training.meanAbsoluteErrorBackward(p, t, new float[] {0.5f}, grad, 30));
        assertIdentical("pred's gradient", grad, g.gradOf(pred).data());
        assertNull(g.gradOf(target), "the target is data");
    }

    @Test
    void minibatchStddevInputGradPassesTheDoubleBackwardToXAndGout() {
        // gx = stddev_backward(x, gout) as an op, then Σ u·gx through multiply by the data u and a seed of ones: the
        // gradients of x and gout are the double backward's (the R1 penalty's double back-propagation through the
        // discriminator's minibatch standard deviation)
        int n = 8, group = 4, len = n * C * H * W, plane = n * H * W;
        float[] x = Inputs.gaussian(len, 64), go = Inputs.gaussian(plane, 65), u = Inputs.gaussian(len, 66);
        Graph g = new Graph("r1");
        Tensor xt = g.requiresGrad(Tensor.of(x, n, C, H, W)), gt = g.requiresGrad(Tensor.of(go, n, 1, H, W));
        Tensor gx = g.minibatchStddevInputGrad(xt, gt, group);
        assertArrayEquals(new int[] {n, C, H, W}, gx.shape());
        Tensor weighted = g.multiply(gx, Tensor.of(u, n, C, H, W));
        float[] ones = new float[len];
        Arrays.fill(ones, 1f);
        g.backward(weighted, Tensor.of(ones, n, C, H, W));
        GraphRuns.run(g, Backends.SEQ);

        float[] z = new float[len], ux = new float[len], ugout = new float[plane];
        Training.minibatchStddevBackward(x, go, new float[2], z, n, C, H, W, group).forEach(Backends::seq);
        Training.minibatchStddevDoubleBackward(x, go, u, new float[Training.stddevDoubleBackwardScratch(n, C, H, W, group)], ux, ugout,
                n, C, H, W, group).forEach(Backends::seq);
        assertIdentical("gx", z, gx.data());
        assertIdentical("x's gradient", ux, g.gradOf(xt).data());
        assertIdentical("gout's gradient", ugout, g.gradOf(gt).data());
        // and against the backward kernel itself: central differences in x; in gout, where gx is linear, exactly, as
        // Σ u·gx(x, e_k) for each unit vector e_k (a central difference there sees only gx's float rounding, some 1e-5
        // of Σ|u·gx| after the division by the step, as large as these small derivatives' tolerance)
        FiniteDifference.check("the input gradient in x", in -> {
            float[] out = new float[len];
            Training.minibatchStddevBackward(in, go, new float[2], out, n, C, H, W, group).forEach(Backends::seq);
            return out;
        }, x, u, g.gradOf(xt).data(), 3, 10);
        float[] linear = new float[plane];
        for (int k = 0; k < plane; k++) {
            float[] e = new float[plane], out = new float[len];
            e[k] = 1f;
            Training.minibatchStddevBackward(x, e, new float[2], out, n, C, H, W, group).forEach(Backends::seq);
            double s = 0;
            for (int i = 0; i < len; i++) {
                s += (double) u[i] * out[i];
            }
            linear[k] = (float) s;
        }
        assertClose("gout's gradient, Σ u·gx(x, e_k)", linear, g.gradOf(gt).data());
    }

    @Test
    void badShapesAreNamedWithTheGraph() {
        Graph g = new Graph("critic");
        ModelShapeException e = assertThrows(ModelShapeException.class, () -> g.minibatchStddev(g.buffer(6, 2, 3, 3), 4));
        assertEquals("graph 'critic': minibatchStddev of Tensor[6, 2, 3, 3] with group 4: expected x [N, C, H, W] and a group > 0"
                + " whose min(N, group) divides N", e.getMessage());
        e = assertThrows(ModelShapeException.class, () -> g.meanAbsoluteError(g.buffer(2, 3), g.buffer(3, 2)));
        assertEquals("graph 'critic': meanAbsoluteError of Tensor[2, 3] and Tensor[3, 2]: expected equal shapes", e.getMessage());
        e = assertThrows(ModelShapeException.class, () -> g.minibatchStddevInputGrad(g.buffer(4, 2, 3, 3), g.buffer(4, 2, 3, 3), 2));
        assertEquals("graph 'critic': minibatchStddevInputGrad of Tensor[4, 2, 3, 3] and Tensor[4, 2, 3, 3]: expected gout [4, 1, 3, 3]",
                e.getMessage());
    }
}
