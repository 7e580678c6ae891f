package dev.prism.nn.train;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.testing.Npz;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.prism.testing.Arrays32.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Three whole training steps (forward, MSE, backward, global-norm clipping, AdamW, EMA) of small UNets
 * against the same steps in PyTorch 1.13 (tools/refgen/training_steps.py), and the same bits on the
 * sequential and the parallel JVM backend.
 */
class TrainingStepTest {
    private static final TrainingStep.Settings SETTINGS = new TrainingStep.Settings(AdamW.of(1e-3, 0.01), LrSchedule.constant(0), 0.5, 0.9);

    static Path resource(String name) throws Exception {
        return Path.of(TrainingStepTest.class.getResource(name).toURI());
    }

    private static UNet load(String name) throws Exception {
        Path st = resource("/models/" + name + ".safetensors");
        Models.Built built;
        try (WeightFile wf = WeightFile.open(st)) {
            Map<String, String> meta = wf.metadata();
            built = Models.build(meta.get("model"), Models.fromJson(meta.get("options")), 0);
        }
        ModelWeights.load(built.module(), st, null);
        return built.unet();
    }

    /** Runs three steps and returns the losses; the model's weights and the step's EMA are left for the caller. */
    private static float[] train(Backend backend, UNet model, Npz r, List<TrainingStep.State> states) {
        Graph g = new Graph("train");
        Tensor x = Tensor.of(r.f("x").clone(), r.shape("x"));
        Tensor t = Tensor.of(r.f("t").clone(), r.shape("t"));
        Tensor target = Tensor.of(r.f("target").clone(), r.shape("target"));
        Tensor loss = g.meanSquaredError(model.forward(g, x, t), target);
        float[] losses = new float[3];
        try (TrainingStep step = new TrainingStep(backend, g, loss, model.parameters(), SETTINGS, x.data(), t.data(), target.data())) {
            for (int s = 1; s <= 3; s++) {
                losses[s - 1] = step.run(s);
            }
            step.fetch();
            states.addAll(step.states().values());
        }
        return losses;
    }

    @ParameterizedTest
    @ValueSource(strings = {"unet-standard", "wg-unet", "unet-prismattn"})
    void threeStepsMatchPyTorch(String name) throws Exception {
        Npz r;
        try (var in = TrainingStepTest.class.getResourceAsStream("/training/" + name + ".npz")) {
            r = Npz.read(name, in);
        }
        UNet model = load(name);
        List<TrainingStep.State> states = new ArrayList<>();
        float[] losses;
        try (JvmBackend seq = JvmBackend.sequential()) {
            losses = train(seq, model, r, states);
        }
        assertClose(name + " losses", r.f("loss"), losses);
        for (TrainingStep.State s : states) {
            Parameter p = s.parameter();
            // After three AdamW steps each weight moved by about 3·lr; an fp32 gradient that differs from
            // PyTorch's float64 one by 1e-5 relative moves m/√v by about as much. The weight moved by
            // 3·lr = 3e-3, so steps that differ by 1e-5 relative move it by up to 3e-8; where a gradient's sum
            // cancels to a third of its terms' magnitude its fp32 rounding is three times larger relative to
            // it: 1e-7. (Observed: one element of wg-unet's mid.res2.conv2.weight, near 0 at -0.0017, 3.3e-8
            // from PyTorch once reductions summed in double, db146e1.) A gradient that is zero in exact
            // arithmetic is rounding noise in fp32, which AdamW normalises into steps of up to lr: three
            // steps of noise then bound the difference.
            double atol = r.has("zero." + p.name()) ? 3 * 1e-3 * 1.01 : 1e-7;
            assertClose(name + " " + p.name(), r.f("w." + p.name()), p.value().data(), 1e-5, atol);
            assertClose(name + " ema " + p.name(), r.f("ema." + p.name()), s.ema(), 1e-5, atol);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unet-standard", "wg-unet"})
    void theParallelBackendTrainsToTheSameBitsAsItselfOnEveryThreadCount(String name) throws Exception {
        Npz r;
        try (var in = TrainingStepTest.class.getResourceAsStream("/training/" + name + ".npz")) {
            r = Npz.read(name, in);
        }
        float[][] first = null;
        for (int threads : new int[] {1, 2, 3}) {
            UNet model = load(name);
            List<TrainingStep.State> states = new ArrayList<>();
            try (JvmBackend par = JvmBackend.parallel(threads, false)) {
                train(par, model, r, states);
            }
            float[][] weights = states.stream().map(s -> s.parameter().value().data()).toArray(float[][]::new);
            if (first == null) {
                first = weights;
            } else {
                for (int i = 0; i < weights.length; i++) {
                    assertArrayEquals(first[i], weights[i], name + " weights on " + threads + " threads");
                }
            }
        }
        assertEquals(true, first != null);
    }
}
