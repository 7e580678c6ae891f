package dev.prism.nn;

import java.util.Arrays;
import java.util.Objects;

/**
 * A dense fp32 array with a shape: a {@code float[]} in row-major (C) order, batch first for images
 * ({@code [N, C, H, W]}). The data array is shared, not copied, so kernels write into it directly.
 */
public final class Tensor {
    private final int[] shape;
    private final float[] data;

    private Tensor(int[] shape, float[] data) {
        this.shape = shape;
        this.data = data;
    }

    /** A zero tensor of the given shape. */
    public static Tensor zeros(int... shape) {
        int[] s = checkShape(shape);
        return new Tensor(s, new float[numel(s)]);
    }

    /**
     * A tensor over {@code data} (not copied).
     *
     * @throws IllegalArgumentException if a dimension is negative or the length differs from the shape's element count
     */
    public static Tensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = checkShape(shape);
        long n = numel(s);
        if (n != data.length) {
            throw new IllegalArgumentException("tensor data: expected " + n + " elements for shape "
                    + Arrays.toString(s) + ", found " + data.length);
        }
        return new Tensor(s, data);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        int k = i < 0 ? shape.length + i : i;
        if (k < 0 || k >= shape.length) {
            throw new IllegalArgumentException("dimension " + i + " of a rank-" + shape.length + " tensor");
        }
        return shape[k];
    }

    public int numel() {
        return data.length;
    }

    /** The backing array, shared. */
    public float[] data() {
        return data;
    }

    /** The same data seen with another shape of equal element count. */
    public Tensor reshape(int... newShape) {
        return of(data, newShape);
    }

    /** A deep copy. */
    public Tensor copy() {
        return new Tensor(shape.clone(), data.clone());
    }

    /** True when the shape equals {@code expected}. */
    public boolean hasShape(int... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * Fails unless the shape equals {@code expected}, naming {@code what}.
     *
     * @throws IllegalArgumentException {@code "<what>: expected [..], found [..]"}
     */
    public Tensor requireShape(String what, int... expected) {
        if (!hasShape(expected)) {
            throw new IllegalArgumentException(what + ": expected " + Arrays.toString(expected) + ", found " + Arrays.toString(shape));
        }
        return this;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }

    /**
     * The element count of {@code shape}.
     *
     * @throws IllegalArgumentException naming the shape when a dimension is negative or the count exceeds the
     *                                  largest Java array ({@code Integer.MAX_VALUE − 8} elements)
     */
    public static int elements(int... shape) {
        return numel(checkShape(shape));
    }

    private static int[] checkShape(int[] shape) {
        Objects.requireNonNull(shape, "shape");
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + ": dimension " + i + " is negative");
            }
        }
        numel(shape);
        return shape.clone();
    }

    private static int numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("tensor shape " + Arrays.toString(shape) + " expected at most "
                        + (Integer.MAX_VALUE - 8) + " elements (the largest Java array), found " + product(shape));
            }
        }
        return (int) n;
    }

    /** The product of the dimensions as text, exact even beyond a long. */
    private static String product(int[] shape) {
        java.math.BigInteger p = java.math.BigInteger.ONE;
        for (int d : shape) {
            p = p.multiply(java.math.BigInteger.valueOf(d));
        }
        return p.toString();
    }
}
