package dev.prism.testing;

import dev.prism.backend.Backend;
import dev.prism.backend.TornadoSettings;
import dev.prism.backend.TornadoSupport;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The TornadoVM backend for device tests, or a skip that says why it cannot run in this JVM. */
public final class Devices {
    private Devices() {
    }

    /** Opens TornadoVM with the default settings; skips the calling test class when it is not usable here. */
    public static Backend tornadoOrSkip() {
        String reason = TornadoSupport.unavailableReason();
        assumeTrue(reason == null, () -> "TornadoVM is not usable in this JVM: " + reason + " (run with -Ptornado)");
        return TornadoSupport.open(TornadoSettings.defaults());
    }
}
