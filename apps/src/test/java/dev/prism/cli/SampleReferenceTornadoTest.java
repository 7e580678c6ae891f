package dev.prism.cli;

import dev.prism.backend.TornadoSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link SampleReferenceTest}'s bound on TornadoVM's default device: the same seed and weights give pixels
 * within {@link SampleReferenceTest#LEVELS} grey levels of the {@code jvm-seq} reference, and the same
 * pixels on a second run. Needs a TornadoVM SDK: {@code TORNADOVM_HOME=... ./mvnw -Ptornado verify}.
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class SampleReferenceTornadoTest {

    @Test
    void theDeviceStaysWithinTheBoundOfTheReference(@TempDir Path dir) throws Exception {
        String reason = TornadoSupport.unavailableReason();
        assumeTrue(reason == null, () -> "TornadoVM is not usable in this JVM: " + reason + " (run with -Ptornado)");
        int[] device = SampleReferenceTest.sample(dir, "--backend", "tornado");
        SampleReferenceTest.assertWithinTheBound("tornado", device);
        assertArrayEquals(device, SampleReferenceTest.sample(dir, "--backend", "tornado"), "a second run on the device");
    }
}
