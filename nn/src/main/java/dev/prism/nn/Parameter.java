package dev.prism.nn;

import java.util.Arrays;
import java.util.Objects;

/**
 * A learnable tensor of a model, named as in the PyTorch {@code state_dict} of the same architecture
 * ({@code down.1.res.0.conv1.weight}). The name is the module path plus the local name; it is fixed
 * when the model is built.
 *
 * <p>The values are allocated (zeros) the first time {@link #value()} is asked for, not when the model is
 * built: a model's structure, its parameter shapes and counts exist without their memory, so that what a
 * model needs can be checked against the heap before any of it is allocated ({@link Module#parameterBytes}).
 */
public final class Parameter {
    private final String localName;
    private final int[] shape;
    private final int numel;
    private volatile Tensor value;
    private String name;

    /**
     * @throws IllegalArgumentException naming the shape when a dimension is negative or the shape holds more
     *                                  elements than a Java array
     */
    Parameter(String localName, int[] shape) {
        this.localName = Objects.requireNonNull(localName, "localName");
        this.shape = shape.clone();
        this.numel = Tensor.elements(this.shape);
        this.name = localName;
    }

    /** A parameter over {@code value} (not copied), already allocated: for tests that change the values in place. */
    Parameter(String localName, Tensor value) {
        this(localName, value.shape());
        this.value = value;
    }

    /** The full {@code state_dict} name. */
    public String name() {
        return name;
    }

    void prefix(String path) {
        name = path.isEmpty() ? localName : path + "." + localName;
    }

    /** The values, allocated as zeros on the first call. */
    public Tensor value() {
        Tensor v = value;
        if (v == null) {
            synchronized (this) {
                v = value;
                if (v == null) {
                    v = Tensor.zeros(shape);
                    value = v;
                }
            }
        }
        return v;
    }

    /** Whether {@link #value()} has allocated the values. */
    public boolean allocated() {
        return value != null;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int numel() {
        return numel;
    }

    /**
     * Replaces the values with {@code source}'s, which must have the same shape.
     *
     * @throws IllegalArgumentException naming this parameter, the expected and the found shape
     */
    public void load(Tensor source) {
        if (!Arrays.equals(source.shape(), shape)) {
            throw new IllegalArgumentException("parameter '" + name + "': expected " + Arrays.toString(shape)
                    + ", found " + Arrays.toString(source.shape()));
        }
        System.arraycopy(source.data(), 0, value().data(), 0, numel);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape);
    }
}
