package dev.prism.nn;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.kernels.Elementwise;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A group norm whose input already has a gradient when the tape reaches it (a residual block's input: the skip path's
 * gradient arrives first) adds that gradient in its own backward launch instead of in an {@code elementwise.add} of its
 * own: the graph {@code y = x + groupNorm(x)} has no such add, and its input gradient has the bits of the group norm's
 * input gradient alone plus the residual's, added apart.
 */
class GraphResidualNormTest {
    private static final int N = 2, C = 4, H = 5, W = 6;

    @Test
    void theResidualsGradientIsAddedInTheNormsBackward() {
        float[] x = Inputs.gaussian(N * C * H * W, 21);
        float[] seed = Inputs.gaussian(x.length, 22);
        Parameter gamma = GraphRuns.parameter("norm.weight", Inputs.gaussian(C, 23), C);
        Parameter beta = GraphRuns.parameter("norm.bias", Inputs.gaussian(C, 24), C);
        for (boolean silu : new boolean[] {false, true}) {
            for (JvmBackend backend : new JvmBackend[] {Backends.SEQ, Backends.PAR}) {
                Graph residual = new Graph("residual");
                Tensor xr = residual.requiresGrad(Tensor.of(x.clone(), N, C, H, W));
                Tensor yr = residual.add(xr, residual.groupNorm(xr, gamma, beta, 2, 1e-5f, silu));
                residual.backward(yr, Tensor.of(seed.clone(), N, C, H, W));
                assertEquals(0, residual.backwardLaunches().stream().map(Launch::kernel).filter("elementwise.add"::equals).count(),
                        "elementwise.add launches in the backward, silu " + silu);
                GraphRuns.run(residual, backend);

                Graph norm = new Graph("norm");
                Tensor xn = norm.requiresGrad(Tensor.of(x.clone(), N, C, H, W));
                Tensor yn = norm.groupNorm(xn, gamma, beta, 2, 1e-5f, silu);
                norm.backward(yn, Tensor.of(seed.clone(), N, C, H, W));
                GraphRuns.run(norm, backend);
                float[] expected = Inputs.poisoned(x.length);
                backend.run(Elementwise.add(seed, norm.gradOf(xn).data(), expected, x.length));

                assertIdentical("input gradient, silu " + silu + ", " + backend.threads() + " threads", expected,
                        residual.gradOf(xr).data());
                assertIdentical("gamma's gradient, silu " + silu, norm.gradOf(gamma).data(), residual.gradOf(gamma).data());
            }
        }
    }
}
