package dev.prism.diffusion.train;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Spectrum-aware distillation (Spectral Diffusion §5.2) on tiny UNets. */
class DistillTrainerTest {
    private static DistillTrainer.Config config(double alpha) {
        return config(alpha, null);
    }

    /** λ_spatial = λ_freq = 1; {@code levels} null: every level both networks have. */
    private static DistillTrainer.Config config(double alpha, int[] levels) {
        return new DistillTrainer.Config(4, 42, NoiseSchedule.linear(100),
                new TrainingStep.Settings(AdamW.of(2e-3, 0.0), new LrSchedule("constant", 0, 10, 0.1), 1.0, 0.99), 1.0, 1.0, alpha, levels);
    }

    private static UNet teacher() {
        return Models.build("unet", DdpmTrainerTest.OPTIONS, 7).unet();
    }

    private static UNet student() {
        return Models.build("wg-unet", Map.of("width", "4", "levels", "2", "attn", "1", "groups", "2"), 8).unet();
    }

    /**
     * With α = 0 every frequency weighs 1, and by Parseval (Σ|X|² = HW·Σ|x|²) the frequency term is the spatial term:
     * this ties the DFT, the weights and the normalisation of L_freq together.
     */
    @Test
    void withUniformWeightsTheFrequencyTermEqualsTheSpatialTerm() {
        try (JvmBackend b = JvmBackend.sequential();
             DistillTrainer t = new DistillTrainer(b, student(), teacher(), new DdpmTrainerTest.Blobs(), config(0))) {
            assertEquals(DistillTrainer.TERMS_WITH_FEATURES, t.termNames());
            for (long s = 1; s <= 2; s++) {
                float loss = t.step(s);
                float ddpm = t.term(0), spatial = t.term(1), freq = t.term(2), feature = t.term(3);
                assertTrue(spatial > 1e-4, "the student differs from the teacher: " + spatial);
                assertTrue(feature > 1e-4, "the student's features differ from the teacher's: " + feature);
                assertEquals(spatial, freq, 1e-4 * spatial, "step " + s + ": spatial and frequency terms");
                assertEquals(ddpm + spatial + feature + freq, loss, 1e-5 * loss, "step " + s + ": the loss is the terms' sum at λ = 1");
            }
        }
    }

    /**
     * A student equal to its teacher (same architecture, same weights) with the identity alignment start: the feature term,
     * like the output and frequency terms, is exactly 0 at the first step, and the loss is the DDPM loss alone.
     */
    @Test
    void aStudentEqualToItsTeacherHasNoFeatureTermAtTheStart() {
        UNet teacher = student();
        try (JvmBackend b = JvmBackend.sequential();
             DistillTrainer t = new DistillTrainer(b, student(), teacher, new DdpmTrainerTest.Blobs(), config(1))) {
            assertArrayEquals(new int[] {0, 1}, t.alignment().levels());
            float loss = t.step(1);
            assertEquals(0f, t.term(1), "spatial");
            assertEquals(0f, t.term(2), "freq");
            assertEquals(0f, t.term(3), "feature");
            assertEquals(t.term(0), loss, "the loss is the DDPM loss");
            t.step(2);
            assertTrue(t.term(3) > 0, "after a step the student's features have moved: " + t.term(3));
        }
    }

    /** With the feature levels "none" the spatial term matches the outputs only, and no alignment is trained. */
    @Test
    void withoutFeatureLevelsOnlyTheOutputsAreMatched() {
        try (JvmBackend b = JvmBackend.sequential();
             DistillTrainer t = new DistillTrainer(b, student(), teacher(), new DdpmTrainerTest.Blobs(), config(1, new int[0]))) {
            assertEquals(DistillTrainer.TERMS, t.termNames());
            assertEquals(0, t.alignment().parameters().size());
            assertEquals(student().parameters().size(), t.training().states().size());
            float loss = t.step(1);
            assertEquals(t.term(0) + t.term(1) + t.term(2), loss, 1e-5 * loss);
        }
    }

    /** Only the student's EMA reaches the exported model; the alignment's weights stay in the run's state. */
    @Test
    void theExportedStudentHoldsNoAlignmentWeights() {
        try (JvmBackend b = JvmBackend.sequential();
             DistillTrainer t = new DistillTrainer(b, student(), teacher(), new DdpmTrainerTest.Blobs(), config(1, new int[] {1}))) {
            t.step(1);
            assertEquals(student().parameters().size() + 2, t.training().states().size());
            assertTrue(t.training().states().keySet().stream().anyMatch(p -> p.name().equals("feature_align.1.weight")));
            UNet export = student();
            t.copyEmaInto(export);
            assertTrue(export.parameters().stream().noneMatch(p -> p.name().startsWith(FeatureAlignment.PREFIX)), export.expectedShapes().keySet().toString());
        }
    }

    /** α = 1: the weight falls with the clean spectrum's magnitude, and averages 1 over each plane. */
    @Test
    void weakFrequenciesWeighMoreAndEachPlaneAveragesOne() {
        int planes = 3, area = 20;
        SplittableRandom r = new SplittableRandom(3);
        float[] x0 = new float[2 * planes * area], teacher = new float[x0.length];
        for (int i = 0; i < x0.length; i++) {
            x0[i] = (float) (r.nextGaussian() * (1 + i % 7));
            teacher[i] = (float) r.nextGaussian();
        }
        float[] sqrtW = new float[x0.length], weighted = new float[x0.length];
        DistillTrainer.weigh(x0, teacher, planes, area, 1.0, sqrtW, weighted);
        for (int p = 0; p < planes; p++) {
            double mean = 0;
            for (int i = 0; i < area; i++) {
                int e = 2 * (p * area + i);
                assertEquals(sqrtW[e], sqrtW[e + 1], 0f, "real and imaginary slots share a weight");
                assertEquals(teacher[e] * sqrtW[e], weighted[e], 1e-6f * Math.abs(weighted[e]));
                mean += sqrtW[e] * sqrtW[e] * area / 2.0;
                for (int j = 0; j < area; j++) {
                    int f = 2 * (p * area + j);
                    double mi = Math.hypot(x0[e], x0[e + 1]), mj = Math.hypot(x0[f], x0[f + 1]);
                    if (mi < mj) {
                        assertTrue(sqrtW[e] > sqrtW[f], "plane " + p + ": |X0| " + mi + " < " + mj + " but weight " + sqrtW[e] + " <= " + sqrtW[f]);
                    }
                }
            }
            assertEquals(1.0, mean / area, 1e-6, "plane " + p + ": mean weight");
        }
    }
}
