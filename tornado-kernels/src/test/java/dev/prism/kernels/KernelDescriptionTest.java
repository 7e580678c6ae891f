package dev.prism.kernels;

import dev.prism.backend.Launch;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.constant.ClassDesc;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel's argument list is written once, in its {@link Kernel} description's {@code with(...)},
 * and fits its kernel method; checked from the class files of the launch factories, so a factory whose
 * arguments drift from its kernel fails here even if no other test calls it (the device backend hands
 * those arguments to TornadoVM, which would otherwise be the first to notice).
 *
 * <p>Families whose factories are still being rewritten to descriptions are listed in
 * {@link #PENDING}; a pending family that has been converted fails here until it is taken off the list.
 */
class KernelDescriptionTest {
    /** Families whose factories still build their launches by hand, and those factory classes. */
    private static final Map<String, String> PENDING = Map.of();

    /** The classes that make launches: the description API itself, and the record. */
    private static final Set<String> LAUNCH_MAKERS = Set.of(
            "dev.prism.kernels.Kernel", "dev.prism.kernels.LaneCode", "dev.prism.backend.Launch");

    private static List<FactoryScan.Scan> main;

    @BeforeAll
    static void scanMainClasses() {
        KernelRegistry.register("described", DescribedKernels.class);
        main = FactoryScan.classesBeside(Kernel.class).stream().map(FactoryScan::scan).toList();
    }

    /** The kernel methods of the families in the main code: public static void methods with @Parallel loops. */
    private static Map<String, Method> kernelMethods() throws IOException {
        Map<String, Method> kernels = new TreeMap<>();
        Object mainCode = Kernel.class.getProtectionDomain().getCodeSource().getLocation();
        for (Map.Entry<String, Class<?>> f : KernelRegistry.families().entrySet()) {
            // families registered by tests (described, math, ...) are described in those tests
            if (!f.getValue().getProtectionDomain().getCodeSource().getLocation().equals(mainCode)) {
                continue;
            }
            for (Method m : f.getValue().getDeclaredMethods()) {
                if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers())
                        && KernelClassTest.parallelLoops(m) > 0) {
                    kernels.put(f.getKey() + "." + m.getName(), m);
                }
            }
        }
        return kernels;
    }

    /**
     * OpenCL C's built-in math and common functions (OpenCL 1.2 §6.12.2, §6.12.4, §6.12.5): TornadoVM names the
     * OpenCL kernel after its Java method, and a kernel named like one of these fails to build on PoCL
     * (clCreateKernel: CL_INVALID_KERNEL_NAME, then a crash in the launch), as {@code activation.tanh} did.
     */
    private static final Set<String> OPENCL_BUILTINS = Set.of("acos", "acosh", "acospi", "asin", "asinh", "asinpi", "atan", "atan2",
            "atanh", "atanpi", "atan2pi", "cbrt", "ceil", "copysign", "cos", "cosh", "cospi", "erfc", "erf", "exp", "exp2", "exp10",
            "expm1", "fabs", "fdim", "floor", "fma", "fmax", "fmin", "fmod", "fract", "frexp", "hypot", "ilogb", "ldexp", "lgamma",
            "log", "log2", "log10", "log1p", "logb", "mad", "maxmag", "minmag", "modf", "nan", "nextafter", "pow", "pown", "powr",
            "remainder", "remquo", "rint", "rootn", "round", "rsqrt", "sin", "sincos", "sinh", "sinpi", "sqrt", "tan", "tanh", "tanpi",
            "tgamma", "trunc", "abs", "clamp", "degrees", "max", "min", "mix", "radians", "step", "smoothstep", "sign", "cross", "dot",
            "distance", "length", "normalize", "select", "bitselect", "shuffle", "shuffle2", "any", "all", "isnan", "isinf",
            "barrier", "upsample", "rotate", "popcount", "clz", "mul24", "mad24", "hadd", "rhadd", "add_sat", "sub_sat", "abs_diff");

    @Test
    void noKernelMethodIsNamedLikeAnOpenClBuiltin() throws IOException {
        List<String> clashes = new ArrayList<>();
        for (Map.Entry<String, Method> k : kernelMethods().entrySet()) {
            if (OPENCL_BUILTINS.contains(k.getValue().getName())) {
                clashes.add(k.getKey() + " (" + k.getValue().getDeclaringClass().getSimpleName() + "." + k.getValue().getName() + ")");
            }
        }
        assertEquals(List.of(), clashes, "kernel methods named like an OpenCL C built-in: rename them");
    }

    @Test
    void everyKernelMethodOfEveryFamilyIsDescribedExactlyOnce() throws IOException {
        Map<String, List<String>> sites = new HashMap<>();
        for (FactoryScan.Scan s : main) {
            for (FactoryScan.Description d : s.descriptions()) {
                sites.computeIfAbsent(d.name(), k -> new ArrayList<>()).add(d.where());
            }
        }
        Map<String, Method> kernels = kernelMethods();
        Map<String, String> problems = new TreeMap<>();
        for (String name : kernels.keySet()) {
            List<String> at = sites.getOrDefault(name, List.of());
            boolean pending = PENDING.containsKey(name.substring(0, name.indexOf('.')));
            if (pending && !at.isEmpty()) {
                problems.put(name, "described at " + at + " but its family is listed as pending: take it off PENDING");
            } else if (!pending && at.size() != 1) {
                problems.put(name, at.isEmpty() ? "not described (no Kernel.of(\"" + name + "\", ...) in any factory)"
                        : "described " + at.size() + " times, at " + at);
            }
        }
        for (String name : sites.keySet()) {
            if (!kernels.containsKey(name)) {
                problems.put(name, "described at " + sites.get(name) + " but is no kernel method of a registered family");
            }
        }
        assertTrue(problems.isEmpty(), problems.size() + " kernels: " + problems);
        assertTrue(kernels.size() > 50, "kernel methods found: " + kernels.size());
    }

    @Test
    void everyDescriptionHasOneLoopIndexPerParallelLoopAndAVariantThatFits() throws IOException, ClassNotFoundException {
        Map<String, String> problems = new TreeMap<>();
        int checked = 0;
        for (FactoryScan.Scan s : main) {
            if (s.descriptions().isEmpty()) {
                continue;
            }
            Class.forName(s.className(), true, getClass().getClassLoader()); // makes its descriptions
            for (FactoryScan.Description d : s.descriptions()) {
                Kernel k = Kernel.described().get(d.name());
                int loops = KernelClassTest.parallelLoops(k.method());
                if (k.dims() != loops) {
                    problems.put(d.name(), "helper " + k.helper().getName() + " takes " + k.dims() + " loop indices, the kernel has "
                            + loops + " @Parallel loops");
                }
                if (k.variantName() != null) {
                    try {
                        k.variant();
                    } catch (IllegalStateException e) {
                        problems.put(d.name(), e.getMessage());
                    }
                }
                checked++;
            }
        }
        assertTrue(problems.isEmpty(), problems.size() + " descriptions: " + problems);
        assertTrue(checked > 50, "descriptions checked: " + checked);
    }

    /** One line per {@code with(...)} whose arguments do not match its kernel method's parameters. */
    private static List<String> argumentProblems(List<FactoryScan.Call> calls) {
        List<String> problems = new ArrayList<>();
        for (FactoryScan.Call c : calls) {
            if (c.problem() != null) {
                problems.add(c.where() + ": " + c.problem());
                continue;
            }
            Kernel k = FactoryScan.kernelOf(c);
            List<String> expected = Arrays.stream(k.method().getParameterTypes()).map(t -> t.descriptorString()).toList();
            if (!expected.equals(c.argTypes())) {
                problems.add(c.where() + ": " + k.name() + " takes " + names(expected) + ", with() passes " + names(c.argTypes()));
            }
        }
        return problems;
    }

    private static List<String> names(List<String> descriptors) {
        return descriptors.stream().map(d -> d == null ? "?" : ClassDesc.ofDescriptor(d).displayName()).toList();
    }

    @Test
    void everyArgumentListMatchesItsKernelMethodsParameters() {
        List<FactoryScan.Call> calls = main.stream().flatMap(s -> s.calls().stream()).toList();
        List<String> problems = argumentProblems(calls);
        assertTrue(problems.isEmpty(), problems.size() + " argument lists: " + problems);
        assertTrue(calls.size() > 45, "with() calls found: " + calls.size());
    }

    @Test
    void anArgumentListThatDriftedFromItsKernelFails() {
        List<String> problems = argumentProblems(FactoryScan.scan(DriftedFactories.class.getName()).calls());
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).matches("DriftedFactories.java:\\d+: described.flat takes \\[float\\[\\], float\\[\\], int, float\\],"
                + " with\\(\\) passes \\[float\\[\\], float\\[\\], int\\]"), problems.get(0));
        assertTrue(problems.get(1).endsWith("described.flat takes [float[], float[], int, float], with() passes [float[], float[], float, int]"),
                problems.get(1));
    }

    @Test
    void noFactoryMakesALaunchByHand() {
        Map<String, List<String>> byHand = new TreeMap<>();
        Set<String> pendingStillByHand = new TreeSet<>();
        for (FactoryScan.Scan s : main) {
            String top = s.className().contains("$") ? s.className().substring(0, s.className().indexOf('$')) : s.className();
            if (LAUNCH_MAKERS.contains(top) || s.handMadeLaunches().isEmpty()) {
                continue;
            }
            if (PENDING.containsValue(top)) {
                pendingStillByHand.add(top);
            } else {
                byHand.put(s.className(), s.handMadeLaunches());
            }
        }
        assertTrue(byHand.isEmpty(), "launches made by hand instead of by a Kernel description: " + byHand);
        assertEquals(new TreeSet<>(PENDING.values()), pendingStillByHand,
                "a pending factory that no longer makes launches by hand: take it off PENDING");
        List<String> drifted = FactoryScan.scan(DriftedFactories.class.getName()).handMadeLaunches();
        assertEquals(1, drifted.size(), drifted.toString());
        assertTrue(drifted.getFirst().endsWith(": new Launch"), drifted.toString());
    }
}
