package dev.prism.cli;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classifier Prism ships for its quality metric, on the real Fashion-MNIST test set (when installed). */
class BundledClassifierTest {
    @Test
    void theBundledClassifierGetsAtLeastNinetyPercentOfTheTestSetRight() throws Exception {
        Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIRECTORY),
                "Fashion-MNIST is not installed at " + FashionMnist.DEFAULT_DIRECTORY + " (scripts/setup-machine.sh data)");
        EvalCommand.Judge judge = EvalCommand.loadClassifier(null);
        assertEquals("32", judge.imageSize());
        FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
        double accuracy;
        try (JvmBackend b = JvmBackend.parallel(2); ClassifierFeatures f = new ClassifierFeatures(b, judge.model(), 200, 32, 32)) {
            accuracy = ClassifierFeatures.accuracy(f.extract(ClassifierFeatures.of(test), test.size(), null), test);
        }
        assertTrue(accuracy >= 0.90, "test accuracy " + accuracy);
        // The accuracy the training run recorded in the weights (and docs/TRAINING.md quotes) is this one; one image is 1e-4.
        assertEquals(Double.parseDouble(judge.metadata().get("test_accuracy")), accuracy, 1.5e-4);
    }
}
