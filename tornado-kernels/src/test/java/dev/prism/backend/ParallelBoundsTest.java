package dev.prism.backend;

import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading parallel loop bounds from bytecode, and which kernels a TornadoVM worker grid would break. */
class ParallelBoundsTest {
    private static Method kernel(String name) {
        return Arrays.stream(GridKernels.class.getMethods()).filter(m -> m.getName().equals(name)).findFirst().orElseThrow();
    }

    private static ParallelBounds.Result of(String name) {
        return ParallelBounds.of(kernel(name));
    }

    @Test
    void parametersBoundingLoopsInParameterOrderAreSafe() {
        ParallelBounds.Result r = of("planesRows");
        assertEquals(List.of(1, 2), r.loops().stream().map(ParallelBounds.Loop::parameter).toList());
        assertEquals(Optional.empty(), r.gridProblem());
        assertEquals(Optional.empty(), of("rowsThenProduct").gridProblem());
        assertEquals(List.of(-1, -1), of("geometry").loops().stream().map(ParallelBounds.Loop::parameter).toList());
        assertEquals(Optional.empty(), of("geometry").gridProblem());
    }

    @Test
    void aParameterBoundingALaterLoopThanItsNumberIsRefusedWithTheReason() {
        assertEquals("parameter 2 bounds parallel loop 0 (line 21) but TornadoVM would give it the grid's size of dimension 1;"
                + " parameter 1 bounds parallel loop 1 (line 22) but TornadoVM would give it the grid's size of dimension 0",
                of("rowsFirstParameter").gridProblem().orElseThrow());
        assertEquals("parameter 3 bounds parallel loop 1 (line 31) but TornadoVM would give it the grid's size of dimension 0",
                of("productThenRows").gridProblem().orElseThrow());
        assertTrue(of("square").gridProblem().orElseThrow().contains("one parameter bounds two parallel loops"));
        assertTrue(of("lengthBound").gridProblem().orElseThrow().contains("bounded by an array's length"));
        assertTrue(of("offset").gridProblem().orElseThrow().contains("does not start at 0"));
    }

    /**
     * Every kernel of the catalog has as many parallel loops as its launches have grid dimensions, and the
     * kernels a worker grid would break are exactly the known ones.
     */
    @Test
    void everyCatalogKernelHasOneLoopPerGridDimension() {
        Map<String, String> unsafe = new TreeMap<>();
        for (Size size : Size.values()) {
            for (KernelCase c : Catalog.all(size)) {
                for (dev.prism.backend.Launch l : c.build().apply(1L).launches()) {
                    ParallelBounds.Result r = ParallelBounds.of(l.method());
                    assertEquals(l.grid().length, r.loops().size(), l.kernel() + ": loops " + r.loops() + " against grid " + Arrays.toString(l.grid()));
                    r.gridProblem().ifPresent(p -> unsafe.put(l.kernel(), p));
                }
            }
        }
        // None: a kernel here would run with TornadoVM's own scheduling on every device (a parameter alone bounds
        // its inner loop, which TornadoVM would number 0). Write such a bound as Math.max(h, 0) (Parallel, "Loop bounds").
        assertEquals(List.of(),
                List.copyOf(unsafe.keySet()), unsafe.toString());
    }
}
