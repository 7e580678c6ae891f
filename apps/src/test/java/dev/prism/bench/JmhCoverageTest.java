package dev.prism.bench;

import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Param;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

class JmhCoverageTest {
    @Test
    void everyCatalogCaseHasAJmhBenchmark() throws Exception {
        // JMH's annotation processor writes one line per benchmark: "JMH S <length> <class> ...".
        InputStream in = JmhCoverageTest.class.getResourceAsStream("/META-INF/BenchmarkList");
        assertNotNull(in, "no JMH benchmark list: is the annotation processor configured?");
        List<String> lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList();
        Set<String> benchmarked = new TreeSet<>();
        for (String line : lines) {
            Class<?> bench = Class.forName(line.split(" ")[3]);
            if (CatalogBench.class.isAssignableFrom(bench)) {
                benchmarked.addAll(Set.of(bench.getField("kernel").getAnnotation(Param.class).value()));
            }
        }
        Set<String> catalog = new TreeSet<>(Catalog.names(Size.MODEL).toList());
        assertEquals(catalog, benchmarked, "catalog cases and JMH @Param values differ: add the case to its family's *Bench class");
    }
}
