package dev.prism.kernels;

/**
 * Argument checks for the kernel launch factories. Every message names the kernel and the argument
 * and gives the expected and the found value, and every check runs before any loop does.
 */
public final class Check {
    private final String kernel;

    private Check(String kernel) {
        this.kernel = kernel;
    }

    /** Checks for the launch factory of {@code kernel}; the name prefixes every message. */
    public static Check of(String kernel) {
        return new Check(kernel);
    }

    public IllegalArgumentException fail(String argument, String expected, Object found) {
        return new IllegalArgumentException(kernel + ": argument '" + argument + "' expected " + expected + ", found " + found);
    }

    public Check positive(String name, int value) {
        if (value <= 0) {
            throw fail(name, "> 0", value);
        }
        return this;
    }

    public Check nonNegative(String name, int value) {
        if (value < 0) {
            throw fail(name, ">= 0", value);
        }
        return this;
    }

    public Check odd(String name, int value) {
        positive(name, value);
        if (value % 2 == 0) {
            throw fail(name, "an odd size", value);
        }
        return this;
    }

    public Check even(String name, int value) {
        positive(name, value);
        if (value % 2 != 0) {
            throw fail(name, "an even size", value);
        }
        return this;
    }

    public Check range(String name, int value, int min, int max) {
        if (value < min || value > max) {
            throw fail(name, "in [" + min + ", " + max + "]", value);
        }
        return this;
    }

    public Check finite(String name, float value) {
        if (!Float.isFinite(value)) {
            throw fail(name, "a finite number", value);
        }
        return this;
    }

    public Check that(boolean condition, String name, String expected, Object found) {
        if (!condition) {
            throw fail(name, expected, found);
        }
        return this;
    }

    /**
     * The product of {@code dims} as an int, or a failure naming {@code name}, the dimensions and their
     * product when it exceeds the largest Java array (the product is computed exactly, never wrapped).
     */
    public int size(String name, int... dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw fail(name, "dimensions >= 0", java.util.Arrays.toString(dims));
            }
        }
        for (int d : dims) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                java.math.BigInteger p = java.math.BigInteger.ONE;
                StringBuilder b = new StringBuilder();
                for (int e : dims) {
                    p = p.multiply(java.math.BigInteger.valueOf(e));
                    b.append(b.isEmpty() ? "" : "·").append(e);
                }
                throw fail(name, "at most " + (Integer.MAX_VALUE - 8) + " elements (the largest Java array)", b + " = " + p);
            }
        }
        return (int) n;
    }

    /** Fails unless {@code array} is non-null and holds exactly {@code expected} elements. */
    public Check length(String name, float[] array, long expected) {
        if (array == null) {
            throw fail(name, "an array of length " + expected, "null");
        }
        if (array.length != expected) {
            throw fail(name, "length " + expected, array.length);
        }
        return this;
    }

    /** Fails unless {@code array} holds at least {@code expected} elements. */
    public Check atLeast(String name, float[] array, long expected) {
        if (array == null) {
            throw fail(name, "an array of length >= " + expected, "null");
        }
        if (array.length < expected) {
            throw fail(name, "length >= " + expected, array.length);
        }
        return this;
    }

    /** Fails if two arrays that must not alias are the same object. */
    public Check distinct(String a, float[] x, String b, float[] y) {
        if (x == y) {
            throw fail(b, "an array distinct from '" + a + "' (the kernel reads one while writing the other)", "the same array");
        }
        return this;
    }
}
