package dev.prism.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ForksTest {
    private static BenchRunner.Result result(String kernel, String backend, double median, int runs) {
        return new BenchRunner.Result(kernel, "1x2", backend, 10 * median, median, 0.9 * median, 1.2 * median, runs,
                Double.NaN, Double.NaN, 100, 200);
    }

    @Test
    void eachCaseTakesTheMedianOfTheForksAndKeepsEveryForksMedian() {
        List<List<BenchRunner.Result>> forks = List.of(
                List.of(result("a", "jvm", 1.0, 5), result("b", "jvm", 4.0, 5)),
                List.of(result("b", "jvm", 2.0, 6), result("a", "jvm", 3.0, 6)),
                List.of(result("a", "jvm", 2.0, 7), result("b", "jvm", 9.0, 7)));
        List<Forks.Merged> m = Forks.merge(forks);
        assertEquals(List.of("a", "b"), m.stream().map(x -> x.result().kernel()).toList(), "the first fork's order");
        assertEquals(2.0, m.get(0).result().medianMillis());
        assertArrayEquals(new double[] {1.0, 3.0, 2.0}, m.get(0).forkMedians(), "each fork's median, in the order the forks ran");
        assertEquals(4.0, m.get(1).result().medianMillis());
        assertEquals(20.0, m.get(0).result().firstMillis(), 1e-12, "the median of the first calls");
        assertEquals(18, m.get(0).result().runs(), "every fork's runs");
        assertEquals(3.0, m.get(0).spread(), 1e-12);
        assertEquals(4.5, m.get(1).spread(), 1e-12);
        assertTrue(Double.isNaN(m.get(0).result().kernelMillis()), "a figure the backend has not stays absent");
        // An even number of forks: the mean of the middle two.
        assertEquals(2.0, Forks.merge(forks.subList(0, 2)).get(0).result().medianMillis());
    }

    @Test
    void aCaseMissingFromAForkIsNamed() {
        var e = assertThrows(IllegalStateException.class, () -> Forks.merge(List.of(
                List.of(result("a", "jvm", 1, 5), result("b", "jvm-seq", 1, 5)), List.of(result("a", "jvm", 1, 5)))));
        assertEquals("fork 2 has no result for b on jvm-seq, which fork 1 has", e.getMessage());
    }

    @Test
    void aForksFileReadsBackExactly(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("f.tsv");
        List<BenchRunner.Result> rs = List.of(result("haar.dwt2", "jvm", 0.1 / 3, 30),
                new BenchRunner.Result("x", "4x1x32x32 width 64", "tornado:0", 1.5, 2.5, 2, 3, 5, 0.7, 600, 1L << 40, 7));
        Forks.write(f, rs, Map.of("x on tornado:0", 12L), Map.of("tornado:0", "TornadoVM, OpenCL\tdevice 0"));
        Forks.Fork back = Forks.read(f);
        assertEquals(rs, back.results());
        assertEquals(Map.of("x on tornado:0", 12L), back.jit());
        assertEquals(Map.of("tornado:0", "TornadoVM, OpenCL device 0"), back.backends(), "a tab in a description becomes a space");
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left");
        }
    }

    @Test
    void aDamagedForksFileNamesTheFileAndTheLine(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("f.tsv");
        Files.writeString(f, "jit\ta\t1\nresult\tonly\tthree\n");
        var e = assertThrows(IOException.class, () -> Forks.read(f));
        assertEquals(f + " line 2: expected a 'result' line of 13 fields, or a 'jit' or 'backend' line of 3, found 'result\tonly\tthree'",
                e.getMessage());
    }

    @Test
    void oneForkIsNotForking(@TempDir Path dir) {
        var e = assertThrows(IllegalArgumentException.class, () -> Forks.run(List.of(), 1, dir, new java.io.PrintWriter(System.out)));
        assertEquals("--forks: expected at least 2 to fork, found 1", e.getMessage());
    }
}
