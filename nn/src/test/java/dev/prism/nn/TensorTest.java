package dev.prism.nn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TensorTest {
    @Test
    void reshapeSharesTheDataAndKeepsTheCount() {
        Tensor t = Tensor.zeros(2, 3, 4, 5);
        Tensor r = t.reshape(6, 20);
        assertSame(t.data(), r.data());
        assertArrayEquals(new int[] {6, 20}, r.shape());
        assertEquals(5, t.dim(-1));
        assertEquals(120, t.numel());
    }

    @Test
    void aShapeThatDoesNotFitTheDataIsRejectedWithBothCounts() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[10], 2, 3));
        assertEquals("tensor data: expected 6 elements for shape [2, 3], found 10", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, -1));
        assertEquals("tensor shape [2, -1]: dimension 1 is negative", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1 << 16, 1 << 16));
        assertEquals("tensor shape [65536, 65536] expected at most 2147483639 elements (the largest Java array), found 4294967296", e.getMessage());
    }

    @Test
    void requireShapeNamesWhatWasChecked() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(64, 32, 3, 3).requireShape("down.2.conv.weight", 64, 64, 3, 3));
        assertEquals("down.2.conv.weight: expected [64, 64, 3, 3], found [64, 32, 3, 3]", e.getMessage());
    }
}
