package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DVDP training on a tiny UNet: the batch is split by the stages' steps, each stage sees its resized images, the loss falls. */
class DvdpTrainerTest {
    static final NoiseSchedule SCHEDULE = NoiseSchedule.linear(100);
    /** 8 → 4 → 2 with 40, 30 and 30 steps. */
    static final Dvdp PROCESS = new Dvdp(SCHEDULE, 1, new int[] {8, 4, 2}, new int[] {39, 69});

    static DdpmTrainer.Config config(int batch) {
        return new DdpmTrainer.Config(batch, 42, SCHEDULE,
                new TrainingStep.Settings(AdamW.of(2e-3, 0.0), new LrSchedule("cosine", 3, 40, 0.1), 1.0, 0.99));
    }

    @Test
    void theBatchIsSplitInProportionToTheStagesStepsWithAtLeastOneImageEach() {
        assertArrayEquals(new int[] {4, 3, 3}, DvdpTrainer.split(PROCESS, 10));
        assertArrayEquals(new int[] {1, 1, 1}, DvdpTrainer.split(PROCESS, 3));
        Dvdp fm = new Dvdp(NoiseSchedule.linear(1000), 1, new int[] {32, 16, 8}, new int[] {711, 772});
        // shares 45.57, 3.90 and 14.53 of 64: floors 45, 3, 14, then the largest remainders
        assertArrayEquals(new int[] {46, 4, 14}, DvdpTrainer.split(fm, 64));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DvdpTrainer.split(PROCESS, 2));
        assertTrue(e.getMessage().contains("'batch'") && e.getMessage().contains("found 2"), e.getMessage());
    }

    @Test
    void eachStageTrainsOnItsResizedImagesAtItsOwnStepsAndTheLossFalls() {
        try (JvmBackend b = JvmBackend.parallel(2);
             DvdpTrainer tr = new DvdpTrainer(b, DdpmTrainerTest.model(), new DdpmTrainerTest.Blobs(), PROCESS, config(6))) {
            assertArrayEquals(new int[] {2, 2, 2}, tr.counts());
            double first = 0, last = 0;
            for (int s = 1; s <= 40; s++) {
                float loss = tr.step(s);
                assertTrue(Float.isFinite(loss), "loss at step " + s);
                first += s <= 5 ? loss : 0;
                last += s > 35 ? loss : 0;
                for (int j = 0; j < 3; j++) {
                    for (float t : tr.timesteps(j)) {
                        assertEquals(j, PROCESS.stageAt((int) t), "a timestep of stage " + j + " at step " + s);
                    }
                }
            }
            assertTrue(last < 0.9 * first, "mean loss of the last 5 steps " + last / 5 + " vs the first 5 " + first / 5);
            float[] batch = new float[6 * 64];
            new DdpmTrainerTest.Blobs().fill(40, batch);
            float[] stage2 = Dvdp.resize(java.util.Arrays.copyOfRange(batch, 4 * 64, 6 * 64), 2, 1, 8, 2);
            assertArrayEquals(stage2, tr.cleanImages(2), 1e-6f);
            assertArrayEquals(java.util.Arrays.copyOfRange(batch, 0, 2 * 64), tr.cleanImages(0));
        }
    }

    @Test
    void imagesOfAnotherSideThanTheFirstStageAreRefused() {
        Dvdp other = new Dvdp(SCHEDULE, 1, new int[] {16, 8}, new int[] {50});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DvdpTrainer(JvmBackend.sequential(), DdpmTrainerTest.model(), new DdpmTrainerTest.Blobs(), other, config(4)));
        assertTrue(e.getMessage().contains("1x8x8 expected 1x16x16"), e.getMessage());
    }
}
