package dev.prism.diffusion.compress;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.kernels.Approx;
import dev.prism.nn.Graph;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Models;
import dev.prism.testing.Arrays32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Compressing whole models: names map weight → coeff, full-order series keep the model's function. */
class ApproxCompressionTest {
    private static final Map<String, String> UNET = Map.of("width", "8", "groups", "4", "levels", "2", "attn", "1", "mults", "1,2",
            "skip", "concat");

    private static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** The source's architecture with CosConv / ChebConv hidden convolutions of the given orders, not allocated. */
    private static Models.Built series(Models.Built source, String conv, String orders) {
        Map<String, String> options = new java.util.HashMap<>(source.options());
        options.put("conv", conv);
        options.put("order", orders);
        return Models.structure(source.name(), options);
    }

    private static float[] unetOutput(Models.Built m, float[] x, float[] t) {
        Graph g = new Graph("unet");
        Tensor xt = Tensor.of(x.clone(), 2, 1, 8, 8), tt = Tensor.of(t.clone(), 2);
        Tensor y = m.unet().forward(g, xt, tt);
        try (JvmBackend b = JvmBackend.sequential();
             Executable e = b.compile(g.addForwardTo(Plan.builder("unet")).inputs(xt.data(), tt.data()).outputs(y.data()).build())) {
            e.execute();
        }
        return y.data().clone();
    }

    /**
     * With N = K the series spans every 3×3 kernel, so the compressed UNet (every hidden convolution now CosConv /
     * ChebConv) computes what the original computes; the convolutions that stay standard are copied.
     */
    @ParameterizedTest
    @EnumSource(Approx.Basis.class)
    void aFullOrderSeriesKeepsTheUNetsFunction(Approx.Basis basis) {
        Models.Built source = Models.build("ddpm-unet", UNET, 3);
        Models.Built target = series(source, basis == Approx.Basis.COSINE ? "cosconv" : "chebconv", "3");
        List<ApproxCompression.Layer> layers = ApproxCompression.compress(source.module(), target.module(), basis);
        assertEquals(target.module().parameters().stream().filter(p -> p.name().endsWith(".coeff")).count(), layers.size());
        assertTrue(layers.size() >= 10, "hidden convolutions replaced: " + layers.size());
        for (ApproxCompression.Layer l : layers) {
            assertEquals(l.before(), l.after(), l.name());
            assertTrue(l.fit().relativeError() < 1e-5, l.name() + ": " + l.fit().relativeError());
        }
        float[] x = gaussian(2 * 64, 5);
        float[] t = {3f, 700f};
        Arrays32.assertClose(basis + ": compressed UNet output", unetOutput(source, x, t), unetOutput(target, x, t), 1e-4, 1e-4);
    }

    @Test
    void perLevelOrdersShrinkEachLevelByItsOrder() {
        Models.Built source = Models.build("ddpm-unet", UNET, 3);
        Models.Built target = series(source, "chebconv", "3,2");
        List<ApproxCompression.Layer> layers = ApproxCompression.compress(source.module(), target.module(), Approx.Basis.CHEBYSHEV);
        long saved = 0;
        for (ApproxCompression.Layer l : layers) {
            int level = l.name().startsWith("mid.") ? 1 : l.name().charAt(l.name().indexOf('.') + 1) - '0';
            assertEquals(level == 0 ? 3 : 2, l.order(), l.name());
            assertEquals((long) l.cout() * l.cin() * l.order() * l.order(), l.after(), l.name());
            saved += l.before() - l.after();
        }
        assertEquals(source.module().parameterCount() - saved, target.module().parameterCount());
        for (Parameter p : target.module().parameters()) {
            if (!p.name().endsWith(".coeff")) {
                Arrays32.assertIdentical(p.name(), source.module().parameters().stream().filter(q -> q.name().equals(p.name())).findFirst()
                        .orElseThrow().value().data(), p.value().data());
            }
        }
    }

    @Test
    void aModelOfAnotherArchitectureIsRefusedWithEveryMismatch() {
        Models.Built source = Models.build("ddpm-unet", UNET, 3);
        Map<String, String> options = new java.util.HashMap<>(source.options());
        options.put("conv", "cosconv");
        options.put("width", "16");
        options.put("groups", "4");
        Models.Built target = Models.structure("ddpm-unet", options);
        var e = assertThrows(IllegalArgumentException.class, () -> ApproxCompression.compress(source.module(), target.module(), Approx.Basis.COSINE));
        assertTrue(e.getMessage().startsWith("the compressed model does not match the source model: 'time_embed.0.weight': expected [64, 16], "
                + "found [32, 8]"), e.getMessage());
        assertTrue(e.getMessage().contains("'down.0.res.0.conv1.weight': expected a square convolution kernel [16, 16, K, K], found [8, 8, 3, 3]"),
                e.getMessage());
    }
}
