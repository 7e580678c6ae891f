package dev.prism.nn.io;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Conversion of little-endian F32, F16 and BF16 elements to fp32. */
final class Floats {
    // Weight files are little-endian and their tensors need not be aligned to their element size.
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Floats() {
    }

    /**
     * Writes {@code n} elements of {@code src} (from its byte 0, of type {@code dtype}) as fp32 into
     * {@code dst[off .. off+n)}. F16 and BF16 values are exactly representable in fp32, so the
     * conversion is exact; BF16 is the upper half of an fp32 bit pattern.
     *
     * @throws IllegalArgumentException if {@code dtype} is not F32, F16 or BF16 (callers check first)
     */
    static void toFloats(MemorySegment src, DType dtype, float[] dst, int off, int n) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, F32_LE, 0, dst, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.float16ToFloat(src.get(I16_LE, 2L * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = Float.intBitsToFloat((src.get(I16_LE, 2L * i) & 0xffff) << 16);
                }
            }
            default -> throw new IllegalArgumentException("dtype " + dtype + " does not convert to float");
        }
    }

    /** Fails unless tensor {@code tensor} of {@code source}, of type {@code dtype}, converts to fp32. */
    static void checkFloat(String source, String tensor, DType dtype) {
        if (!dtype.loadsAsFloat()) {
            throw new WeightFileException(source, "tensor '" + Printable.name(tensor) + "': dtype " + dtype
                    + " cannot be loaded as float (expected " + DType.floatNames() + ")");
        }
    }

    /**
     * {@link #checkFloat}, then fails unless its {@code numel} fp32 values fit in one Java array and in the
     * heap, before anything is allocated: a file can declare any size.
     */
    static void checkConvertible(String source, String tensor, DType dtype, long numel) {
        checkFloat(source, tensor, dtype);
        checkArray(source, "tensor '" + Printable.name(tensor) + "'", numel);
    }

    /** Fails unless {@code n} fp32 values ({@code what}) fit in one Java array and in the heap ({@link Runtime#maxMemory()}). */
    static void checkArray(String source, String what, long n) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new WeightFileException(source, what + ": " + n + " elements are more than a Java array holds");
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (4 * n > heap) {
            throw new WeightFileException(source, what + ": " + n + " elements need " + mib(4 * n)
                    + " as fp32, more than the whole heap (" + mib(heap) + "); raise -Xmx");
        }
    }

    /** {@code "12.5 MiB"}. */
    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /** {@code [64,3,3,3]}: shapes in messages, as the weight-file errors print them. */
    static String shape(int[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return b.append(']').toString();
    }

    /** {@code [2,-1]} for long arrays (shapes before validation, strides). */
    static String shape(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : ",").append(shape[i]);
        }
        return b.append(']').toString();
    }
}
