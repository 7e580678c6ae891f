package dev.prism.kernels.catalog;

import dev.prism.backend.JvmBackend;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CatalogTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEQ = JvmBackend.sequential();
    private static final List<JvmBackend> PARALLEL = List.of(
            JvmBackend.parallel(1), JvmBackend.parallel(2), JvmBackend.parallel(3), JvmBackend.parallel(7));

    @AfterAll
    static void close() {
        PARALLEL.forEach(JvmBackend::close);
    }

    static Stream<String> smallCases() {
        return Catalog.names(Size.SMALL);
    }

    @ParameterizedTest
    @MethodSource("smallCases")
    void everyThreadCountGivesBitIdenticalResults(String name) {
        KernelCase c = Catalog.select(Size.SMALL, List.of(name)).stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
        boolean vectorised = c.build().apply(42L).launches().stream().anyMatch(l -> l.vector() != null);
        // A run with a pinned width repeats the cases the width can change: those with a vector variant.
        assumeTrue(vectorised || System.getProperty(VectorWidths.PINNED) == null, "no vector variant: the width changes nothing");
        // Against the reference loops: identical, unless a hand-vectorised variant runs (then within 1e-5).
        KernelCheck.Row ref = KernelCheck.run(c, SEQ, PARALLEL.getFirst(), vectorised ? 1e-5 : 0.0, 42);
        assertTrue(ref.ok(), name + " against the reference: " + ref.problem());
        if (!vectorised) {
            assertEquals(0.0, ref.maxAbsError(), name + " against the reference");
        }
        // Between thread counts: always the same bits.
        for (JvmBackend b : PARALLEL.subList(1, PARALLEL.size())) {
            KernelCheck.Row row = KernelCheck.run(c, PARALLEL.getFirst(), b, 0.0, 42);
            assertTrue(row.ok(), name + " on " + b.description() + ": " + row.problem());
            assertEquals(0.0, row.maxAbsError(), name + " on " + b.description());
        }
    }

    @Test
    void caseNamesAreUniqueAndModelSizesExistForEveryCase() {
        Set<String> seen = new HashSet<>();
        Catalog.names(Size.SMALL).forEach(n -> assertTrue(seen.add(n), "duplicate case " + n));
        assertEquals(seen, new HashSet<>(Catalog.names(Size.MODEL).toList()));
    }

    @Test
    void aFilterThatMatchesNothingIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Catalog.select(Size.SMALL, List.of("nosuch")));
        assertTrue(e.getMessage().startsWith("kernel filter 'nosuch' matches no kernel; known: haar.dwt2"), e.getMessage());
    }
}
