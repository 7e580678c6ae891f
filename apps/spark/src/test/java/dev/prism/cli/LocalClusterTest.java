package dev.prism.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code prism sample-many} with two executor processes ({@code local-cluster[2,1,1024]}), the weights shipped to them
 * by the driver: the same files and manifest as an embedded {@code local[2]} run.
 */
class LocalClusterTest {
    @TempDir
    Path tmp;

    @Test
    void twoExecutorProcessesWithShippedWeightsDrawTheImagesOfTheEmbeddedRun() throws Exception {
        String home = System.getenv("SPARK_HOME");
        assertTrue(home != null, "the build sets SPARK_HOME for this test (apps/spark/pom.xml)");
        Files.createDirectories(Path.of(home, "jars"));
        Path weights = DenoiserOptions.bundledModel();
        List<String> args = List.of("sample-many", "--steps", "3", "--threads", "1", "--weights", weights.toString(), "--seeds", "10..13",
                "--partitions", "2", "--batch", "2");
        Path embedded = tmp.resolve("embedded"), dir = tmp.resolve("cluster");
        assertEquals(0, SampleManyTest.run(args, "--master", "local[2]", "--out", embedded.toString()).code());
        SampleManyTest.Result r = SampleManyTest.run(args, "--master", "local-cluster[2,1,1024]", "--out", dir.toString(),
                // the executors get this JVM's class path (surefire's class-path jar) beside SPARK_HOME/jars, which is empty here
                "--conf", "spark.executor.extraClassPath=" + System.getProperty("java.class.path"));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("4 seeds 10..13 in 2 partitions on local-cluster[2,1,1024]"), r.out());
        assertEquals(SampleManyTest.stable(embedded), SampleManyTest.stable(dir));
        for (long seed = 10; seed <= 13; seed++) {
            String name = "seed-" + seed + ".png";
            assertArrayEquals(Files.readAllBytes(embedded.resolve(name)), Files.readAllBytes(dir.resolve(name)), name);
        }
    }
}
