package dev.prism.backend;

import dev.prism.kernels.KernelRegistry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.FieldModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.instruction.ExceptionCatch;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LineNumber;
import java.lang.classfile.instruction.MonitorInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.ThrowInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.lang.reflect.AccessFlag;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Checks a kernel's bytecode for what TornadoVM cannot compile, before the kernel is handed to it.
 *
 * <p>TornadoVM meets such constructs late and badly: {@code Math.random()} ends in a
 * {@code NullPointerException} inside its compiler that names no kernel, and recursion through helpers
 * can deadlock its sketcher so that the process hangs. This scan reads the kernel method's class file
 * with the JDK's Class-File API, follows the static calls it makes into its own class (and into the
 * other registered kernel classes and the shared helper classes such as {@code Sums}, whose helpers
 * kernels share), and reports, with the source line:
 * <ul>
 *   <li>recursion, direct or through helpers;</li>
 *   <li>calls to any other method: outside the kernel classes, only the {@link #MATH java.lang.Math
 *       methods} that TornadoVM compiles to device math are allowed (no virtual or interface calls, no
 *       {@code invokedynamic}: lambdas and string concatenation);</li>
 *   <li>allocation ({@code new}, arrays of any kind);</li>
 *   <li>exceptions ({@code athrow}, catch blocks);</li>
 *   <li>synchronisation (synchronized methods, {@code monitorenter});</li>
 *   <li>static state: writes to static fields, and reads of static fields that are not final
 *       primitives (a static array is state the device never sees); object fields and type checks.</li>
 * </ul>
 * Results are cached per method.
 */
public final class KernelScan {
    /**
     * The {@code java.lang.Math} methods (name and descriptor) a kernel may call. Each one is compiled by
     * TornadoVM's OpenCL backend and matches the JVM on PoCL's CPU device
     * ({@code TornadoBackendTest.everyMathMethodTheScanAllowsRunsOnTheDeviceAndMatchesTheJvm}). Tried there
     * and left out because TornadoVM 5.2 could not compile them: {@code abs} of int and long, {@code floor},
     * {@code ceil}, {@code rint}, {@code round}, {@code copySign}, {@code fma}, {@code log10},
     * {@code log1p}, {@code expm1}, {@code cbrt}, {@code hypot}, {@code sinh}, {@code cosh},
     * {@code random}.
     */
    public static final Set<String> MATH = Set.of(
            "abs(F)F", "abs(D)D",
            "min(FF)F", "min(DD)D", "min(II)I", "min(JJ)J",
            "max(FF)F", "max(DD)D", "max(II)I", "max(JJ)J",
            "sqrt(D)D", "exp(D)D", "log(D)D", "pow(DD)D",
            "sin(D)D", "cos(D)D", "tan(D)D", "asin(D)D", "acos(D)D", "atan(D)D", "atan2(DD)D", "tanh(D)D",
            "signum(F)F", "signum(D)D", "toRadians(D)D");

    private static final String MATH_OWNER = "java/lang/Math";
    private static final Map<Method, List<Finding>> CACHE = new ConcurrentHashMap<>();

    private KernelScan() {
    }

    /**
     * One construct TornadoVM cannot compile.
     *
     * @param method the method it is in, {@code Class.method}
     * @param what   the construct: the call, instruction or field
     * @param file   the source file, from the class file
     * @param line   the source line, or -1 when the class has no line numbers
     */
    public record Finding(String method, String what, String file, int line) {
        @Override
        public String toString() {
            return what + " at " + file + ":" + (line < 0 ? "?" : line) + " (in " + method + ")";
        }
    }

    /** What TornadoVM could not compile in {@code kernel} and the helpers it calls; empty when nothing. */
    public static List<Finding> scan(Method kernel) {
        return CACHE.computeIfAbsent(kernel, k -> new Walk(k.getDeclaringClass()).run(k));
    }

    /**
     * Refuses a kernel the scan finds fault with.
     *
     * @param kernel the kernel's name ({@code family.method})
     * @param device the device it was meant for, as {@code prism devices} names it
     * @throws UnsupportedKernelException naming the kernel, the device and every finding
     */
    public static void check(String kernel, Method method, String device) {
        List<Finding> found = scan(method);
        if (!found.isEmpty()) {
            throw new UnsupportedKernelException(kernel + " (" + method.getDeclaringClass().getSimpleName() + "." + method.getName() + ")",
                    device, found);
        }
    }

