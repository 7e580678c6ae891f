package dev.prism.kernels;

/** Kernels for {@link KernelTest}: one per grid rank, a variant, and helpers whose signatures do not fit. */
public final class DescribedKernels {
    private DescribedKernels() {
    }

    /** {@code y[i] = 2·x[i] + s}. */
    public static void flat(float[] x, float[] y, int n, float s) {
        for (@Parallel int i = 0; i < n; i++) {
            flatLane(x, y, n, s, i);
        }
    }

    public static void flatLane(float[] x, float[] y, int n, float s, int i) {
        y[i] = 2 * x[i] + s;
    }

    /** The variant of {@link #flatLane}: a range at once. */
    static void flatRange(float[] x, float[] y, int n, float s, int from, int to) {
        for (int i = from; i < to; i++) {
            y[i] = 2 * x[i] + s;
        }
    }

    /** {@code y[p, i] = x[p, i] + p·1000 + i} over {@code [a, b]}, one lane per element. */
    public static void grid2(float[] x, float[] y, int a, int b) {
        for (@Parallel int p = 0; p < a; p++) {
            for (@Parallel int i = 0; i < b; i++) {
                grid2Lane(x, y, a, b, p, i);
            }
        }
    }

    public static void grid2Lane(float[] x, float[] y, int a, int b, int p, int i) {
        y[p * b + i] = x[p * b + i] + p * 1000 + i;
    }

    /** {@code y[p, q, i] = p·10000 + q·100 + i} over {@code [a, b, c]}. */
    public static void grid3(float[] y, int a, int b, int c) {
        for (@Parallel int p = 0; p < a; p++) {
            for (@Parallel int q = 0; q < b; q++) {
                for (@Parallel int i = 0; i < c; i++) {
                    grid3Lane(y, a, b, c, p, q, i);
                }
            }
        }
    }

    public static void grid3Lane(float[] y, int a, int b, int c, int p, int q, int i) {
        y[(p * b + q) * c + i] = p * 10000 + q * 100 + i;
    }

    /** A helper that has lost the kernel's {@code n}: the drift {@link Kernel#of} must catch. */
    public static void flatDrifted(float[] x, float[] y, float s, int i) {
        y[i] = 2 * x[i] + s;
    }
}
