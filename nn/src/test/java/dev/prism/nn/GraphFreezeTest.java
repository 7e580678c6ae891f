package dev.prism.nn;

import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Graph#freeze}: a frozen network's ops pass gradients on to their inputs without computing their parameters',
 * to the same bits as the unfrozen graph; and the input-gradient ops of the R1 penalty's double back-propagation
 * ({@link Graph#conv2dInputGrad}, {@link Graph#linearInputGrad}) equal the backward passes they stand for.
 */
class GraphFreezeTest {
    private static final int N = 2, C = 3, H = 5, W = 4, K = 4;

    private static Tensor chain(Graph g, Tensor x, Parameter conv, Parameter bias, Parameter gamma, Parameter beta, Parameter lin, Parameter linB) {
        Tensor h = g.groupNorm(g.conv2d(x, conv, bias, 1, 1), gamma, beta, 2, 1e-5f, true);
        return g.linear(g.globalAvgPool(h), lin, linB);
    }

    private static Parameter[] parameters() {
        return new Parameter[] {
            GraphRuns.parameter("conv.weight", Inputs.gaussian(K * C * 9, 3), K, C, 3, 3),
            GraphRuns.parameter("conv.bias", Inputs.gaussian(K, 4), K),
            GraphRuns.parameter("norm.weight", Inputs.gaussian(K, 5), K),
            GraphRuns.parameter("norm.bias", Inputs.gaussian(K, 6), K),
            GraphRuns.parameter("lin.weight", Inputs.gaussian(2 * K, 7), 2, K),
            GraphRuns.parameter("lin.bias", Inputs.gaussian(2, 8), 2)};
    }

    @Test
    void aFrozenNetworkPassesTheSameInputGradientAndComputesNoParameterGradient() {
        float[] x = Inputs.gaussian(N * C * H * W, 9);
        float[] seed = Inputs.gaussian(N * 2, 10);
        Parameter[] p = parameters();

        Graph trained = new Graph("trained");
        Tensor xa = trained.requiresGrad(Tensor.of(x.clone(), N, C, H, W));
        Tensor ya = chain(trained, xa, p[0], p[1], p[2], p[3], p[4], p[5]);
        trained.backward(ya, Tensor.of(seed.clone(), N, 2));
        GraphRuns.run(trained, Backends.SEQ);
        for (Parameter q : p) {
            assertNotNull(trained.gradOf(q), q.name());
        }

        Graph frozen = new Graph("frozen").freeze(List.of(p));
        Tensor xb = frozen.requiresGrad(Tensor.of(x.clone(), N, C, H, W));
        Tensor yb = chain(frozen, xb, p[0], p[1], p[2], p[3], p[4], p[5]);
        frozen.backward(yb, Tensor.of(seed.clone(), N, 2));
        GraphRuns.run(frozen, Backends.SEQ);
        assertTrue(frozen.parameters().isEmpty());
        for (Parameter q : p) {
            assertNull(frozen.gradOf(q), q.name() + " is frozen");
        }
        assertIdentical("output", ya.data(), yb.data());
        assertIdentical("input gradient", trained.gradOf(xa).data(), frozen.gradOf(xb).data());
        assertTrue(frozen.backwardLaunches().size() < trained.backwardLaunches().size(),
                "no launch computes a frozen parameter's gradient: " + frozen.backwardLaunches().size() + " vs " + trained.backwardLaunches().size());
    }

    @Test
    void aGraphWhoseOnlyInputsAreDataAndWhoseParametersAreFrozenRecordsNoBackward() {
        Parameter[] p = parameters();
        Graph g = new Graph("inference").freeze(List.of(p));
        Tensor y = chain(g, Tensor.of(Inputs.gaussian(N * C * H * W, 11), N, C, H, W), p[0], p[1], p[2], p[3], p[4], p[5]);
        g.backward(y, Tensor.of(new float[N * 2], N, 2));
        assertEquals(0, g.backwardLaunches().size());
    }

    @Test
    void freezingAParameterAlreadyInUseIsRefusedByName() {
        Parameter[] p = parameters();
        Graph g = new Graph("late");
        chain(g, Tensor.of(new float[N * C * H * W], N, C, H, W), p[0], p[1], p[2], p[3], p[4], p[5]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> g.freeze(List.of(p[4])));
        assertTrue(e.getMessage().contains("lin.weight"), e.getMessage());
    }

    @Test
    void theInputGradientOpsEqualTheBackwardPassesTheyStandFor() {
        float[] x = Inputs.gaussian(N * C * H * W, 12);
        float[] gy = Inputs.gaussian(N * K * H * W, 13);
        Parameter[] p = parameters();
        // conv2d's input gradient by its backward rule ...
        Graph a = new Graph("conv");
        Tensor xa = a.requiresGrad(Tensor.of(x, N, C, H, W));
        Tensor ya = a.conv2d(xa, p[0], null, 1, 1);
        a.backward(ya, Tensor.of(gy.clone(), N, K, H, W));
        GraphRuns.run(a, Backends.SEQ);
        // ... and as an op
        Graph b = new Graph("conv-input-grad");
        Tensor gx = b.conv2dInputGrad(Tensor.of(gy.clone(), N, K, H, W), p[0], 1);
        GraphRuns.run(b, Backends.SEQ);
        assertIdentical("conv2dInputGrad", a.gradOf(xa).data(), gx.data());

        float[] rows = Inputs.gaussian(N * K, 14), up = Inputs.gaussian(N * 2, 15);
        Graph c = new Graph("linear");
        Tensor r = c.requiresGrad(Tensor.of(rows, N, K));
        c.backward(c.linear(r, p[4], null), Tensor.of(up.clone(), N, 2));
        GraphRuns.run(c, Backends.SEQ);
        Graph d = new Graph("linear-input-grad");
        Tensor lx = d.linearInputGrad(Tensor.of(up.clone(), N, 2), p[4]);
        GraphRuns.run(d, Backends.SEQ);
        assertIdentical("linearInputGrad", c.gradOf(r).data(), lx.data());
    }
}
