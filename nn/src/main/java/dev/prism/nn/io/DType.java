package dev.prism.nn.io;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Element types of tensors in weight files, named as in the safetensors format ({@code "F32"},
 * {@code "BF16"}, ...). PyTorch storages map onto the same names ({@code torch.HalfStorage} is
 * {@link #F16}). Only {@link #F32}, {@link #F16} and {@link #BF16} convert to Prism's fp32
 * {@link dev.prism.nn.Tensor}; the others are read, listed and reported by name, and rejected when
 * loaded as float.
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), F8_E4M3(1), F8_E5M2(1),
    I64(8), I32(4), I16(2), I8(1), U64(8), U32(4), U16(2), U8(1), BOOL(1);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** True for the types that convert to fp32: F32, F16 (exactly), BF16 (exactly). */
    public boolean loadsAsFloat() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** The type with this safetensors name (case-sensitive, as the format spells it). */
    public static Optional<DType> byName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** "F32, F16 or BF16": the names accepted as float, for messages. */
    static String floatNames() {
        return "F32, F16 or BF16";
    }

    /** Every name, for messages about an unknown one. */
    static String allNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
