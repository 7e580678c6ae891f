package dev.prism.backend;

import dev.prism.kernels.KernelRegistry;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bytecode scan that decides what Prism hands to TornadoVM: every built-in kernel passes it, and
 * each construct TornadoVM cannot compile is refused with the kernel, the construct and its source line
 * (the line is checked against the {@code refused:} comments in {@link RefusedKernels}).
 */
class KernelScanTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/prism/backend/RefusedKernels.java");

    /** The line of {@code RefusedKernels.java} marked {@code // refused: key}. */
    static int lineOf(String key) throws IOException {
        List<String> lines = Files.readAllLines(SOURCE);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// refused: " + key)) {
                return i + 1;
            }
        }
        throw new AssertionError("no line marked 'refused: " + key + "' in " + SOURCE);
    }

    private static Method kernel(String name) {
        for (Method m : RefusedKernels.class.getMethods()) {
            if (m.getName().equals(name)) {
                return m;
            }
        }
        throw new AssertionError("no kernel " + name);
    }

    /** The one finding at the marked line whose text contains {@code text}. */
    private static KernelScan.Finding findingAt(String kernel, String key, String text) throws IOException {
        int line = lineOf(key);
        List<KernelScan.Finding> found = KernelScan.scan(kernel(kernel));
        for (KernelScan.Finding f : found) {
            if (f.line() == line && f.what().contains(text)) {
                assertEquals("RefusedKernels.java", f.file());
                return f;
            }
        }
        throw new AssertionError(kernel + ": expected a finding containing '" + text + "' at line " + line + ", found " + found);
    }

    @Test
    void everyBuiltInKernelPassesTheScan() {
        Map<String, List<KernelScan.Finding>> refused = new TreeMap<>();
        Set<Method> scanned = new java.util.HashSet<>();
        for (Size size : Size.values()) {
            for (KernelCase c : Catalog.all(size)) {
                for (Launch l : c.build().apply(1L).launches()) {
                    if (scanned.add(l.method()) && !KernelScan.scan(l.method()).isEmpty()) {
                        refused.put(l.kernel(), KernelScan.scan(l.method()));
                    }
                }
            }
        }
        // And every public static method of the kernel classes, kernel or helper, launched by the catalog or not.
        for (Class<?> k : KernelRegistry.families().values()) {
            for (Method m : k.getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getReturnType() == void.class
                        && scanned.add(m) && !KernelScan.scan(m).isEmpty()) {
                    refused.put(k.getSimpleName() + "." + m.getName(), KernelScan.scan(m));
                }
            }
        }
        assertTrue(scanned.size() > 60, "kernel methods scanned: " + scanned.size());
        if (!refused.isEmpty()) {
            fail(refused.size() + " built-in kernels refused: " + refused);
        }
    }

    @Test
    void mathRandomIsRefusedWithTheCallAndItsLine() throws IOException {
        KernelScan.Finding f = findingAt("random", "random", "calls java.lang.Math.random()");
        assertEquals("RefusedKernels.random", f.method());
        assertEquals(1, KernelScan.scan(kernel("random")).size(), KernelScan.scan(kernel("random")).toString());
    }

    @Test
    void theRefusalNamesTheKernelTheDeviceThePhaseAndTheLine() throws IOException {
        UnsupportedKernelException e = assertThrows(UnsupportedKernelException.class,
                () -> KernelScan.check("'refused.random'", kernel("random"), "tornado:0 (a test device)"));
        assertEquals(DeviceException.Phase.COMPILE, e.phase());
        assertEquals("tornado:0 (a test device)", e.device());
        assertTrue(e.getMessage().startsWith("compile of kernel 'refused.random' (RefusedKernels.random) on tornado:0 (a test device) failed:"
                + " Prism's kernel scan refused it before TornadoVM saw it: calls java.lang.Math.random(), which TornadoVM does not compile"
                + " at RefusedKernels.java:" + lineOf("random") + " (in RefusedKernels.random)."), e.getMessage());
        assertTrue(e.getMessage().contains("java.lang.Math's abs, acos, asin, atan, atan2, cos, exp, log, max, min, pow, signum, sin, sqrt,"
                + " tan, tanh, toRadians"), e.getMessage());
    }

    @Test
    void directRecursionIsRefused() throws IOException {
        findingAt("selfRecursive", "self", "recursion: RefusedKernels.selfRecursive → RefusedKernels.selfRecursive");
    }

    @Test
    void recursionThroughHelpersIsRefusedWithTheCycle() throws IOException {
        KernelScan.Finding f = findingAt("throughHelpers", "pong", "recursion: RefusedKernels.ping → RefusedKernels.pong → RefusedKernels.ping");
        assertEquals("RefusedKernels.pong", f.method());
    }

    @Test
    void allocationIsRefused() throws IOException {
        findingAt("allocates", "allocation", "allocates new float[]");
    }

    @Test
    void throwingIsRefused() throws IOException {
        findingAt("throwsOnBadSize", "throw", "throws an exception (athrow)");
        findingAt("throwsOnBadSize", "throw", "allocates new java.lang.IllegalStateException");
    }

    @Test
    void synchronisationIsRefused() throws IOException {
        findingAt("synchronizedKernel", "synchronized", "is a synchronized method");
        findingAt("monitor", "monitor", "synchronizes (monitorenter)");
    }

    @Test
    void staticStateIsRefusedButFinalPrimitiveConstantsAreNot() throws IOException {
        findingAt("staticState", "table", "reads static field dev.prism.backend.RefusedKernels.TABLE, which is not a final primitive");
        findingAt("staticState", "counter", "reads static field dev.prism.backend.RefusedKernels.counter");
        findingAt("staticState", "counter", "writes static field dev.prism.backend.RefusedKernels.counter");
    }

    @Test
    void callsOutsideTheKernelClassesAndObjectCallsAreRefused() throws IOException {
        findingAt("outside", "outside", "calls java.lang.System.nanoTime(), outside the kernel's class RefusedKernels");
        findingAt("virtual", "virtual", "calls java.lang.Float.floatValue() (invokevirtual: a method of an object)");
        findingAt("lambda", "lambda", "uses invokedynamic run");
    }

    @Test
    void helpersOfTheKernelClassesMathAndFinalConstantsAreAllowed() {
        assertEquals(List.of(), KernelScan.scan(kernel("allowed")));
        assertEquals(List.of(), KernelScan.scan(kernel("strided")), "the scan does not judge loops: TornadoVM does");
    }

    /** The java.lang.Math methods MathKernels calls, as name + descriptor. */
    private static Set<String> mathCallsOf(Class<?> c) throws IOException {
        ClassModel cm;
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            cm = ClassFile.of().parse(in.readAllBytes());
        }
        Set<String> calls = new TreeSet<>();
        for (MethodModel mm : cm.methods()) {
            mm.code().ifPresent(code -> code.forEach(e -> {
                if (e instanceof InvokeInstruction inv && inv.owner().asInternalName().equals("java/lang/Math")) {
                    calls.add(inv.name().stringValue() + inv.type().stringValue());
                }
            }));
        }
        return calls;
    }

    @Test
    void theAllowedMathMethodsAreExactlyTheOnesTestedOnTheDevice() throws IOException {
        // TornadoBackendTest runs every MathKernels kernel on the device; the allow-list may hold no more.
        assertEquals(new TreeSet<>(KernelScan.MATH), mathCallsOf(MathKernels.class));
        for (Method m : MathKernels.class.getMethods()) {
            if (m.getDeclaringClass() == MathKernels.class) {
                assertEquals(List.of(), KernelScan.scan(m), m.getName());
            }
        }
    }
}
