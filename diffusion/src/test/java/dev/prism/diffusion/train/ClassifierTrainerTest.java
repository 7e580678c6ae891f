package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.models.Models;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cross-entropy training of a tiny classifier: it learns a simple task, and a resumed run equals the run that never stopped. */
class ClassifierTrainerTest {
    static final Map<String, String> OPTIONS = Map.of("width", "4", "stages", "2", "convs", "1", "hidden", "8", "classes", "3",
            "groups", "2");

    /**
     * Three classes of 8×8 images: a bright square in the top-left, top-right or bottom half, on noise; image i
     * of step s is a function of (s, i) alone.
     */
    static class Squares implements ClassifierTrainer.LabelledImages {
        public int channels() {
            return 1;
        }

        public int height() {
            return 8;
        }

        public int width() {
            return 8;
        }

        static int classOf(long step, int i) {
            return (int) Math.floorMod(step * 7 + i * 5, 3);
        }

        static void image(long step, int i, float[] dst, int at) {
            SplittableRandom r = new SplittableRandom(step * 1000 + i);
            int k = classOf(step, i);
            for (int p = 0; p < 64; p++) {
                int y = p / 8, x = p % 8;
                boolean on = k == 0 ? y < 4 && x < 4 : k == 1 ? y < 4 && x >= 4 : y >= 4;
                dst[at + p] = (float) ((on ? 0.6 : -0.6) + 0.5 * r.nextGaussian());
            }
        }

        public void fill(long step, float[] images, float[] labels) {
            for (int i = 0; i < labels.length; i++) {
                image(step, i, images, i * 64);
                labels[i] = classOf(step, i);
            }
        }
    }

    static ClassifierTrainer.Config config() {
        return new ClassifierTrainer.Config(6, new TrainingStep.Settings(AdamW.of(1e-2, 0.0), new LrSchedule("cosine", 3, 60, 0.1), 1.0, 0.9));
    }

    static Classifier model() {
        return Models.build("classifier", OPTIONS, 3).classifier();
    }

    @Test
    void itLearnsToTellTheClassesApart() {
        try (JvmBackend b = JvmBackend.parallel(2); ClassifierTrainer tr = new ClassifierTrainer(b, model(), new Squares(), config())) {
            double first = 0, last = 0;
            for (int s = 1; s <= 60; s++) {
                float loss = tr.step(s);
                assertTrue(Float.isFinite(loss), "loss at step " + s);
                first += s <= 5 ? loss : 0;
                last += s > 55 ? loss : 0;
            }
            assertTrue(last < 0.5 * first, "mean loss of the last 5 steps " + last / 5 + " vs the first 5 " + first / 5);
            Classifier ema = model();
            tr.copyEmaInto(ema);
            // 30 images never trained on (step 1000): the EMA weights classify nearly all of them.
            int n = 30;
            try (ClassifierFeatures f = new ClassifierFeatures(b, ema, 7, 8, 8)) {
                ClassifierFeatures.Result r = f.extract((first1, count, dst) -> {
                    for (int i = 0; i < count; i++) {
                        Squares.image(1000, first1 + i, dst, i * 64);
                    }
                }, n, null);
                int right = 0;
                for (int i = 0; i < n; i++) {
                    right += r.predicted(i) == Squares.classOf(1000, i) ? 1 : 0;
                }
                assertTrue(right >= 27, right + " of " + n + " right");
            }
        }
    }

    @Test
    void aRunResumedFromItsCheckpointEqualsTheRunThatNeverStopped(@TempDir Path dir) throws Exception {
        List<TrainingStep.State> a;
        try (JvmBackend b = JvmBackend.parallel(2); ClassifierTrainer tr = new ClassifierTrainer(b, model(), new Squares(), config())) {
            for (int s = 1; s <= 10; s++) {
                tr.step(s);
            }
            tr.training().fetch();
            a = tr.states();
        }
        Path ck = dir.resolve("checkpoint.safetensors");
        try (JvmBackend b = JvmBackend.parallel(3); ClassifierTrainer tr = new ClassifierTrainer(b, model(), new Squares(), config())) {
            for (int s = 1; s <= 5; s++) {
                tr.step(s);
            }
            tr.training().fetch();
            Checkpoint.write(ck, "classifier", OPTIONS, tr.state(5), tr.states());
        }
        Classifier resumed = model();
        Checkpoint.Contents c = Checkpoint.read(ck, resumed.expectedShapes());
        assertEquals("5", c.state().get("step"));
        assertEquals("6", c.state().get("batch"));
        assertEquals("0.01", c.state().get("lr"));
        List<TrainingStep.State> r;
        try (JvmBackend b = JvmBackend.parallel(1); ClassifierTrainer tr = new ClassifierTrainer(b, resumed, new Squares(), config())) {
            tr.restore(c);
            for (int s = 6; s <= 10; s++) {
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
    void imagesTheClassifierCannotTakeAreRefusedBeforeAnythingRuns() {
        ClassifierTrainer.LabelledImages odd = new Squares() {
            @Override
            public int height() {
                return 6;
            }
        };
        var e = assertThrows(IllegalArgumentException.class, () -> new ClassifierTrainer(model(), odd, config()));
        assertEquals("training data: images 1x6x8 do not fit the classifier: expected 1 channel(s) and a height and width divisible by 4",
                e.getMessage());
    }
}
