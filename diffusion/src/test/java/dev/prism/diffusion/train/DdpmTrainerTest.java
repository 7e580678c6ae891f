package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.CheckpointException;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DDPM training on a tiny UNet: the loss falls, and a run stopped and resumed equals the run that never stopped. */
class DdpmTrainerTest {
    static final Map<String, String> OPTIONS = Map.of("width", "8", "levels", "2", "attn", "1", "groups", "4");

    /** Images that depend on the step only: a few blobs whose place and sign vary with it. */
    static final class Blobs implements DdpmTrainer.ImageSource {
        public int channels() {
            return 1;
        }

        public int height() {
            return 8;
        }

        public int width() {
            return 8;
        }

        public void fill(long step, float[] x0) {
            for (int i = 0; i < x0.length; i++) {
                int n = i / 64, y = (i / 8) % 8, x = i % 8;
                long k = step * 31 + n * 7;
                double cy = (k % 5) + 1.5, cx = (k / 5 % 5) + 1.5;
                x0[i] = (float) (2 * Math.exp(-((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 4) - 1);
            }
        }
    }

    static DdpmTrainer.Config config() {
        return new DdpmTrainer.Config(4, 42, NoiseSchedule.linear(100),
                new TrainingStep.Settings(AdamW.of(2e-3, 0.0), new LrSchedule("cosine", 3, 40, 0.1), 1.0, 0.99));
    }

    static UNet model() {
        return Models.build("unet", OPTIONS, 7).unet();
    }

    @Test
    void theLossFallsOnASimpleDataSet() {
        try (JvmBackend b = JvmBackend.parallel(2); DdpmTrainer tr = new DdpmTrainer(b, model(), new Blobs(), config())) {
            double first = 0, last = 0;
            for (int s = 1; s <= 40; s++) {
                float loss = tr.step(s);
                assertTrue(Float.isFinite(loss), "loss at step " + s);
                if (s <= 5) {
                    first += loss;
                }
                if (s > 35) {
                    last += loss;
                }
            }
            assertTrue(last < 0.8 * first, "mean loss of the last 5 steps " + last / 5 + " vs the first 5 " + first / 5);
        }
    }

    @Test
    void aRunResumedFromItsCheckpointEqualsTheRunThatNeverStopped(@TempDir Path dir) throws Exception {
        UNet straight = model();
        List<TrainingStep.State> a;
        try (JvmBackend b = JvmBackend.parallel(2); DdpmTrainer tr = new DdpmTrainer(b, straight, new Blobs(), config())) {
            for (int s = 1; s <= 12; s++) {
                tr.step(s);
            }
            tr.training().fetch();
            a = tr.states();
        }
        Path ck = dir.resolve("checkpoint.safetensors");
        try (JvmBackend b = JvmBackend.parallel(3); DdpmTrainer tr = new DdpmTrainer(b, model(), new Blobs(), config())) {
            for (int s = 1; s <= 6; s++) {
                tr.step(s);
            }
            tr.training().fetch();
            Checkpoint.write(ck, "unet", OPTIONS, tr.state(6), tr.states());
        }
        assertTrue(Files.isRegularFile(Checkpoint.jsonOf(ck)));
        UNet resumed = model();
        Checkpoint.Contents c = Checkpoint.read(ck, resumed.expectedShapes());
        assertEquals("6", c.state().get("step"));
        assertEquals("unet", c.model());
        List<TrainingStep.State> r;
        try (JvmBackend b = JvmBackend.parallel(1); DdpmTrainer tr = new DdpmTrainer(b, resumed, new Blobs(), config())) {
            tr.restore(c);
            for (int s = 7; s <= 12; s++) {
                tr.step(s);
            }
            tr.training().fetch();
            r = tr.states();
        }
        for (int i = 0; i < a.size(); i++) {
            String name = a.get(i).parameter().name();
            assertArrayEquals(a.get(i).parameter().value().data(), r.get(i).parameter().value().data(), name);
            assertArrayEquals(a.get(i).ema(), r.get(i).ema(), "ema " + name);
            assertArrayEquals(a.get(i).m(), r.get(i).m(), "exp_avg " + name);
            assertArrayEquals(a.get(i).v(), r.get(i).v(), "exp_avg_sq " + name);
        }
    }

    @Test
    void aFileThatIsNotACheckpointIsRefusedByName(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("w.safetensors");
        UNet m = model();
        dev.prism.nn.ModelWeights.save(m, f, Map.of(), false);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(f, m.expectedShapes()));
        assertEquals(f + ": expected metadata format 'prism-checkpoint', found none (not a Prism checkpoint)", e.getMessage());
    }
}
