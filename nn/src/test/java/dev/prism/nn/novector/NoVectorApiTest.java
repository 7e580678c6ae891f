package dev.prism.nn.novector;

import dev.prism.backend.JvmBackend;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A program that puts Prism on its class path without {@code --add-modules jdk.incubator.vector} can use the
 * JVM backend: in a child JVM started so, {@code JvmBackend.parallel} runs the plain loops on its threads, gives
 * the sequential loops' results bit for bit, and says so once.
 */
class NoVectorApiTest {
    @Test
    void withoutTheVectorModuleTheJvmBackendRunsThePlainLoopsAndSaysSoOnce() throws IOException, InterruptedException {
        Path results = Files.createTempFile("no-vector-api-", ".bin");
        Path log = Files.createTempFile("no-vector-api-", ".log");
        try {
            List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                    "-cp", System.getProperty("java.class.path"), NoVectorApiMain.class.getName(), results.toString());
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            // Options the launcher would add from the environment could bring the module back.
            pb.environment().remove("JDK_JAVA_OPTIONS");
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            Process p = pb.start();
            boolean ended = p.waitFor(120, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor();
            }
            String output = Files.readString(log);
            assertTrue(ended, "the child JVM did not end within 120 s:\n" + output);
            assertEquals(0, p.exitValue(), output);
            assertEquals(1, output.lines().filter(JvmBackend.NO_VECTOR_API::equals).count(), output);
            assertTrue(output.contains("backend jvm: JVM, 4 threads, plain loops only (no Vector API module: start the JVM with"
                    + " --add-modules jdk.incubator.vector)"), output);

            List<float[]> child = read(results);
            List<float[]> reference;
            try (JvmBackend seq = JvmBackend.sequential()) {
                reference = NoVectorApiMain.compute(seq);
            }
            assertEquals(reference.size(), child.size());
            for (int i = 0; i < reference.size(); i++) {
                assertArrayEquals(reference.get(i), child.get(i), "result " + i + " (the plain loops give these bits on any thread count)");
            }
        } finally {
            Files.deleteIfExists(results);
            Files.deleteIfExists(log);
        }
    }

    private static List<float[]> read(Path file) throws IOException {
        try (DataInputStream d = new DataInputStream(Files.newInputStream(file))) {
            int count = d.readInt();
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                float[] a = new float[d.readInt()];
                for (int j = 0; j < a.length; j++) {
                    a[j] = Float.intBitsToFloat(d.readInt());
                }
                out.add(a);
            }
            return out;
        }
    }
}
