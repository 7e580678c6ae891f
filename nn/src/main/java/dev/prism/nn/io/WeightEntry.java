package dev.prism.nn.io;

import dev.prism.nn.Tensor;

/**
 * One tensor of a {@link WeightFile}: its name, element type and shape, read from the file's header
 * without touching its data. The data is converted only by {@link #toTensor()}.
 */
public interface WeightEntry {
    /** The tensor's name in the file, e.g. {@code down.0.conv.weight}. */
    String name();

    /** The element type as stored in the file. */
    DType dtype();

    /** The shape (a copy); {@code []} for a scalar. */
    int[] shape();

    /** The number of elements, the product of the shape (1 for a scalar). */
    long numel();

    /**
     * The tensor converted to fp32, in a new array that outlives the file (F16 and BF16 convert
     * exactly).
     *
     * @throws WeightFileException if the dtype is not F32, F16 or BF16, or the tensor has more elements
     *                             than a Java array holds; the message names the file and the tensor
     * @throws IllegalStateException if the file has been closed
     */
    Tensor toTensor();
}
