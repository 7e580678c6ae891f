package dev.prism.nn;

import dev.prism.kernels.ArgumentException;
import dev.prism.nn.models.Models;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Heap checks and the sizes behind them: nothing allocated before a model or a graph is known to fit. */
class HeapTest {
    @Test
    void aModelsStructureExistsWithoutItsWeights() {
        Models.Built b = Models.structure("unet", Map.of("width", "3000"));
        assertEquals(2196321001L, b.module().parameterCount());
        assertEquals(4L * 2196321001L, b.module().parameterBytes());
        assertTrue(b.module().parameters().stream().noneMatch(Parameter::allocated), "no parameter allocated");
        Models.Built small = Models.build("unet", Map.of("width", "8", "groups", "4"), 1);
        assertTrue(small.module().parameters().stream().allMatch(Parameter::allocated), "build allocates and initialises");
    }

    @Test
    void buildingAModelLargerThanTheHeapIsRefusedNamingItsOptions() {
        // 10000 channels: every weight fits a Java array, 12.3 G parameters (46 GiB) do not fit the tests' heap
        var e = assertThrows(Heap.HeapException.class, () -> Models.build("unet", Map.of("width", "10000", "levels", "1"), 0));
        assertEquals("options", e.argument());
        assertTrue(e.getMessage().startsWith("options {levels=1, width=10000}: model unet with "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" GiB, heap is " + Heap.format(Heap.max()) + " (arrays may take 80 % of it); lower options or raise -Xmx"),
                e.getMessage());
        assertTrue(e.messageAs("--config").startsWith("--config {levels=1, width=10000}: model unet with "), e.messageAs("--config"));
        assertTrue(e.messageAs("--config").endsWith("; lower --config or raise -Xmx"), e.messageAs("--config"));
    }

    @Test
    void aParameterShapeBeyondAJavaArrayIsRefusedWhenDeclared() {
        var e = assertThrows(IllegalArgumentException.class, () -> Models.structure("unet", Map.of("width", "65536")));
        assertEquals("tensor shape [262144, 65536] expected at most 2147483639 elements (the largest Java array), found 17179869184",
                e.getMessage());
    }

    @Test
    void graphsSizeAttentionsProbabilitiesBeforeAllocatingThem() {
        // q, k, v of 8 images at 128x128 positions are 131072 floats each; their probabilities would be 2^31
        Graph g = new Graph("g");
        Tensor q = Tensor.zeros(8, 1, 128, 128);
        var e = assertThrows(IllegalArgumentException.class, () -> g.attention(q, q, q, 1));
        assertEquals("graph 'g': attention: argument 'probs' expected at most 2147483639 elements (the largest Java array),"
                + " found 8·1·16384·16384 = 2147483648", e.getMessage());
        assertTrue(g.forwardLaunches().isEmpty());
    }

    @Test
    void arrayBytesAndTheirFormatting() {
        assertEquals(16 + 4 * 10, Heap.floatArrayBytes(10));
        assertEquals(Long.MAX_VALUE, Heap.floatArrayBytes(Long.MAX_VALUE / 2));
        assertEquals(Long.MAX_VALUE, Heap.saturatedAdd(Long.MAX_VALUE - 1, 2));
        long huge = Heap.floatArrayBytes(1L << 28);
        assertTrue(huge >= 4L << 28 && huge < (4L << 28) + (32L << 20), "a humongous array rounds up by less than one region: " + huge);
        assertEquals("38.2 GiB", Heap.format((long) (38.2 * (1L << 30))));
        assertEquals("512.0 MiB", Heap.format(512L << 20));
        assertEquals("900 bytes", Heap.format(900));
        assertEquals("more than 8 EiB", Heap.format(Long.MAX_VALUE));
        var e = assertThrows(ArgumentException.class, () -> Heap.requireArray("batch", 8, "the largest array", 1L << 31));
        assertEquals("batch expected a value for which every array holds at most 2147483639 elements (the largest Java array),"
                + " found 8 (the largest array would hold 2147483648)", e.getMessage());
        assertFalse(Heap.usable() > Heap.max());
    }
}
