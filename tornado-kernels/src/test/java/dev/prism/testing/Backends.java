package dev.prism.testing;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;

/** The backends kernel tests run on: the sequential oracle and the parallel JVM backend. */
public final class Backends {
    /** The reference: the kernel methods' own loops. */
    public static final JvmBackend SEQ = JvmBackend.sequential();
    /** Three threads, so that chunk boundaries fall inside rows on these 2-core machines too. */
    public static final JvmBackend PAR = JvmBackend.parallel(3);
    /**
     * {@link #PAR} without the hand-vectorised variants: the plain per-lane helpers, bit-identical to
     * {@link #SEQ} (the variants are tested within the tolerance by their own tests).
     */
    public static final JvmBackend PLAIN = JvmBackend.parallel(3, false);

    private Backends() {
    }

    /** Runs {@code launch} on the sequential oracle. */
    public static void seq(Launch launch) {
        SEQ.run(launch);
    }

    /** Runs {@code launch} on the parallel backend through its plain per-lane helper. */
    public static void plain(Launch launch) {
        PLAIN.run(launch);
    }

    /** Runs {@code launch} on the parallel backend. */
    public static void par(Launch launch) {
        PAR.run(launch);
    }
}
