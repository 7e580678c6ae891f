package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.TypeAnnotation;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What TornadoVM needs from the kernel class files, read with the JDK's Class-File API: the local
 * variable table (without it TornadoVM silently runs sequential Java) and {@code @Parallel} on the loop
 * indices (without it a kernel runs as one work-item). And what the launches claim about them: a
 * launch's grid has one dimension per parallel loop, or a work-group size would be applied wrongly.
 */
class KernelClassTest {
    private static final String PARALLEL = "L" + Parallel.class.getName().replace('.', '/') + ";";

    /** The number of distinct local variables annotated {@code @Parallel} in the method's code. */
    static int parallelLoops(Method m) throws IOException {
        ClassModel cm = model(m.getDeclaringClass());
        for (MethodModel mm : cm.methods()) {
            if (mm.methodName().equalsString(m.getName())) {
                CodeModel code = mm.code().orElseThrow();
                assertTrue(code.findAttribute(Attributes.localVariableTable()).isPresent(),
                        m + " has no local variable table: compile kernel classes with -g, or TornadoVM runs them as sequential Java");
                return (int) code.findAttribute(Attributes.runtimeVisibleTypeAnnotations()).stream()
                        .flatMap(a -> a.annotations().stream())
                        .filter(t -> t.annotation().className().equalsString(PARALLEL))
                        .filter(t -> t.targetInfo() instanceof TypeAnnotation.LocalVarTarget)
                        .map(t -> ((TypeAnnotation.LocalVarTarget) t.targetInfo()).table().getFirst().index())
                        .distinct().count();
            }
        }
        throw new AssertionError("no method " + m.getName() + " in " + cm.thisClass().asInternalName());
    }

    private static ClassModel model(Class<?> c) throws IOException {
        // The binary name: a nested kernel class lives in Outer$Inner.class.
        try (InputStream in = c.getResourceAsStream(c.getName().substring(c.getName().lastIndexOf('.') + 1) + ".class")) {
            assertNotNull(in, "class file of " + c);
            return ClassFile.of().parse(in.readAllBytes());
        }
    }

    @Test
    void everyCatalogLaunchHasOneGridDimensionPerParallelLoop() throws IOException {
        Map<String, String> problems = new TreeMap<>();
        Map<Method, Integer> loops = new HashMap<>();
        int checked = 0;
        for (Size size : Size.values()) {
            for (KernelCase c : Catalog.all(size)) {
                for (Launch l : c.build().apply(1L).launches()) {
                    Method m = l.method();
                    int n = loops.computeIfAbsent(m, k -> {
                        try {
                            return parallelLoops(k);
                        } catch (IOException e) {
                            throw new AssertionError(e);
                        }
                    });
                    checked++;
                    if (n < 1) {
                        problems.put(l.kernel(), "no @Parallel loop");
                    } else if (n != l.grid().length) {
                        problems.put(l.kernel(), n + " @Parallel loops but a grid of " + l.grid().length + " (one grid count per loop)");
                    }
                }
            }
        }
        assertTrue(checked > 100, "launches checked: " + checked);
        if (!problems.isEmpty()) {
            fail(problems.size() + " kernels: " + problems);
        }
    }

    @Test
    void everyRegisteredKernelMethodHasParallelLoopsAndDebugInformation() throws IOException {
        int methods = 0;
        for (Class<?> k : KernelRegistry.families().values()) {
            for (Method m : k.getDeclaredMethods()) {
                // Kernel methods are the public static void ones whose code has @Parallel loops; helpers have none.
                if (java.lang.reflect.Modifier.isPublic(m.getModifiers()) && parallelLoops(m) > 0) {
                    methods++;
                    assertEquals(void.class, m.getReturnType(), m.toString());
                }
            }
        }
        assertTrue(methods > 40, "kernel methods found: " + methods);
    }
}
