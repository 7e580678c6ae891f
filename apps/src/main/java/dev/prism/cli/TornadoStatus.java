package dev.prism.cli;

/**
 * Whether TornadoVM can be used in this JVM, and why not when it cannot.
 *
 * @param available true when this JVM runs under TornadoVM with Prism's annotation registered
 * @param reason    one line for {@code prism devices} and for errors
 */
public record TornadoStatus(boolean available, String reason) {
    static final String ANNOTATION_PROPERTY = "tornado.load.annotation.parallel";

    public static TornadoStatus probe() {
        String home = System.getenv("TORNADOVM_HOME");
        if (home == null || home.isBlank()) {
            return new TornadoStatus(false, "TORNADOVM_HOME is not set, so the launcher started a plain JVM");
        }
        if (System.getProperty(ANNOTATION_PROPERTY) == null) {
            return new TornadoStatus(false, "TORNADOVM_HOME=" + home + " but this JVM was not started by the prism launcher"
                    + " with TornadoVM's argfile (-D" + ANNOTATION_PROPERTY + " is missing)");
        }
        return new TornadoStatus(false, "this build of Prism has no TornadoVM backend: build it with the 'tornado' Maven profile");
    }
}
