package dev.prism.kernels;

/**
 * Whether this JVM can run the hand-vectorised variants: they use the incubating Vector API, whose
 * module {@code jdk.incubator.vector} is present only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}. Without it the JVM backend runs the plain per-lane
 * helpers. This class never touches the module itself, so asking is always safe.
 */
public final class VectorSupport {
    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    private VectorSupport() {
    }

    /** True when {@code jdk.incubator.vector} is in the boot layer. */
    public static boolean available() {
        return AVAILABLE;
    }
}
