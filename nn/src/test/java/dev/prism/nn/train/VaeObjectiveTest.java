package dev.prism.nn.train;

import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.DeepPrismVae;
import dev.prism.nn.models.Models;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The DeepPrism autoencoder's objective ({@link DeepPrismVae#objective}: reconstruction + weighted KL through
 * the reparameterised sample) and every parameter's gradient against PyTorch 1.13 autograd in float64 on the
 * same weights, batch and noise (tools/refgen/vae_objective.py), within 1e-4 relative: the bound for
 * whole models (fp32 through dozens of layers).
 */
class VaeObjectiveTest {
    private static final double RTOL = 1e-4;

    private record Run(float[] loss, float[] reconstruction, float[] kl, List<float[]> grads) {
    }

    private static DeepPrismVae load() throws Exception {
        Path st = Path.of(VaeObjectiveTest.class.getResource("/models/deepprism-vae.safetensors").toURI());
        Models.Built built;
        try (WeightFile wf = WeightFile.open(st)) {
            Map<String, String> meta = wf.metadata();
            built = Models.build(meta.get("model"), Models.fromJson(meta.get("options")), 0);
        }
        ModelWeights.load(built.module(), st, null);
        return (DeepPrismVae) built.module();
    }

    private static Run run(JvmBackend backend, DeepPrismVae model, Npz r) {
        Graph g = new Graph("vae-objective");
        Tensor x = Tensor.of(r.f("x").clone(), r.shape("x"));
        Tensor eps = Tensor.of(r.f("eps").clone(), r.shape("eps"));
        DeepPrismVae.Objective o = model.objective(g, x, eps, r.f("kl_weight")[0]);
        g.backward(o.loss(), Tensor.of(new float[] {1f}, 1));
        Plan.Builder plan = g.addBackwardTo(Plan.builder("vae-objective")).inputs(x.data(), eps.data())
                .outputs(o.loss().data(), o.reconstruction().data(), o.kl().data());
        List<float[]> grads = model.parameters().stream().map(p -> g.gradOf(p).data()).toList();
        grads.forEach(plan::outputs);
        try (Executable e = backend.compile(plan.build())) {
            e.execute();
        }
        return new Run(o.loss().data(), o.reconstruction().data(), o.kl().data(), grads);
    }

    @Test
    void lossTermsAndEveryParameterGradientMatchPyTorchAutograd() throws Exception {
        Npz r;
        try (var in = VaeObjectiveTest.class.getResourceAsStream("/training/deepprism-vae-objective.npz")) {
            r = Npz.read("deepprism-vae-objective", in);
        }
        DeepPrismVae model = load();
        Run run;
        try (JvmBackend seq = JvmBackend.sequential()) {
            run = run(seq, model, r);
        }
        assertClose("loss", r.f("loss"), run.loss(), RTOL, 0);
        assertClose("reconstruction", r.f("reconstruction"), run.reconstruction(), RTOL, 0);
        assertClose("kl", r.f("kl"), run.kl(), RTOL, 0);
        // Some gradients are zero in exact arithmetic (a scalar bias right before a group norm, the key bias of
        // attention); fp32 leaves there the rounding of the cancelled terms, which scale with the module's
        // other gradients: the absolute floor is 1e-4 of the module's largest, as in ModelsTest.
        List<Parameter> ps = model.parameters();
        Map<String, Double> moduleScale = new TreeMap<>();
        for (Parameter p : ps) {
            moduleScale.merge(module(p.name()), maxAbs(r.f("grad." + p.name())), Math::max);
        }
        for (int i = 0; i < ps.size(); i++) {
            String key = "grad." + ps.get(i).name();
            float[] expected = r.f(key);
            assertClose(key, expected, run.grads().get(i), RTOL, RTOL * Math.max(maxAbs(expected), moduleScale.get(module(ps.get(i).name()))));
        }
        assertEquals(198, ps.size(), "every parameter of the tiny autoencoder is checked, the log-variance head included");
    }

    @Test
    void threeThreadsGiveTheBitsOfOne() throws Exception {
        Npz r;
        try (var in = VaeObjectiveTest.class.getResourceAsStream("/training/deepprism-vae-objective.npz")) {
            r = Npz.read("deepprism-vae-objective", in);
        }
        DeepPrismVae model = load();
        Run seq, par;
        // the plain loops (the Vector API variants order some sums differently) on one thread and on three
        try (JvmBackend b = JvmBackend.parallel(1, false)) {
            seq = run(b, model, r);
        }
        try (JvmBackend b = JvmBackend.parallel(3, false)) {
            par = run(b, model, r);
        }
        assertIdentical("loss", seq.loss(), par.loss());
        for (int i = 0; i < seq.grads().size(); i++) {
            assertIdentical(model.parameters().get(i).name(), seq.grads().get(i), par.grads().get(i));
        }
    }

    @Test
    void aNegativeKlWeightIsRefused() throws Exception {
        DeepPrismVae model = load();
        Graph g = new Graph("bad");
        var e = assertThrows(IllegalArgumentException.class, () -> model.objective(g, Tensor.zeros(1, 3, 16, 16), Tensor.zeros(1, 3, 4, 4), -1f));
        assertEquals("klWeight expected a finite number >= 0, found -1.0", e.getMessage());
    }

    private static String module(String parameter) {
        return parameter.substring(0, parameter.lastIndexOf('.'));
    }
}
