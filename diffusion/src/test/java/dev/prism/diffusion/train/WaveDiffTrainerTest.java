package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.WaveDiffDiscriminator;
import dev.prism.nn.models.WaveDiffGenerator;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * WaveDiff training on a tiny generator and discriminator: both networks learn (the reconstruction term falls, every
 * parameter of both moves), and a run stopped and resumed from its checkpoint equals the run that never stopped, weight
 * for weight, for both networks and their optimiser state.
 */
class WaveDiffTrainerTest {
    /** The CIFAR-10 structure at nf 4 on grey 16×16 images (4 Haar bands of 8×8). */
    static final Map<String, String> OPTIONS = Map.of("preset", "fmnist", "size", "8", "nf", "4", "nz", "4", "zdim", "8", "mlp", "1");

    static WaveDiffGenerator generator() {
        WaveDiffGenerator g = Models.build("wavediff", OPTIONS, 3).wavediff();
        g.initialiseOfficial(3);
        return g;
    }

    static WaveDiffDiscriminator critic() {
        WaveDiffDiscriminator d = WaveDiffDiscriminator.named("netD", new WaveDiffDiscriminator.Config(4, 8, 2, 8, 3));
        d.initialise(5);
        return d;
    }

    /** Grey 16×16 images of a blob whose place depends on the step and the image. */
    static final class Blobs implements DdpmTrainer.ImageSource {
        public int channels() {
            return 1;
        }

        public int height() {
            return 16;
        }

        public int width() {
            return 16;
        }

