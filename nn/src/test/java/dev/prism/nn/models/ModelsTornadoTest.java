package dev.prism.nn.models;

import dev.prism.backend.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;


/**
 * Every model, forward and backward, as TornadoVM task graphs against PyTorch within 1e-4: whole models
 * run as one plan, which TornadoVM's 1024-node limit splits into a chain of graphs.
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class ModelsTornadoTest {
    private static Backend tornado;

    @BeforeAll
    static void open() {
        tornado = dev.prism.testing.Devices.tornadoOrSkip();
    }

    @AfterAll
    static void close() {
        if (tornado != null) {
            tornado.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"unet-standard", "unet-deepprism", "unet-separable", "unet-cosconv", "unet-chebconv",
            "unet-prismattn", "wg-unet", "wg-unet-gc", "deepprism-vae", "unet-plain", "unet-deepprism-mults", "wg-unet-mults"})
    void forwardAndBackwardMatchPyTorchOnTheDevice(String name) throws Exception {
        ModelsTest.check(name, tornado);
    }
}
