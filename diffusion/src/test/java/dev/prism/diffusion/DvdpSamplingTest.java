package dev.prism.diffusion;

import dev.prism.backend.JvmBackend;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The DVDP reverse process: its steps per stage, their coefficients, and a run of a tiny UNet. */
class DvdpSamplingTest {
    static final Dvdp FMNIST = new Dvdp(NoiseSchedule.linear(1000), 1, new int[] {32, 16, 8}, new int[] {711, 772});

    @Test
    void ddimRunsItsOwnStepsPlusEachSwitchStepWithItsCoefficients() {
        Ddim ddim = new Ddim(FMNIST.schedule(), 50, 0.0, true, Prediction.EPSILON);
        List<DvdpSampling.Segment> segs = DvdpSampling.segments(FMNIST, ddim);
        assertEquals(List.of(2, 1, 0), segs.stream().map(DvdpSampling.Segment::stage).toList());
        assertArrayEquals(new int[] {980, 960, 940, 920, 900, 880, 860, 840, 820, 800, 780}, segs.get(0).steps().timesteps());
        assertEquals(772, segs.get(0).steps().end());
        assertArrayEquals(new int[] {772, 760, 740, 720}, segs.get(1).steps().timesteps());
        assertEquals(711, segs.get(1).steps().end());
        assertEquals(711, segs.get(2).steps().timestep(0));
        assertEquals(700, segs.get(2).steps().timestep(1));
        assertEquals(37, segs.get(2).steps().steps());
        assertEquals(-1, segs.get(2).steps().end());
        // a pair of the sub-sequence keeps DDIM's coefficients (clipping only in the full-size stage) ...
        UpdateCoefficients own = ddim.update(0), got = segs.get(0).steps().update(0);
        assertEquals(own.cx0(), got.cx0());
        assertEquals(own.ce(), got.ce());
        assertEquals(own.px(), got.px());
        assertFalse(got.clip());
        assertEquals(ddim.update(49), segs.get(2).steps().update(36));
        // ... and a split pair takes eq. (12) from t to the switch step
        UpdateCoefficients split = segs.get(0).steps().update(10);
        assertEquals(Math.sqrt(FMNIST.schedule().alphaBar(772)), split.cx0(), 1e-15);
        assertEquals(Math.sqrt(1 - FMNIST.schedule().alphaBar(772)), split.ce(), 1e-15);
    }

    @Test
    void ddpmVisitsEveryStepInTheDimensionOfItsStage() {
        Dvdp p = DvdpTest.PROCESS;
        Ddpm ddpm = new Ddpm(p.schedule(), true, Prediction.EPSILON);
        List<DvdpSampling.Segment> segs = DvdpSampling.segments(p, ddpm);
        assertEquals(3, segs.size());
        int i = 0;
        for (DvdpSampling.Segment s : segs) {
            for (int k = 0; k < s.steps().steps(); k++, i++) {
                assertEquals(ddpm.timestep(i), s.steps().timestep(k));
                assertEquals(s.stage(), p.stageAt(s.steps().timestep(k)));
                UpdateCoefficients u = ddpm.update(i);
                assertEquals(s.stage() == 0 ? u : new UpdateCoefficients(u.px(), u.pe(), false, u.cx0(), u.cx(), u.ce(), u.sigma()),
                        s.steps().update(k));
            }
        }
        assertEquals(60, i);
        assertThrows(IllegalArgumentException.class, () -> DvdpSampling.segments(p, new Ddpm(NoiseSchedule.linear(61))));
    }

    @Test
    void aRunSamplesEachStageAtItsSideAndAnImageDoesNotDependOnItsBatch() {
        UNet unet = Models.build("unet", Map.of("width", "8", "levels", "2", "attn", "1", "groups", "4"), 7).unet();
        Ddim ddim = new Ddim(DvdpTest.PROCESS.schedule(), 10, 0.5, true, Prediction.EPSILON);
        float[] three, one;
        double flops;
        try (JvmBackend b = JvmBackend.sequential(); DvdpSampling s = new DvdpSampling(b, unet, DvdpTest.PROCESS, 3)) {
            for (int j = 0; j < 3; j++) {
                assertEquals(DvdpTest.PROCESS.stages()[j], s.loop(j).model().height());
            }
            three = s.sample(ddim, 9, SamplingProgress.NONE);
            flops = s.flopsPerImage(ddim);
            assertEquals(12, s.evaluations(ddim));
            assertTrue(flops < 12.0 * s.loop(0).plan().flops() / 3, "flops per image " + flops);
            assertTrue(flops > 4.0 * s.loop(0).plan().flops() / 3, "flops per image " + flops);
        }
        try (JvmBackend b = JvmBackend.sequential(); DvdpSampling s = new DvdpSampling(b, unet, DvdpTest.PROCESS, 1)) {
            SplittableRandom root = new SplittableRandom(9);
            one = s.sample(ddim, root, SamplingProgress.NONE);
            float[] second = s.sample(ddim, root, SamplingProgress.NONE);
            assertArrayEquals(Arrays.copyOfRange(three, 64, 128), second);
        }
        assertEquals(3 * 64, three.length);
        assertArrayEquals(Arrays.copyOfRange(three, 0, 64), one);
        for (float v : three) {
            assertTrue(Float.isFinite(v));
        }
    }

    @Test
    void aStageThatTheUNetCannotHalveIsRefusedByName() {
        UNet unet = Models.build("unet", Map.of("width", "8", "levels", "3", "attn", "1", "groups", "4"), 7).unet();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DvdpSampling.checkFits(unet, DvdpTest.PROCESS));
        assertTrue(e.getMessage().contains("'stages'") && e.getMessage().contains("divisible by 4") && e.getMessage().contains("8,4,2"),
                e.getMessage());
    }
}
