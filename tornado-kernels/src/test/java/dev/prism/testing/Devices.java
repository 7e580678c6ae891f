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

    /**
     * Runs {@code work} with {@code -Dprism.tornado.profile=true} and standard error captured, and returns what
     * the TornadoVM backend printed: one line per plan built, naming its work-groups and device kernels.
     */
    public static String planBuildLog(Runnable work) {
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        java.io.PrintStream err = System.err;
        String profile = System.getProperty("prism.tornado.profile");
        System.setProperty("prism.tornado.profile", "true");
        System.setErr(new java.io.PrintStream(log, true));
        try {
            work.run();
        } finally {
            System.setErr(err);
            if (profile == null) {
                System.clearProperty("prism.tornado.profile");
            } else {
                System.setProperty("prism.tornado.profile", profile);
            }
        }
        return log.toString();
    }
}