        public void fill(long step, float[] x0) {
            for (int i = 0; i < x0.length; i++) {
                int n = i / 256, y = (i / 16) % 16, x = i % 16;
                long k = step * 31 + n * 7;
                double cy = (k % 7) + 4.5, cx = (k / 7 % 7) + 4.5;
                x0[i] = (float) (2 * Math.exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 8) - 1);
            }
        }
    }

    static WaveDiffTrainer.Config config(double r1) {
        TrainingStep.Settings g = new TrainingStep.Settings(new AdamW(2e-3, 0.5, 0.9, 1e-8, 0), new LrSchedule("cosine", 0, 40, 0.1), 0, 0.9);
        TrainingStep.Settings d = new TrainingStep.Settings(new AdamW(1e-3, 0.5, 0.9, 1e-8, 0), new LrSchedule("cosine", 0, 40, 0.1), 0, 0.9);
        return new WaveDiffTrainer.Config(4, 11, 4, r1, 1.0, g, d);
    }

    @Test
    void bothNetworksLearnAndTheReconstructionFalls() {
        WaveDiffGenerator gen = generator();
        WaveDiffDiscriminator d = critic();
        float[][] before = gen.parameters().stream().map(p -> p.value().data().clone()).toArray(float[][]::new);
        float[][] dBefore = d.parameters().stream().map(p -> p.value().data().clone()).toArray(float[][]::new);
        try (JvmBackend b = JvmBackend.parallel(2); WaveDiffTrainer tr = new WaveDiffTrainer(b, gen, d, new Blobs(), config(0.05))) {
            assertEquals(List.of("d_real", "d_fake", "r1", "g_adv", "rec"), tr.termNames());
            double first = 0, last = 0;
            for (int s = 1; s <= 40; s++) {
                float loss = tr.step(s);
                assertTrue(Float.isFinite(loss), "loss at step " + s);
                assertTrue(tr.term(2) > 0, "the R1 penalty's value at step " + s);
                if (s <= 5) {
                    first += tr.term(4);
                }
                if (s > 35) {
                    last += tr.term(4);
                }
            }
            assertTrue(last < 0.7 * first, "mean reconstruction term of the last 5 steps " + last / 5 + " vs the first 5 " + first / 5);
        }
        for (int i = 0; i < before.length; i++) {
            assertNotEquals(java.util.Arrays.toString(before[i]), java.util.Arrays.toString(gen.parameters().get(i).value().data()),
                    gen.parameters().get(i).name() + " did not move");
        }
        for (int i = 0; i < dBefore.length; i++) {
            assertNotEquals(java.util.Arrays.toString(dBefore[i]), java.util.Arrays.toString(d.parameters().get(i).value().data()),
                    d.parameters().get(i).name() + " did not move");
        }
    }

    static WaveDiffTrainer.Config lazy(double r1, int every) {
        WaveDiffTrainer.Config c = config(r1);
        return new WaveDiffTrainer.Config(c.batch(), c.seed(), c.timesteps(), c.r1Gamma(), c.recWeight(), c.generator(), c.critic(), every);
    }

    /**
     * Lazy R1 every 2 iterations: iteration 1 is the every-iteration run's, bit for bit; iteration 2 is a step without R1
     * from that state (a trainer with γ = 0 restored from iteration 1's checkpoint), bit for bit, its r1 term 0.
     */
    @Test
    void lazyRegularisationComputesR1OnlyAtItsIterationsAndSkipsItExactlyBetween(@TempDir Path dir) throws Exception {
        List<Snapshot> every, lazy;
        Path ck = dir.resolve("checkpoint.safetensors");
        try (JvmBackend b = JvmBackend.parallel(2); WaveDiffTrainer tr = new WaveDiffTrainer(b, generator(), critic(), new Blobs(), config(0.05))) {
            tr.step(1);
            every = copies(tr.states());
            Checkpoint.write(ck, "wavediff", OPTIONS, tr.state(1), tr.states());
        }
        try (JvmBackend b = JvmBackend.parallel(2); WaveDiffTrainer tr = new WaveDiffTrainer(b, generator(), critic(), new Blobs(), lazy(0.05, 2))) {
            tr.step(1);
            assertTrue(tr.term(2) > 0, "R1 at iteration 1");
            assertStatesEqual(every, tr.states());
            tr.step(2);
            assertEquals(0f, tr.term(2), "no R1 at iteration 2");
            lazy = copies(tr.states());
            tr.step(3);
            assertTrue(tr.term(2) > 0, "R1 at iteration 3");
        }
        WaveDiffGenerator g = generator();
        WaveDiffDiscriminator d = critic();
        Map<String, int[]> shapes = new LinkedHashMap<>(g.expectedShapes());
        shapes.putAll(d.expectedShapes());
        try (JvmBackend b = JvmBackend.parallel(2); WaveDiffTrainer tr = new WaveDiffTrainer(b, g, d, new Blobs(), config(0))) {
            tr.restore(Checkpoint.read(ck, shapes));
            tr.step(2);
            assertStatesEqual(lazy, tr.states());
        }
    }

    /** A copy of one parameter's weights, moments and EMA (a trainer's states are its live arrays). */
    record Snapshot(String name, float[] weight, float[] m, float[] v, float[] ema) {
    }

    static List<Snapshot> copies(List<TrainingStep.State> states) {
        return states.stream().map(s -> new Snapshot(s.parameter().name(), s.parameter().value().data().clone(), s.m().clone(), s.v().clone(),
                s.ema().clone())).toList();
    }

    static void assertStatesEqual(List<Snapshot> a, List<TrainingStep.State> r) {
        assertEquals(a.size(), r.size());
        for (int i = 0; i < a.size(); i++) {
            String name = a.get(i).name();
            assertEquals(name, r.get(i).parameter().name());
            assertArrayEquals(a.get(i).weight(), r.get(i).parameter().value().data(), name);
            assertArrayEquals(a.get(i).ema(), r.get(i).ema(), "ema " + name);
            assertArrayEquals(a.get(i).m(), r.get(i).m(), "exp_avg " + name);
            assertArrayEquals(a.get(i).v(), r.get(i).v(), "exp_avg_sq " + name);
        }
    }

    @Test
    void aRunResumedFromItsCheckpointEqualsTheRunThatNeverStopped(@TempDir Path dir) throws Exception {
        List<TrainingStep.State> a;
        try (JvmBackend b = JvmBackend.parallel(2); WaveDiffTrainer tr = new WaveDiffTrainer(b, generator(), critic(), new Blobs(), config(0.02))) {
            for (int s = 1; s <= 6; s++) {
                tr.step(s);
            }
            a = tr.states();
        }
        Path ck = dir.resolve("checkpoint.safetensors");
        try (JvmBackend b = JvmBackend.parallel(3); WaveDiffTrainer tr = new WaveDiffTrainer(b, generator(), critic(), new Blobs(), config(0.02))) {
            for (int s = 1; s <= 3; s++) {
                tr.step(s);
            }
            Checkpoint.write(ck, "wavediff", OPTIONS, tr.state(3), tr.states());
        }
        WaveDiffGenerator g = generator();
        WaveDiffDiscriminator d = critic();
        Map<String, int[]> shapes = new LinkedHashMap<>(g.expectedShapes());
        shapes.putAll(d.expectedShapes());
        Checkpoint.Contents c = Checkpoint.read(ck, shapes);
        assertEquals("3", c.state().get("step"));
        List<TrainingStep.State> r;
        try (JvmBackend b = JvmBackend.parallel(1); WaveDiffTrainer tr = new WaveDiffTrainer(b, g, d, new Blobs(), config(0.02))) {
            tr.restore(c);
            for (int s = 4; s <= 6; s++) {
                tr.step(s);
            }
            r = tr.states();
        }
        assertEquals(a.size(), r.size());
        assertTrue(a.stream().anyMatch(s -> s.parameter().name().startsWith("netD.")), "the discriminator is checkpointed too");
        for (int i = 0; i < a.size(); i++) {
            String name = a.get(i).parameter().name();
            assertEquals(name, r.get(i).parameter().name());
            assertArrayEquals(a.get(i).parameter().value().data(), r.get(i).parameter().value().data(), name);
            assertArrayEquals(a.get(i).ema(), r.get(i).ema(), "ema " + name);
            assertArrayEquals(a.get(i).m(), r.get(i).m(), "exp_avg " + name);
            assertArrayEquals(a.get(i).v(), r.get(i).v(), "exp_avg_sq " + name);
        }
    }

    @Test
    void theOfficialInitialisationStartsTheGeneratorAtZeroAndItsNormsAtIdentity() {
        WaveDiffGenerator g = generator();
        for (var p : g.parameters()) {
            float[] d = p.value().data();
            if (p.name().endsWith("style.bias")) {
                assertEquals(1f, d[0], p.name() + ": gamma starts at 1");
                assertEquals(0f, d[d.length - 1], p.name() + ": beta starts at 0");
            } else if (p.name().endsWith("Conv_1.weight") || p.name().endsWith("NIN_3.W")) {
                for (float v : d) {
                    assertTrue(Math.abs(v) < 1e-5, p.name() + " starts at about 0, found " + v);
                }
            }
        }
        dev.prism.nn.Graph graph = new dev.prism.nn.Graph("init");
        dev.prism.nn.Tensor x = dev.prism.nn.Tensor.zeros(2, 4, 8, 8);
        java.util.Arrays.fill(x.data(), 0.5f);
        dev.prism.nn.Tensor t = dev.prism.nn.Tensor.zeros(2), z = dev.prism.nn.Tensor.zeros(2, 4);
        java.util.Arrays.fill(z.data(), 1f);
        dev.prism.nn.Tensor out = g.forward(graph, x, t, z);
        try (JvmBackend b = JvmBackend.parallel(2); var e = b.compile(graph.addForwardTo(dev.prism.backend.Plan.builder("init"))
                .inputs(x.data(), t.data(), z.data()).outputs(out.data()).build())) {
            e.execute();
        }
        for (float v : out.data()) {
            // weights within ±√(3e-10/fan_avg) ≈ 1e-6, over a few hundred normalised inputs: well under 1e-4 (the default init: ~0.5)
            assertTrue(Math.abs(v) < 1e-4, "the last convolution starts at scale 1e-10: output " + v);
        }
    }

    @Test
    void dataOrADiscriminatorThatDoNotFitTheGeneratorAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WaveDiffTrainer(generator(), critic(),
                new DdpmTrainerTest.Blobs(), config(0)));
        assertTrue(e.getMessage().contains("16x16"), e.getMessage());
        WaveDiffDiscriminator wrong = new WaveDiffDiscriminator(new WaveDiffDiscriminator.Config(12, 8, 2, 8, 3));
        e = assertThrows(IllegalArgumentException.class, () -> new WaveDiffTrainer(generator(), wrong, new Blobs(), config(0)));
        assertTrue(e.getMessage().contains("discriminator"), e.getMessage());
    }
}
