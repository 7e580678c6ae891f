package dev.prism.backend;

import dev.prism.kernels.Parallel;

/**
 * One kernel per {@code java.lang.Math} method that {@link KernelScan#MATH} allows, each over inputs in
 * [-1, 1] ({@code p = |a| + 0.5} where the method needs a positive argument). {@code KernelScanTest}
 * checks that these kernels call exactly the allowed methods; {@code TornadoBackendTest} runs each on the
 * device against the JVM.
 */
public final class MathKernels {
    private MathKernels() {
    }

    /** {@code Math.abs(F)F}. */
    public static void absF(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = Math.abs(a);
        }
    }

    /** {@code Math.abs(D)D}. */
    public static void absD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.abs((double) a);
        }
    }

    /** {@code Math.min(FF)F}. */
    public static void minF(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = Math.min(a, b);
        }
    }

    /** {@code Math.min(DD)D}. */
    public static void minD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.min((double) a, (double) b);
        }
    }

    /** {@code Math.min(II)I}. */
    public static void minI(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.min((int) (a * 100), (int) (b * 100));
        }
    }

    /** {@code Math.min(JJ)J}. */
    public static void minJ(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.min((long) (a * 100), (long) (b * 100));
        }
    }

    /** {@code Math.max(FF)F}. */
    public static void maxF(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = Math.max(a, b);
        }
    }

    /** {@code Math.max(DD)D}. */
    public static void maxD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.max((double) a, (double) b);
        }
    }

    /** {@code Math.max(II)I}. */
    public static void maxI(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.max((int) (a * 100), (int) (b * 100));
        }
    }

    /** {@code Math.max(JJ)J}. */
    public static void maxJ(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.max((long) (a * 100), (long) (b * 100));
        }
    }

    /** {@code Math.sqrt(D)D}. */
    public static void sqrtD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            double p = Math.abs(a) + 0.5;
            y[i] = (float) Math.sqrt(p);
        }
    }

    /** {@code Math.exp(D)D}. */
    public static void expD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.exp(a);
        }
    }

    /** {@code Math.log(D)D}. */
    public static void logD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            double p = Math.abs(a) + 0.5;
            y[i] = (float) Math.log(p);
        }
    }

    /** {@code Math.pow(DD)D}. */
    public static void powD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            double p = Math.abs(a) + 0.5;
            y[i] = (float) Math.pow(p, b);
        }
    }

    /** {@code Math.sin(D)D}. */
    public static void sinD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.sin(a);
        }
    }

    /** {@code Math.cos(D)D}. */
    public static void cosD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.cos(a);
        }
    }

    /** {@code Math.tan(D)D}. */
    public static void tanD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.tan(a);
        }
    }

    /** {@code Math.asin(D)D}. */
    public static void asinD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.asin(a);
        }
    }

    /** {@code Math.acos(D)D}. */
    public static void acosD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.acos(a);
        }
    }

    /** {@code Math.atan(D)D}. */
    public static void atanD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.atan(a);
        }
    }

    /** {@code Math.atan2(DD)D}. */
    public static void atan2D(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.atan2(a, b);
        }
    }

    /** {@code Math.tanh(D)D}. */
    public static void tanhD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.tanh(a);
        }
    }

    /** {@code Math.signum(F)F}. */
    public static void signumF(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = Math.signum(a);
        }
    }

    /** {@code Math.signum(D)D}. */
    public static void signumD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.signum((double) a);
        }
    }

    /** {@code Math.toRadians(D)D}. */
    public static void toRadiansD(float[] x, float[] z, float[] y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float a = x[i];
            float b = z[i];
            y[i] = (float) Math.toRadians(a);
        }
    }
}
