package dev.prism.nn.models;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelShapeException;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The classifier against its PyTorch twin (tools/refgen/models.py, case {@code classifier}): weights
 * saved by PyTorch, features, logits, the mean cross-entropy and the gradient of that loss with respect
 * to the input and every parameter, within 1e-4 relative as the other models.
 */
class ClassifierTest {
    private static final double RTOL = 1e-4;
    private static final JvmBackend JVM = JvmBackend.parallel(2);

    @AfterAll
    static void close() {
        JVM.close();
    }

    @Test
    void featuresLogitsLossAndGradientsMatchPyTorch() throws Exception {
        Npz r;
        try (var in = ClassifierTest.class.getResourceAsStream("/models/classifier.npz")) {
            r = Npz.read("classifier.npz", in);
        }
        Models.Built built = ModelsTest.build(ModelsTest.resource("classifier.safetensors"));
        Classifier model = built.classifier();
        ModelWeights.load(model, ModelsTest.resource("classifier.safetensors"), null);
        Models.Built again = ModelsTest.build(ModelsTest.resource("classifier.safetensors"));
        ModelWeights.load(again.module(), ModelsTest.resource("classifier.pth"), null);
        List<Parameter> ps = model.parameters(), qs = again.module().parameters();
        for (int i = 0; i < ps.size(); i++) {
            assertIdentical(ps.get(i).name() + " (.pth vs .safetensors)", ps.get(i).value().data(), qs.get(i).value().data());
        }

        Graph g = new Graph("classifier");
        Tensor x = g.requiresGrad(Tensor.of(r.f("x"), r.shape("x")));
        Tensor labels = Tensor.of(r.f("labels"), r.shape("labels"));
        Classifier.Outputs out = model.forward(g, x);
        Tensor loss = g.crossEntropy(out.logits(), labels);
        float[] one = {1f};
        g.backward(loss, Tensor.of(one, 1));
        Plan.Builder plan = g.addBackwardTo(Plan.builder("classifier")).constants(one).inputs(x.data(), labels.data())
                .outputs(out.features().data(), out.logits().data(), loss.data(), g.gradOf(x).data());
        for (Parameter p : ps) {
            plan.outputs(g.gradOf(p).data());
        }
        try (Executable e = JVM.compile(plan.build())) {
            e.execute();
        }
        check("features", r.f("features"), out.features().data());
        check("logits", r.f("logits"), out.logits().data());
        check("loss", r.f("loss"), loss.data());
        check("grad x", r.f("grad_x"), g.gradOf(x).data());
        for (Parameter p : ps) {
            check("grad " + p.name(), r.f("grad." + p.name()), g.gradOf(p).data());
        }
        assertEquals(List.of("stages.0.conv.0.weight", "stages.0.conv.0.bias", "stages.0.conv.1.weight", "stages.0.conv.1.bias",
                "stages.0.norm.0.weight", "stages.0.norm.0.bias", "stages.0.norm.1.weight", "stages.0.norm.1.bias"),
                ps.subList(0, 8).stream().map(Parameter::name).toList());
        assertEquals(List.of("hidden.weight", "hidden.bias", "out.weight", "out.bias"),
                ps.subList(ps.size() - 4, ps.size()).stream().map(Parameter::name).toList());
    }

    private static void check(String what, float[] expected, float[] actual) {
        assertClose(what, expected, actual, RTOL, RTOL * maxAbs(expected));
    }

    @Test
    void anImageTheStagesCannotHalveFailsNamingTheModel() {
        Classifier c = Models.build("classifier", Map.of(), 1).classifier();
        Graph g = new Graph("bad");
        var e = assertThrows(ModelShapeException.class, () -> c.forward(g, Tensor.zeros(2, 1, 28, 28)));
        assertEquals("layer 'Classifier' (Classifier): input expected [N, 1, H, W] with H and W positive multiples of 8, found [2, 1, 28, 28]",
                e.getMessage());
        assertEquals(0, g.forwardLaunches().size(), "nothing may be added before the shape is checked");
    }

    @Test
    void theDefaultClassifierHasThreeStagesOfTwoConvolutionsAndOneHundredTwentyEightFeatures() {
        Models.Built b = Models.build("classifier", Map.of(), 1);
        Classifier c = b.classifier();
        assertEquals(new Classifier.Config(1, 16, 3, 2, 128, 10, 8), c.config());
        // 3·3·(1·16 + 16·16 + 16·32 + 32·32 + 32·64 + 64·64) conv weights, 2·(16+32+64) biases, 4·(16+32+64) norm parameters, 64·128+128 + 128·10+10
        assertEquals(9 * (16 + 256 + 512 + 1024 + 2048 + 4096) + 224 + 448 + 64 * 128 + 128 + 1290, c.parameterCount());
        var e = assertThrows(IllegalArgumentException.class, () -> Models.build("classifier", Map.of("classes", "1"), 1));
        assertEquals("classes expected >= 2, found 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("classifier", Map.of("width", "12", "groups", "5"), 1));
        assertEquals("groups expected a divisor of width 12, found 5", e.getMessage());
    }
}
