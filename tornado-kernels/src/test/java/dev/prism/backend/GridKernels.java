package dev.prism.backend;

import dev.prism.kernels.Parallel;

/** Loop nests for {@link ParallelBoundsTest}: which of them TornadoVM may run with a worker grid. */
public final class GridKernels {
    private GridKernels() {
    }

    /** Bounds c then h, parameters in that order: parameter numbers 0, 1 bound loops 0, 1. */
    public static void planesRows(float[] y, int c, int h, int w) {
        for (@Parallel int p = 0; p < c; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                y[(p * h + i) * w] = p * 1000 + i;
            }
        }
    }

    /** Bounds c then h, parameters in the other order: h would get dimension 0's size. */
    public static void rowsFirstParameter(float[] y, int h, int c, int w) {
        for (@Parallel int p = 0; p < c; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                y[(p * h + i) * w] = p * 1000 + i;
            }
        }
    }

    /** An expression, then a parameter: the parameter is number 0 but bounds loop 1. */
    public static void productThenRows(float[] y, int n, int c, int h, int w) {
        for (@Parallel int p = 0; p < n * c; p++) {
            for (@Parallel int i = 0; i < h; i++) {
                y[(p * h + i) * w] = p * 1000 + i;
            }
        }
    }

    /** Parameter, then an expression: number 0 bounds loop 0. */
    public static void rowsThenProduct(float[] y, int h, int n, int c, int w) {
        for (@Parallel int i = 0; i < h; i++) {
            for (@Parallel int p = 0; p < n * c; p++) {
                y[(p * h + i) * w] = p * 1000 + i;
            }
        }
    }

    /** Bounds read from a geometry array, as conv2d's: no parameter is a bound. */
    public static void geometry(float[] y, int[] g) {
        for (@Parallel int p = 0; p < g[0] * g[1]; p++) {
            for (@Parallel int i = 0; i < g[2]; i++) {
                y[p * g[2] + i] = p * 1000 + i;
            }
        }
    }

    /** One parameter bounding both loops. */
    public static void square(float[] y, int n) {
        for (@Parallel int p = 0; p < n; p++) {
            for (@Parallel int i = 0; i < n; i++) {
                y[p * n + i] = p * 1000 + i;
            }
        }
    }

    /** A bound that is an array's length. */
    public static void lengthBound(float[] y) {
        for (@Parallel int i = 0; i < y.length; i++) {
            y[i] = i;
        }
    }

    /** A loop that starts at a parameter. */
    public static void offset(float[] y, int from, int n) {
        for (@Parallel int i = from; i < n; i++) {
            y[i] = i;
        }
    }
}
