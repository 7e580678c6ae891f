package dev.prism.testing;

import dev.prism.kernels.VectorWidth;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The vector width a test run pins. The poms rerun the vector variants' tests and the determinism tests in
 * surefire executions that start the JVM with {@code -Dprism.vector.bits=W} and tell the tests which
 * width they meant with {@value #PINNED} = W; a test that proves something about a width calls
 * {@link #assertPinned()} first, so that an execution whose JVM did not get the width (a misspelt
 * property, a lost argLine) fails instead of testing the machine's width three times.
 */
public final class VectorWidths {
    /** The system property a pinned surefire execution sets to the width it pins. */
    public static final String PINNED = "prism.test.vector.bits";

    private VectorWidths() {
    }

    /**
     * Asserts that the variants run at the pinned width: {@value #PINNED} in a pinned execution, else
     * {@value VectorWidth#PROPERTY} when set, else the machine's widest. Returns the width.
     */
    public static int assertPinned() {
        String pinned = System.getProperty(PINNED);
        String property = System.getProperty(VectorWidth.PROPERTY);
        int expected = pinned != null ? Integer.parseInt(pinned.strip())
                : property != null ? VectorWidth.parse(property, VectorWidth.PROPERTY) : VectorWidth.preferredBits();
        String where = pinned != null ? "the surefire execution pinned " + PINNED + "=" + pinned
                : property != null ? "-D" + VectorWidth.PROPERTY + "=" + property : "no width was pinned, so the machine's widest";
        assertEquals(expected, VectorWidth.bits(), "vector width of this test JVM (" + where + ")");
        return expected;
    }
}
