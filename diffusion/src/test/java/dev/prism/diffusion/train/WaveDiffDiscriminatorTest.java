package dev.prism.diffusion.train;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelShapeException;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.WaveDiffDiscriminator;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WaveDiff discriminator and the losses of its training against the official PyTorch code
 * (tools/refgen/wavediff_train.py: Discriminator_small(nc 8, ngf 4, t_emb_dim 16, 3 layers) on 8×8 inputs and
 * Discriminator_large(nc 8, ngf 4, t_emb_dim 16, 4 layers) on 16×16 ones, with random weights, computed in float64): its output, the gradients of {@code softplus(−D).mean()}, the input gradient of the R1
 * penalty, and the R1 penalty's parameter gradient through that input gradient against PyTorch's double
 * back-propagation.
 */
class WaveDiffDiscriminatorTest {
    private static final JvmBackend JVM = JvmBackend.parallel(2);
    private static final WaveDiffDiscriminator.Config TINY = new WaveDiffDiscriminator.Config(4, 8, 4, 16, 3);
    private static final WaveDiffDiscriminator.Config TINY_LARGE = new WaveDiffDiscriminator.Config(4, 16, 4, 16, 4, true);

    @AfterAll
    static void close() {
        JVM.close();
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(WaveDiffDiscriminatorTest.class.getResource("/wavediff/" + name).toURI());
    }

    static Npz vectors(String name) throws IOException, URISyntaxException {
        Path p = resource(name + ".npz");
        try (InputStream in = Files.newInputStream(p)) {
            return Npz.read(p.getFileName().toString(), in);
        }
    }

    static WaveDiffDiscriminator tiny() throws IOException, URISyntaxException {
        return tiny("disc-tiny");
    }

    /** The committed case {@code name}: disc-tiny (Discriminator_small) or disc-tiny-large (Discriminator_large). */
    static WaveDiffDiscriminator tiny(String name) throws IOException, URISyntaxException {
        WaveDiffDiscriminator d = new WaveDiffDiscriminator(name.endsWith("large") ? TINY_LARGE : TINY);
        ModelWeights.load(d, resource(name + ".safetensors"), null);
        return d;
    }

    private static void run(Plan.Builder b) {
        try (Executable e = JVM.compile(b.build())) {
            e.execute();
        }
    }

    @Test
    void theOfficialStateDictLoadsStrictlyWithTheOfficialNames() throws Exception {
        WaveDiffDiscriminator d = tiny();
        assertEquals(31, d.parameters().size());
        assertTrue(d.parameters().stream().anyMatch(p -> p.name().equals("conv2.skip.0.weight")));
        assertTrue(d.parameters().stream().anyMatch(p -> p.name().equals("t_embed.main.2.bias")));
        assertTrue(d.parameters().stream().noneMatch(p -> p.name().equals("conv1.skip.0.bias")));
        WaveDiffDiscriminator large = tiny("disc-tiny-large");
        assertEquals(38, large.parameters().size());
        assertEquals(java.util.List.of(16, 8, 1, 1), java.util.Arrays.stream(large.expectedShapes().get("conv1.skip.0.weight")).boxed().toList(),
                "Discriminator_large's first block widens 2·ngf to 4·ngf");
    }

