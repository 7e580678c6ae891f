package dev.prism.backend;

import dev.prism.kernels.ActivationKernels;
import dev.prism.kernels.Parallel;

/**
 * Kernels with one construct each that TornadoVM cannot compile, for {@link KernelScanTest} and the
 * TornadoVM failure tests. The offending line carries a {@code refused:} comment that the tests look up,
 * so that the line the scan reports is checked against the source.
 */
public final class RefusedKernels {
    private static int counter;
    private static final float[] TABLE = {1f, 2f};
    /** Not a compile-time constant, so it is read with getstatic: a final primitive, which is allowed. */
    private static final float SCALE = (float) Math.sqrt(2.0);

    private RefusedKernels() {
    }

    public static void random(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i] + (float) Math.random(); // refused: random
        }
    }

    public static void selfRecursive(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i];
        }
        if (n > 1) {
            selfRecursive(x, y, n / 2); // refused: self
        }
    }

    public static void throughHelpers(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i] * ping(i % 7);
        }
    }

    static float ping(int k) {
        return k == 0 ? 1f : pong(k - 1);
    }

    static float pong(int k) {
        return k == 0 ? 0f : ping(k - 1); // refused: pong
    }

    public static void allocates(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float[] t = new float[2]; // refused: allocation
            t[0] = x[i];
            y[i] = t[0];
        }
    }

    public static void throwsOnBadSize(float[] x, float[] y, int n) {
        if (n > x.length) {
            throw new IllegalStateException(); // refused: throw
        }
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i];
        }
    }

    public static synchronized void synchronizedKernel(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) { // refused: synchronized
            y[i] = x[i];
        }
    }

    public static void monitor(float[] x, float[] y, int n) {
        synchronized (x) { // refused: monitor
            for (@Parallel int i = 0; i < n; i++) {
                y[i] = x[i];
            }
        }
    }

    public static void staticState(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i] * TABLE[i % 2]; // refused: table
        }
        counter++; // refused: counter
    }

    public static void outside(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i] + System.nanoTime(); // refused: outside
        }
    }

    public static void virtual(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = Float.valueOf(x[i]).floatValue(); // refused: virtual
        }
    }

    public static void lambda(float[] x, float[] y, int n) {
        Runnable r = () -> y[0] = x[0]; // refused: lambda
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = x[i];
        }
    }

    /** Everything a kernel may do: loops, its own helpers, another kernel class's helper, Math, a final constant. */
    public static void allowed(float[] x, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y[i] = scaled(x[i]) + ActivationKernels.siluOf(x[i]) + (float) Math.exp(Math.min(x[i], 1f));
        }
    }

    static float scaled(float v) {
        return SCALE * v;
    }

    /** Passes the scan, but TornadoVM cannot parallelise a loop whose stride is known only at run time. */
    public static void strided(float[] x, float[] y, int n, int stride) {
        for (@Parallel int i = 0; i < n; i += stride) {
            y[i] = 2f * x[i];
        }
    }
}
