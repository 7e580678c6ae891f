package dev.prism.diffusion.eval;

import dev.prism.backend.JvmBackend;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.models.Models;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static dev.prism.testing.Arrays32.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClassifierFeaturesTest {
    @Test
    void aShortLastBatchGivesTheFeaturesOfFullBatches() {
        Classifier c = Models.build("classifier", Map.of("width", "4", "stages", "2", "hidden", "6", "groups", "2"), 9).classifier();
        int n = 7, len = 16 * 16;
        float[] images = Inputs.uniform(n * len, -1f, 1f, 4);
        ClassifierFeatures.Images src = (first, count, dst) -> System.arraycopy(images, first * len, dst, 0, count * len);
        ClassifierFeatures.Result one, three;
        try (JvmBackend b = JvmBackend.parallel(2);
             ClassifierFeatures byOne = new ClassifierFeatures(b, c, 1, 16, 16);
             ClassifierFeatures byThree = new ClassifierFeatures(b, c, 3, 16, 16)) {
            int[] reported = new int[1];
            one = byOne.extract(src, n, done -> reported[0] = done);
            assertEquals(n, reported[0], "the last progress report counts every image");
            three = byThree.extract(src, n, null);
        }
        assertEquals(6, one.dim());
        assertEquals(n * 6, three.features().length);
        // Batches of 3 (the last one padded) against one image at a time: per-image results, up to the
        // summation order of the vectorised matrix products.
        assertClose("features", one.features(), three.features(), 1e-5, 1e-6);
        assertClose("logits", one.logits(), three.logits(), 1e-5, 1e-6);
        FeatureStatistics s = three.statistics();
        assertEquals(n, s.count());
        assertEquals(6, s.dim());
    }

    @Test
    void badArgumentsAreNamed() {
        Classifier c = Models.build("classifier", Map.of("width", "4", "stages", "1", "hidden", "6", "groups", "2"), 9).classifier();
        try (JvmBackend b = JvmBackend.parallel(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> new ClassifierFeatures(b, c, 0, 8, 8));
            assertEquals("classifier features: argument 'batch' expected >= 1, found 0", e.getMessage());
            try (ClassifierFeatures f = new ClassifierFeatures(b, c, 2, 8, 8)) {
                e = assertThrows(IllegalArgumentException.class, () -> f.extract((first, count, dst) -> { }, 0, null));
                assertEquals("classifier features: argument 'count' expected >= 1, found 0", e.getMessage());
            }
        }
    }
}