    /** The allowed {@code java.lang.Math} methods as a reader writes them: {@code abs, acos, ...}. */
    static String mathNames() {
        return MATH.stream().map(m -> m.substring(0, m.indexOf('('))).sorted().distinct().collect(Collectors.joining(", "));
    }

    /** A method in a class file: owner (internal name), name, descriptor. */
    private record Ref(String owner, String name, String descriptor) {
        String shortName() {
            return owner.substring(owner.lastIndexOf('/') + 1) + "." + name;
        }
    }

    /** One depth-first walk of the calls from a kernel method, with the path for finding cycles. */
    private static final class Walk {
        private final Class<?> kernelClass;
        private final Map<String, Class<?>> callable = new HashMap<>();
        private final Map<String, ClassModel> models = new HashMap<>();
        private final Set<Ref> done = new HashSet<>();
        private final LinkedHashMap<Ref, Integer> path = new LinkedHashMap<>();
        private final List<Finding> findings = new ArrayList<>();

        Walk(Class<?> kernelClass) {
            this.kernelClass = kernelClass;
            callable.put(internal(kernelClass), kernelClass);
            for (Class<?> c : KernelRegistry.families().values()) {
                callable.put(internal(c), c);
            }
            for (Class<?> c : KernelRegistry.sharedHelpers()) {
                callable.put(internal(c), c);
            }
        }

        List<Finding> run(Method kernel) {
            visit(new Ref(internal(kernel.getDeclaringClass()), kernel.getName(),
                    MethodTypeDesc.of(ClassDesc.ofDescriptor(kernel.getReturnType().descriptorString()),
                            java.util.Arrays.stream(kernel.getParameterTypes()).map(p -> ClassDesc.ofDescriptor(p.descriptorString())).toList())
                            .descriptorString()));
            return List.copyOf(findings);
        }

        private void visit(Ref ref) {
            if (!done.add(ref)) {
                return;
            }
            ClassModel cm = model(ref.owner());
            String file = cm.findAttribute(Attributes.sourceFile()).map(a -> a.sourceFile().stringValue())
                    .orElse(ref.owner().substring(ref.owner().lastIndexOf('/') + 1) + ".class");
            MethodModel mm = cm.methods().stream()
                    .filter(m -> m.methodName().equalsString(ref.name()) && m.methodType().equalsString(ref.descriptor()))
                    .findFirst().orElse(null);
            String where = ref.shortName();
            if (mm == null || mm.code().isEmpty()) {
                findings.add(new Finding(where, "calls " + where + ", which has no code in its class file", file, -1));
                return;
            }
            path.put(ref, 0);
            if (mm.flags().has(AccessFlag.SYNCHRONIZED)) {
                findings.add(new Finding(where, "is a synchronized method (synchronisation)", file, firstLine(mm.code().get())));
            }
            int line = -1;
            for (CodeElement e : mm.code().get()) {
                if (e instanceof LineNumber ln) {
                    line = ln.line();
                    continue;
                }
                String what = what(e);
                if (what != null) {
                    findings.add(new Finding(where, what, file, line));
                }
            }
            path.remove(ref);
        }

        /** What is wrong with one code element, or null; follows allowed calls. */
        private String what(CodeElement e) {
            return switch (e) {
                case InvokeInstruction inv -> call(inv);
                case InvokeDynamicInstruction indy -> "uses invokedynamic " + indy.name().stringValue()
                        + " (a lambda, method reference or string concatenation)";
                case NewObjectInstruction n -> "allocates new " + dotted(n.className().asInternalName());
                case NewPrimitiveArrayInstruction n -> "allocates new " + n.typeKind().upperBound().displayName() + "[] (allocation)";
                case NewReferenceArrayInstruction n -> "allocates new " + dotted(n.componentType().asInternalName()) + "[] (allocation)";
                case NewMultiArrayInstruction n -> "allocates new " + n.arrayType().asSymbol().displayName() + " (allocation)";
                case ThrowInstruction _ -> "throws an exception (athrow)";
                case ExceptionCatch _ -> "catches exceptions (a try block)";
                case MonitorInstruction m -> "synchronizes (" + m.opcode().name().toLowerCase(java.util.Locale.ROOT) + ")";
                case TypeCheckInstruction t -> "uses an object type check (" + t.opcode().name().toLowerCase(java.util.Locale.ROOT)
                        + " " + dotted(t.type().asInternalName()) + ")";
                case FieldInstruction f -> field(f);
                default -> null;
            };
        }

