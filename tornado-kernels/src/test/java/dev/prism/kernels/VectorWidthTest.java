package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.constantpool.ClassEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link VectorWidth}: the width this run pinned is the one every variant uses; bad values fail with a
 * message naming the property, the expected and the found value; the width cannot change once fixed;
 * and neither it nor the JVM backend needs the Vector API module to be asked.
 */
class VectorWidthTest {

    @Test
    void theVariantsRunAtThePinnedWidth() {
        int bits = VectorWidths.assertPinned();
        assertEquals(bits, VectorMath.FLOAT.vectorBitSize());
        assertEquals(bits, VectorMath.DOUBLE.vectorBitSize());
        assertEquals(bits / 32, VectorMath.FLOAT.length());
        try (JvmBackend jvm = JvmBackend.parallel(2)) {
            assertTrue(jvm.description().contains(bits + "-bit vectors"), jvm.description());
            assertEquals(bits > VectorWidth.preferredBits(), jvm.description().contains("emulated"), jvm.description());
        }
    }

    @Test
    void aBadValueNamesThePropertyAndTheExpectedAndFoundValues() {
        var e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.parse("300", "system property " + VectorWidth.PROPERTY));
        assertEquals("system property prism.vector.bits expected 128, 256 or 512 (vector bits), found '300'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.parse("wide", "--vector-bits"));
        assertEquals("--vector-bits expected 128, 256 or 512 (vector bits), found 'wide'", e.getMessage());
        assertEquals(256, VectorWidth.parse(" 256 ", "x"));
        e = assertThrows(IllegalArgumentException.class, () -> VectorWidth.pin(64, "--vector-bits"));
        assertEquals("--vector-bits expected 128, 256 or 512 (vector bits), found '64'", e.getMessage());
    }

    @Test
    void theWidthCannotChangeOnceFixed() {
        int bits = VectorWidth.bits();
        VectorWidth.pin(bits, "--vector-bits");
        int other = bits == 256 ? 512 : 256;
        var e = assertThrows(IllegalStateException.class, () -> VectorWidth.pin(other, "--vector-bits"));
        assertTrue(e.getMessage().startsWith("--vector-bits " + other + ": the vector variants already run at " + bits + " bits ("),
                e.getMessage());
        assertEquals(bits, VectorWidth.bits());
    }

    @Test
    void aBadPropertyFailsTheFirstVariantThatLoads() throws Exception {
        // A fresh JVM: here the width is long fixed.
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-D" + VectorWidth.PROPERTY + "=300",
                "-cp", System.getProperty("java.class.path"), Probe.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(out.contains("system property prism.vector.bits expected 128, 256 or 512 (vector bits), found '300'"), out);
    }

    /** Runs one vectorised launch on the JVM backend: what fixes the width in a program. */
    public static final class Probe {
        public static void main(String[] args) {
            float[] a = new float[64];
            try (JvmBackend jvm = JvmBackend.parallel(1)) {
                jvm.run(Gemm.matmul(a, a.clone(), new float[64], 1, 8, 8, 8, false, false, 0, 0, 64, false));
            }
        }
    }

    @Test
    void neitherTheWidthNorTheBackendLinksTheVectorApi() throws IOException {
        // So that a JVM without --add-modules jdk.incubator.vector can load them, ask for the width and
        // run the plain loops; only the variant classes, loaded when a launch runs one, use the API.
        for (Class<?> c : List.of(VectorWidth.class, JvmBackend.class, Launch.class, Gemm.class)) {
            List<String> refs = new ArrayList<>();
            for (var entry : model(c).constantPool()) {
                if (entry instanceof ClassEntry ce && ce.asInternalName().startsWith("jdk/incubator/vector")) {
                    refs.add(ce.asInternalName());
                }
            }
            assertTrue(refs.isEmpty(), c + " refers to " + refs);
        }
    }

    @Test
    void everyVariantUsesTheOneSpeciesOfVectorMath() throws IOException {
        // A second vector class in one JVM (a half-width float vector beside the full-width ones) pollutes
        // the type profiles inside the Vector API's shared methods, and C2 then boxes the vectors of every
        // variant that stores an accumulator after a loop: the bimodal 3x3 convolutions of issue 10. So only
        // VectorMath may name a species or a shape; the others take VectorMath.FLOAT and VectorMath.DOUBLE.
        Path dir = Path.of(VectorMath.class.getResource("VectorMath.class").getPath()).getParent();
        List<String> found = new ArrayList<>();
        int scanned = 0;
        try (var files = java.nio.file.Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                if (file.getFileName().toString().startsWith("VectorMath")) {
                    continue;
                }
                scanned++;
                ClassModel model = ClassFile.of().parse(java.nio.file.Files.readAllBytes(file));
                for (var entry : model.constantPool()) {
                    if (entry instanceof java.lang.classfile.constantpool.MemberRefEntry ref
                            && ref.owner().asInternalName().startsWith("jdk/incubator/vector/")) {
                        String name = ref.name().stringValue();
                        if (name.startsWith("SPECIES_") || name.startsWith("S_") || name.equals("forBitSize")
                                || (ref.owner().asInternalName().endsWith("VectorSpecies")
                                && (name.equals("of") || name.equals("ofLargestShape") || name.equals("ofPreferred")
                                || name.startsWith("with")))) {
                            found.add(file.getFileName() + ": " + ref.owner().asInternalName() + "." + name);
                        }
                    }
                }
            }
        }
        assertTrue(scanned > 20, "scanned only " + scanned + " classes in " + dir);
        assertTrue(found.isEmpty(), "species or shapes named outside VectorMath: " + found);
    }

    private static ClassModel model(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            return ClassFile.of().parse(in.readAllBytes());
        }
    }
}
