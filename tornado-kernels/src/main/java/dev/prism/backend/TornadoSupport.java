package dev.prism.backend;

import dev.prism.kernels.ArgumentException;

import java.lang.reflect.InvocationTargetException;
import java.util.List;

/**
 * The way into the TornadoVM backend from code that compiles without TornadoVM. The backend class
 * exists only in builds made with the {@code tornado} Maven profile and works only in a JVM started
 * with TornadoVM's argfile and Prism's annotation registered; {@link #unavailableReason()} says which
 * of these is missing.
 */
public final class TornadoSupport {
    /** The system property that makes TornadoVM honour Prism's {@code @Parallel}. */
    public static final String ANNOTATION_PROPERTY = "tornado.load.annotation.parallel";
    /** Its value: Prism's own annotation. */
    public static final String ANNOTATION = "dev.prism.kernels.Parallel";
    static final String BACKEND_CLASS = "dev.prism.backend.tornado.TornadoVmBackend";

    private TornadoSupport() {
    }

    /** Null when the TornadoVM backend can be opened in this JVM, else one line saying why not. */
    public static String unavailableReason() {
        String home = System.getenv("TORNADOVM_HOME");
        if (home == null || home.isBlank()) {
            return "TORNADOVM_HOME is not set, so the launcher started a plain JVM";
        }
        if (System.getProperty("tornado.load.api.implementation") == null) {
            return "TORNADOVM_HOME=" + home + ", but this JVM was not started with TornadoVM's argfile"
                    + " (use the prism launcher, or java @$TORNADOVM_HOME/tornado-argfile ...)";
        }
        if (!ANNOTATION.equals(System.getProperty(ANNOTATION_PROPERTY))) {
            // Without it TornadoVM ignores @Parallel and runs each kernel as a single work-item, silently.
            return "-D" + ANNOTATION_PROPERTY + "=" + ANNOTATION + " is missing or comes before the argfile (found "
                    + System.getProperty(ANNOTATION_PROPERTY) + "); TornadoVM would run every kernel on one work-item";
        }
        try {
            Class.forName(BACKEND_CLASS);
        } catch (ClassNotFoundException e) {
            return "this build of Prism has no TornadoVM backend: build it with the 'tornado' Maven profile"
                    + " (the prism launcher does when TORNADOVM_HOME is set)";
        }
        return null;
    }

    /**
     * Opens the TornadoVM backend.
     *
     * @throws ArgumentException for the argument {@code backend}, with {@link #unavailableReason()}, when it
     *                           cannot run here
     */
    public static Backend open(TornadoSettings settings) {
        String reason = unavailableReason();
        if (reason != null) {
            throw new ArgumentException("backend", "tornado: " + reason);
        }
        try {
            return (Backend) Class.forName(BACKEND_CLASS).getMethod("open", TornadoSettings.class).invoke(null, settings);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the TornadoVM backend class is broken: " + e, e);
        }
    }

    /** The TornadoVM devices, or an empty list with the reason available from {@link #unavailableReason()}. */
    @SuppressWarnings("unchecked")
    public static List<DeviceInfo> devices() {
        if (unavailableReason() != null) {
            return List.of();
        }
        try {
            return (List<DeviceInfo>) Class.forName(BACKEND_CLASS).getMethod("devices").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("listing TornadoVM devices failed: " + e.getCause(), e);
        }
    }
}