        private String call(InvokeInstruction inv) {
            Ref to = new Ref(inv.owner().asInternalName(), inv.name().stringValue(), inv.type().stringValue());
            String shown = describe(to);
            if (inv.opcode() != Opcode.INVOKESTATIC) {
                return "calls " + shown + " (" + inv.opcode().name().toLowerCase(java.util.Locale.ROOT) + ": a method of an object)";
            }
            if (to.owner().equals(MATH_OWNER)) {
                return MATH.contains(to.name() + to.descriptor()) ? null
                        : "calls " + shown + ", which TornadoVM does not compile";
            }
            if (!callable.containsKey(to.owner())) {
                return "calls " + shown + ", outside the kernel's class " + kernelClass.getSimpleName()
                        + (callable.size() > 1 ? " and the registered kernel classes" : "");
            }
            if (path.containsKey(to)) {
                List<Ref> cycle = new ArrayList<>(path.keySet());
                cycle = cycle.subList(cycle.indexOf(to), cycle.size());
                String chain = cycle.stream().map(Ref::shortName).collect(Collectors.joining(" → ")) + " → " + to.shortName();
                return "recursion: " + chain + " (device code has no call stack; TornadoVM's compiler can hang on it)";
            }
            visit(to);
            return null;
        }

        private String field(FieldInstruction f) {
            String name = dotted(f.owner().asInternalName()) + "." + f.name().stringValue();
            return switch (f.opcode()) {
                case PUTSTATIC -> "writes static field " + name + " (static state)";
                case GETSTATIC -> finalPrimitive(f) ? null : "reads static field " + name
                        + ", which is not a final primitive (static state the device does not see)";
                default -> "uses field " + name + " of an object";
            };
        }

        private boolean finalPrimitive(FieldInstruction f) {
            if (f.typeSymbol().isArray() || !f.typeSymbol().isPrimitive()) {
                return false;
            }
            String owner = f.owner().asInternalName();
            if (callable.containsKey(owner)) {
                for (FieldModel fm : model(owner).fields()) {
                    if (fm.fieldName().equalsString(f.name().stringValue())) {
                        return fm.flags().has(AccessFlag.STATIC) && fm.flags().has(AccessFlag.FINAL);
                    }
                }
                return false;
            }
            try {
                Field field = Class.forName(dotted(owner), false, kernelClass.getClassLoader()).getDeclaredField(f.name().stringValue());
                return Modifier.isStatic(field.getModifiers()) && Modifier.isFinal(field.getModifiers());
            } catch (ReflectiveOperationException | LinkageError e) {
                return false;
            }
        }

        private ClassModel model(String owner) {
            return models.computeIfAbsent(owner, o -> {
                Class<?> c = callable.get(o);
                String simple = c.getName().substring(c.getName().lastIndexOf('.') + 1);
                try (InputStream in = c.getResourceAsStream(simple + ".class")) {
                    if (in == null) {
                        throw new IllegalStateException("no class file for " + c.getName() + " on the class path; the kernel scan needs it");
                    }
                    return ClassFile.of().parse(in.readAllBytes());
                } catch (IOException ex) {
                    throw new UncheckedIOException("reading the class file of " + c.getName(), ex);
                }
            });
        }

        private static int firstLine(CodeModel code) {
            for (CodeElement e : code) {
                if (e instanceof LineNumber ln) {
                    return ln.line();
                }
            }
            return -1;
        }
    }

    private static String internal(Class<?> c) {
        return c.getName().replace('.', '/');
    }

    private static String dotted(String internal) {
        return internal.replace('/', '.');
    }

    /** {@code java.lang.Math.random()}, {@code dev.prism.kernels.X.f(float[], int)}. */
    private static String describe(Ref r) {
        MethodTypeDesc t = MethodTypeDesc.ofDescriptor(r.descriptor());
        return dotted(r.owner()) + "." + r.name() + t.parameterList().stream().map(ClassDesc::displayName)
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
