package dev.prism.nn;

import java.util.Arrays;
import java.util.Objects;

/**
 * A learnable tensor of a model, named as in the PyTorch {@code state_dict} of the same architecture
 * ({@code down.1.res.0.conv1.weight}). The name is the module path plus the local name; it is fixed
 * when the model is built.
 */
public final class Parameter {
    private final String localName;
    private final Tensor value;
    private String name;

    Parameter(String localName, Tensor value) {
        this.localName = Objects.requireNonNull(localName, "localName");
        this.value = Objects.requireNonNull(value, "value");
        this.name = localName;
    }

    /** The full {@code state_dict} name. */
    public String name() {
        return name;
    }

    void prefix(String path) {
        name = path.isEmpty() ? localName : path + "." + localName;
    }

    public Tensor value() {
        return value;
    }

    public int[] shape() {
        return value.shape();
    }

    public int numel() {
        return value.numel();
    }

    /**
     * Replaces the values with {@code source}'s, which must have the same shape.
     *
     * @throws IllegalArgumentException naming this parameter, the expected and the found shape
     */
    public void load(Tensor source) {
        if (!Arrays.equals(source.shape(), value.shape())) {
            throw new IllegalArgumentException("parameter '" + name + "': expected " + Arrays.toString(value.shape())
                    + ", found " + Arrays.toString(source.shape()));
        }
        System.arraycopy(source.data(), 0, value.data(), 0, value.numel());
    }

    @Override
    public String toString() {
        return name + Arrays.toString(value.shape());
    }
}
