package dev.prism.nn.models;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFile;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Every model against the PyTorch module of the same architecture (tools/refgen/models.py): weights
 * saved by PyTorch, loaded through safetensors and through .pth, forward and backward within 1e-4
 * relative (the bound for whole models: fp32 through dozens of layers).
 */
class ModelsTest {
    private static final double RTOL = 1e-4;
    private static final JvmBackend JVM = JvmBackend.parallel(2);

    /** The poms run this test at 128, 256 and 512 bits: fail unless the variants run at the pinned width. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    @AfterAll
    static void close() {
        JVM.close();
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(ModelsTest.class.getResource("/models/" + name).toURI());
    }

    /** The model name and options stored in the safetensors metadata by the generator. */
    static Models.Built build(Path safetensors) throws IOException {
        try (WeightFile wf = WeightFile.open(safetensors)) {
            Map<String, String> meta = wf.metadata();
            return Models.build(meta.get("model"), Models.fromJson(meta.get("options")), 0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unet-standard", "unet-deepprism", "unet-separable", "unet-cosconv", "unet-chebconv",
            "unet-prismattn", "wg-unet", "wg-unet-gc", "deepprism-vae", "unet-plain", "unet-deepprism-mults", "wg-unet-mults"})
    void forwardAndBackwardMatchPyTorchThroughSafetensorsAndPth(String name) throws Exception {
        check(name, JVM);
    }

    /** Builds and loads model {@code name}, runs forward and backward as one plan on {@code backend}, compares with PyTorch. */
    static void check(String name, dev.prism.backend.Backend backend) throws Exception {
        Npz r;
        try (var in = ModelsTest.class.getResourceAsStream("/models/" + name + ".npz")) {
            r = Npz.read(name + ".npz", in);
        }
        Models.Built built = build(resource(name + ".safetensors"));
        Module model = built.module();
        ModelWeights.load(model, resource(name + ".safetensors"), null);
        List<float[]> fromSafetensors = new ArrayList<>();
        model.parameters().forEach(p -> fromSafetensors.add(p.value().data().clone()));

        // The .pth holds the same state_dict: every parameter must load to the same bits.
        Models.Built again = build(resource(name + ".safetensors"));
        ModelWeights.load(again.module(), resource(name + ".pth"), null);
        List<Parameter> ps = again.module().parameters();
        for (int i = 0; i < ps.size(); i++) {
            assertIdentical(name + " " + ps.get(i).name() + " (.pth vs .safetensors)", fromSafetensors.get(i), ps.get(i).value().data());
        }

        Graph g = new Graph(name);
        Tensor x = g.requiresGrad(Tensor.of(r.f("x"), r.shape("x")));
        Tensor out;
        Tensor mean = null, logvar = null, t = null;
        if (model instanceof DeepPrismVae vae) {
            DeepPrismVae.Moments m = vae.encode(g, x);
            mean = m.mean();
            logvar = m.logvar();
            out = vae.decode(g, mean);
        } else {
            t = Tensor.of(r.f("t"), r.shape("t"));
            out = built.unet().forward(g, x, t);
        }
        Tensor gy = Tensor.of(r.f("gy"), r.shape("gy"));
        g.backward(out, gy);

        // Every buffer the host reads afterwards is an output: on a device nothing else comes back.
        Plan.Builder plan = g.addBackwardTo(Plan.builder(name)).inputs(x.data(), gy.data()).outputs(out.data(), g.gradOf(x).data());
        if (t != null) {
            plan.inputs(t.data());
        }
        if (mean != null) {
            plan.outputs(mean.data(), logvar.data());
        }
        for (Parameter p : model.parameters()) {
            if (g.gradOf(p) != null) {
                plan.outputs(g.gradOf(p).data());
            }
        }
        try (Executable e = backend.compile(plan.build())) {
            e.execute();
        }
        check(name + " output", r.f("out"), out.data());
        if (mean != null) {
            check(name + " mean", r.f("mean"), mean.data());
            check(name + " logvar", r.f("logvar"), logvar.data());
        }
        check(name + " grad x", r.f("grad_x"), g.gradOf(x).data());
        // Some gradients are zero in exact arithmetic: the key bias of attention (softmax ignores a shift
        // common to every key) and a scalar bias right before a group norm (which removes it). PyTorch's
        // float64 gives ~1e-15 there, fp32 the rounding of the cancelled terms, which scale with the
        // other gradients of the same module; so the absolute floor is 1e-4 of the module's largest.
        Map<String, Double> moduleScale = new TreeMap<>();
        for (Parameter p : model.parameters()) {
            String key = "grad." + p.name();
            if (r.has(key)) {
                moduleScale.merge(module(p.name()), maxAbs(r.f(key)), Math::max);
            }
        }
        int checked = 0;
        for (Parameter p : model.parameters()) {
            String key = "grad." + p.name();
            Tensor grad = g.gradOf(p);
            if (r.has(key)) {
                double floor = RTOL * Math.max(maxAbs(r.f(key)), moduleScale.get(module(p.name())));
                assertClose(name + " " + key, r.f(key), grad.data(), RTOL, floor);
                checked++;
            } else {
                assertNull(grad, name + ": PyTorch gives " + p.name() + " no gradient, Prism does");
            }
        }
        assertEquals(model.parameters().size() - (mean != null ? 2 : 0), checked, name + ": parameters with a gradient");
    }

    private static String module(String parameter) {
        return parameter.substring(0, parameter.lastIndexOf('.'));
    }

    private static void check(String what, float[] expected, float[] actual) {
        assertClose(what, expected, actual, RTOL, RTOL * maxAbs(expected));
    }
}
