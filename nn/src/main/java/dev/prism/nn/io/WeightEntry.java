package dev.prism.nn.io;

import dev.prism.nn.Tensor;

import java.io.IOException;

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

    /** Receives a tensor's fp32 values piece by piece. */
    @FunctionalInterface
    interface FloatSink {
        /** Takes {@code values[0 .. count)}; the array is reused for the next piece, so copy what must be kept. */
        void accept(float[] values, int count) throws IOException;
    }

    /**
     * The tensor converted to fp32 as {@link #toTensor()} converts it, in row-major order, handed to
     * {@code sink} in pieces of at most {@code buffer.length} elements written into {@code buffer}. Entries
     * that can (safetensors, contiguous {@code .pth} views) convert piece by piece, so memory does not grow
     * with the tensor; this default converts the whole tensor first.
     *
     * @throws WeightFileException as {@link #toTensor()} does
     * @throws IOException         only from {@code sink}
     */
    default void readFloats(float[] buffer, FloatSink sink) throws IOException {
        checkBuffer(buffer);
        float[] all = toTensor().data();
        for (int i = 0; i < all.length; i += buffer.length) {
            int n = Math.min(buffer.length, all.length - i);
            System.arraycopy(all, i, buffer, 0, n);
            sink.accept(buffer, n);
        }
    }

    /** Fails unless {@code buffer} can hold at least one element. */
    static void checkBuffer(float[] buffer) {
        if (buffer.length == 0) {
            throw new IllegalArgumentException("readFloats: buffer expected at least 1 element, found 0");
        }
    }
}
