package dev.prism.diffusion.train;

import dev.prism.diffusion.NoiseSchedule;
import dev.prism.kernels.Training;
import dev.prism.nn.Footprint;
import dev.prism.nn.Heap;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainers' footprints, found before allocating, against the arrays of the plans really built. */
class TrainerFootprintTest {
    private static final TrainingStep.Settings SETTINGS = new TrainingStep.Settings(AdamW.of(1e-3, 0.0),
            new LrSchedule("constant", 0, 10, 0.1), 1.0, 0.99);

    /** Images of a given size whose values do not matter: only the plan's arrays are compared. */
    private record Images(int c, int h, int w) implements DdpmTrainer.ImageSource, ClassifierTrainer.LabelledImages {
        public int channels() {
            return c;
        }

        public int height() {
            return h;
        }

        public int width() {
            return w;
        }

        public void fill(long step, float[] x0) {
        }

        public void fill(long step, float[] images, float[] labels) {
        }
    }

    private static long[] sorted(long[] a) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s;
    }

    @Test
    void theDdpmTrainersArraysAreThoseOfItsPlan() {
        for (Map<String, String> options : new Map[] {DdpmTrainerTest.OPTIONS,
                Map.of("width", "8", "levels", "3", "attn", "1", "groups", "4", "attention", "prism", "skip", "concat", "mults", "1,2,2")}) {
            UNet u = Models.build("unet", options, 1).unet();
            int d = u.config().divisor();
            for (int[] s : new int[][] {{3, 4, 5}, {5, 1, 1}}) {
                Images data = new Images(1, d * s[1], d * s[2]);
                DdpmTrainer t = new DdpmTrainer(u, data, new DdpmTrainer.Config(s[0], 1, NoiseSchedule.linear(10), SETTINGS));
                long[] real = Footprint.arrays(t.plan().launches());
                long[] found = DdpmTrainer.footprint(u, 1, data.h, data.w).arrays(s[0]);
                assertEquals(real.length, found.length, "one entry per array");
                // exact but for the loss's per-block partial sums, ceil(N·C·H·W / 256): one block at the probes
                long lossBlocks = Training.blocks(s[0] * data.h * data.w);
                assertEquals(Arrays.stream(real).sum() - lossBlocks + 1, Arrays.stream(found).sum(), options + " " + Arrays.toString(s));
            }
        }
    }

    @Test
    void theClassifierTrainersArraysAreThoseOfItsPlan() {
        Classifier c = Models.build("classifier", ClassifierTrainerTest.OPTIONS, 1).classifier();
        int d = c.config().divisor();
        for (int[] s : new int[][] {{3, 4, 5}, {7, 1, 2}}) {
            Images data = new Images(1, d * s[1], d * s[2]);
            ClassifierTrainer t = new ClassifierTrainer(c, data, new ClassifierTrainer.Config(s[0], SETTINGS));
            long[] real = Footprint.arrays(t.plan().launches());
            assertArrayEquals(sorted(real), sorted(ClassifierTrainer.footprint(c, 1, data.h, data.w).arrays(s[0])), Arrays.toString(s));
        }
    }

    @Test
    void aBatchBeyondTheHeapIsRefusedBeforeAnythingIsAllocated() {
        UNet u = Models.build("unet", DdpmTrainerTest.OPTIONS, 1).unet();
        int batch = 1000;
        while (DdpmTrainer.footprint(u, 1, 8, 8).bytes(batch) <= Heap.usable()) {
            batch *= 2;
        }
        int n = batch;
        var e = assertThrows(Heap.HeapException.class,
                () -> new DdpmTrainer(u, new Images(1, 8, 8), new DdpmTrainer.Config(n, 1, NoiseSchedule.linear(10), SETTINGS)));
        assertEquals("batch", e.argument());
        assertTrue(e.getMessage().startsWith("batch " + n + ": training on batches of " + n + " images of 1x8x8 needs "), e.getMessage());
        assertTrue(e.getMessage().endsWith(", heap is " + Heap.format(Heap.max()) + " (arrays may take 80 % of it); lower batch or raise -Xmx"),
                e.getMessage());
    }
}
