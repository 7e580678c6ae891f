package dev.prism.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Size products are computed exactly and refused by name before they wrap. */
class CheckTest {
    @Test
    void aProductBeyondTheLargestArrayNamesItsFactorsAndTheExactProduct() {
        var e = assertThrows(IllegalArgumentException.class, () -> Check.of("attention.forward").size("probs", 8, 1, 16384, 16384));
        assertEquals("attention.forward: argument 'probs' expected at most 2147483639 elements (the largest Java array),"
                + " found 8·1·16384·16384 = 2147483648", e.getMessage());
        // a product that would overflow a long as well
        e = assertThrows(IllegalArgumentException.class, () -> Check.of("k").size("x", Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE));
        assertEquals("k: argument 'x' expected at most 2147483639 elements (the largest Java array), found 2147483647·2147483647·2147483647"
                + " = 9903520300447984150353281023", e.getMessage());
        assertEquals(2147483639, Check.of("k").size("x", 2147483639, 1));
    }

    @Test
    void aNegativeDimensionIsRefusedRatherThanMultiplied() {
        var e = assertThrows(IllegalArgumentException.class, () -> Check.of("resample.upsample2x").size("out", 1, 1, -2, 4));
        assertEquals("resample.upsample2x: argument 'out' expected dimensions >= 0, found [1, 1, -2, 4]", e.getMessage());
    }
}