    @ParameterizedTest
    @ValueSource(strings = {"disc-tiny", "disc-tiny-large"})
    void outputAndLossGradientsMatchPyTorch(String name) throws Exception {
        WaveDiffDiscriminator d = tiny(name);
        Npz r = vectors(name);
        int[] xs = r.shape("x");
        Graph g = new Graph("disc");
        Tensor x = Tensor.of(r.f("x"), xs), xtp1 = Tensor.of(r.f("xtp1"), xs), t = Tensor.of(r.f("t"), xs[0]);
        Tensor out = d.forward(g, x, t, xtp1);
        Tensor loss = g.softplusMean(out, -1f);
        g.backward(loss, Tensor.of(new float[] {1f}, 1));
        run(g.addBackwardTo(Plan.builder("disc")).inputs(x.data(), xtp1.data(), t.data()).outputs(out.data(), loss.data()));
        // fp32 sums of a few hundred products against float64: 1e-4 of the largest value as in WaveDiffConformanceTest
        assertClose("D(x_t, t, x_t+1)", r.f("out"), out.data(), 1e-4, 1e-4 * maxAbs(r.f("out")));
        assertClose("softplus(-D).mean()", r.f("loss"), loss.data(), 1e-5, 0);
        for (Parameter p : d.parameters()) {
            float[] expected = r.f("grad." + p.name());
            assertClose("d loss / d " + p.name(), expected, g.gradOf(p).data(), 1e-4, 1e-4 * maxAbs(expected));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"disc-tiny", "disc-tiny-large"})
    void theInputGradientOfTheR1PenaltyMatchesPyTorchWithTheCriticFrozen(String name) throws Exception {
        WaveDiffDiscriminator d = tiny(name);
        Npz r = vectors(name);
        int[] xs = r.shape("x");
        Graph g = new Graph("disc-input");
        g.freeze(d.parameters());
        Tensor x = g.requiresGrad(Tensor.of(r.f("x"), xs)), xtp1 = Tensor.of(r.f("xtp1"), xs), t = Tensor.of(r.f("t"), xs[0]);
        Tensor out = d.forward(g, x, t, xtp1);
        float[] ones = new float[xs[0]];
        java.util.Arrays.fill(ones, 1f);
        g.backward(out, Tensor.of(ones, xs[0], 1));
        assertTrue(g.parameters().isEmpty(), "a frozen critic's parameters are not the graph's to train");
        for (Parameter p : d.parameters()) {
            assertNull(g.gradOf(p), p.name() + ": frozen, no gradient");
        }
        run(g.addBackwardTo(Plan.builder("disc-input")).inputs(x.data(), xtp1.data(), t.data()).outputs(out.data()));
        float[] gx = g.gradOf(x).data();
        assertClose("d sum(D) / d x_t", r.f("gx"), gx, 1e-4, 1e-4 * maxAbs(r.f("gx")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"disc-tiny", "disc-tiny-large"})
    void theR1PenaltyAndItsGradientMatchPyTorchsDoubleBackpropagation(String name) throws Exception {
        WaveDiffDiscriminator d = tiny(name);
        Npz r = vectors(name);
        int[] xs = r.shape("x");
        Graph g = new Graph("r1");
        Tensor x = Tensor.of(r.f("x"), xs), xtp1 = Tensor.of(r.f("xtp1"), xs), t = Tensor.of(r.f("t"), xs[0]);
        Tensor[] scored = d.forwardWithInputGradient(g, x, t, xtp1);
        Tensor penalty = WaveDiffTrainer.r1Penalty(g, scored[1], 1.0);
        g.backward(penalty, Tensor.of(new float[] {1f}, 1));
        run(g.addBackwardTo(Plan.builder("r1")).inputs(x.data(), xtp1.data(), t.data()).outputs(scored[0].data(), scored[1].data(),
                penalty.data()));
        assertClose("D(x_t, t, x_t+1)", r.f("out"), scored[0].data(), 1e-4, 1e-4 * maxAbs(r.f("out")));
        assertClose("d sum(D) / d x_t", r.f("gx"), scored[1].data(), 1e-4, 1e-4 * maxAbs(r.f("gx")));
        assertClose("R1 value (gamma/2) mean ||grad||^2", r.f("r1"), penalty.data(), 1e-4, 0);
        for (Parameter p : d.parameters()) {
            float[] expected = r.f("r1grad." + p.name());
            Tensor got = g.gradOf(p);
            float[] actual = got == null ? new float[expected.length] : got.data();
            // parameters that reach the penalty only through LeakyReLU's masks get an exact zero in PyTorch; Prism's
            // graph either gives none or sums whose terms cancel: absolute floor 1e-4 of the largest gradient
            assertClose("d R1 / d " + p.name(), expected, actual, 1e-4, 1e-4 * globalMax(r));
        }
    }

    private static double globalMax(Npz r) {
        double m = 0;
        for (String k : r.names()) {
            if (k.startsWith("r1grad.")) {
                m = Math.max(m, maxAbs(r.f(k)));
            }
        }
        return m;
    }

    @Test
    void wrongShapesAreRefusedNamingTheDiscriminator() {
        WaveDiffDiscriminator d = new WaveDiffDiscriminator(TINY);
        Graph g = new Graph("bad");
        ModelShapeException e = assertThrows(ModelShapeException.class,
                () -> d.forward(g, Tensor.zeros(2, 3, 8, 8), Tensor.zeros(2), Tensor.zeros(2, 3, 8, 8)));
        assertTrue(e.getMessage().contains("x_t") && e.getMessage().contains("[N, 4, 8, 8]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new WaveDiffDiscriminator.Config(4, 6, 4, 16, 3));
        assertThrows(IllegalArgumentException.class, () -> new WaveDiffDiscriminator.Config(4, 8, 4, 16, 5));
        assertThrows(IllegalArgumentException.class, () -> new WaveDiffDiscriminator.Config(4, 8, 4, 16, 4, true), "4 halvings of 8");
        assertThrows(IllegalArgumentException.class, () -> new WaveDiffDiscriminator.Config(4, 128, 4, 16, 7, true));
    }
}
