package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.classfile.Attributes;
import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.attribute.LocalVariableInfo;
import java.lang.classfile.attribute.LineNumberInfo;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.lang.reflect.Field;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads what the launch factories do from their class files, without running them: which kernels they
 * describe ({@code Kernel.of("family.method", "helper")}), the argument list of every
 * {@code KERNEL.with(...)} they write (count and the static type of each argument), and whether they
 * make a {@link Launch} by hand. A drifted argument list is thereby found even in a factory no test
 * happens to call.
 *
 * <p>An argument's type is read from the instruction that produced it: a boxing call
 * ({@code Integer.valueOf(int)} is an {@code int}), a local variable (its type from the local variable
 * table), a field, a method's result or a cast. {@code with} must be called on a {@code static final
 * Kernel} field and given its arguments one by one; anything else is reported as unreadable.
 */
final class FactoryScan {
    private static final ClassDesc KERNEL = ClassDesc.of(Kernel.class.getName());
    private static final ClassDesc LAUNCH = ClassDesc.of(Launch.class.getName());

    private FactoryScan() {
    }

    /** A {@code Kernel.of(name, helper)} in {@code where} (Class.java:line). */
    record Description(String name, String helper, String where) {
    }

    /**
     * A {@code with(...)} on the kernel held by {@code field} of {@code owner}, with the argument
     * descriptors in order; {@code problem} is non-null when the call could not be read.
     */
    record Call(String owner, String field, List<String> argTypes, String where, String problem) {
    }

    /** What one class does. */
    record Scan(String className, List<Description> descriptions, List<Call> calls, List<String> handMadeLaunches) {
    }

    /** The class files of package {@code dev.prism.kernels} and its subpackages where {@code anchor} was loaded from. */
    static List<String> classesBeside(Class<?> anchor) {
        Path root;
        try {
            root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        String pkg = anchor.getPackageName().replace('.', '/');
        try {
            if (Files.isDirectory(root)) {
                return list(root, root.resolve(pkg));
            }
            try (FileSystem jar = FileSystems.newFileSystem(root)) {
                Path top = jar.getPath("/");
                return list(top, top.resolve(pkg));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> list(Path root, Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".class"))
                    .map(p -> root.relativize(p).toString().replace('\\', '/'))
                    .map(s -> s.substring(0, s.length() - ".class".length()).replace('/', '.'))
                    .sorted().toList();
        }
    }

    static Scan scan(String className) {
        ClassModel cm;
        try (InputStream in = FactoryScan.class.getClassLoader().getResourceAsStream(className.replace('.', '/') + ".class")) {
            if (in == null) {
                throw new IllegalStateException("no class file for " + className);
            }
            cm = ClassFile.of().parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String file = cm.findAttribute(Attributes.sourceFile()).map(a -> a.sourceFile().stringValue()).orElse(className);
        List<Description> descriptions = new ArrayList<>();
        List<Call> calls = new ArrayList<>();
        List<String> handMade = new ArrayList<>();
        for (MethodModel mm : cm.methods()) {
            mm.code().ifPresent(code -> scanCode(code, file, descriptions, calls, handMade));
        }
        return new Scan(className, descriptions, calls, handMade);
    }

    private static void scanCode(CodeModel code, String file, List<Description> descriptions, List<Call> calls, List<String> handMade) {
        List<LocalVariableInfo> locals = code.findAttribute(Attributes.localVariableTable())
                .map(a -> a.localVariables()).orElse(List.of());
        List<LineNumberInfo> lines = code.findAttribute(Attributes.lineNumberTable())
                .map(a -> a.lineNumbers()).orElse(List.of());
        List<Instruction> ins = new ArrayList<>();
        List<Integer> bcis = new ArrayList<>();
        int bci = 0;
        for (CodeElement e : code) {
            if (e instanceof Instruction i) {
                ins.add(i);
                bcis.add(bci);
                bci += i.sizeInBytes();
            }
        }
        FieldInstruction kernelField = null;
        List<String> args = null;
        String problem = null;
        for (int k = 0; k < ins.size(); k++) {
            Instruction i = ins.get(k);
            String where = file + ":" + line(lines, bcis.get(k));
            if (i instanceof InvokeInstruction inv && inv.owner().asSymbol().equals(KERNEL) && inv.name().equalsString("of")
                    && inv.opcode() == Opcode.INVOKESTATIC) {
                descriptions.add(new Description(string(ins, k - 2), string(ins, k - 1), where));
            } else if (i instanceof FieldInstruction f && f.opcode() == Opcode.GETSTATIC && f.typeSymbol().equals(KERNEL)) {
                kernelField = f;
                args = null;
                problem = null;
            } else if (i instanceof NewReferenceArrayInstruction) {
                if (args != null) {
                    problem = "an array built inside the argument list";
                } else {
                    args = new ArrayList<>();
                }
            } else if (i.opcode() == Opcode.AASTORE && args != null) {
                String type = typeOf(ins.get(k - 1), bcis.get(k - 1), locals);
                if (type == null) {
                    problem = "argument " + args.size() + " is an expression whose type this scan cannot read (pass a local)";
                }
                args.add(type);
            } else if (i instanceof InvokeInstruction inv && inv.owner().asSymbol().equals(KERNEL) && inv.name().equalsString("with")) {
                if (kernelField == null) {
                    calls.add(new Call(null, null, List.of(), where, "with() on a Kernel that is not read from a static field"));
                } else if (args == null) {
                    calls.add(new Call(kernelField.owner().asInternalName().replace('/', '.'), kernelField.name().stringValue(), List.of(),
                            where, "the arguments are not given to with() one by one"));
                } else {
                    calls.add(new Call(kernelField.owner().asInternalName().replace('/', '.'), kernelField.name().stringValue(),
                            List.copyOf(args), where, problem));
                }
                kernelField = null;
                args = null;
                problem = null;
            } else if (i instanceof NewObjectInstruction n && n.className().asSymbol().equals(LAUNCH)) {
                handMade.add(where + ": new Launch");
            } else if (i instanceof InvokeInstruction inv && inv.owner().asSymbol().equals(LAUNCH)
                    && inv.name().stringValue().startsWith("with")) {
                handMade.add(where + ": Launch." + inv.name().stringValue());
            }
        }
    }

    /** The descriptor of the value {@code i} pushes, or null when it cannot be read from {@code i} alone. */
    private static String typeOf(Instruction i, int bci, List<LocalVariableInfo> locals) {
        return switch (i) {
            case InvokeInstruction inv when inv.opcode() == Opcode.INVOKESTATIC && inv.name().equalsString("valueOf")
                    && inv.typeSymbol().parameterCount() == 1 && inv.owner().asInternalName().startsWith("java/lang/") ->
                    inv.typeSymbol().parameterType(0).descriptorString();
            case InvokeInstruction inv -> inv.typeSymbol().returnType().descriptorString();
            case LoadInstruction load -> locals.stream()
                    .filter(v -> v.slot() == load.slot() && v.startPc() <= bci && bci < v.startPc() + v.length())
                    .map(v -> v.typeSymbol().descriptorString()).findFirst().orElse(null);
            case FieldInstruction f -> f.typeSymbol().descriptorString();
            case TypeCheckInstruction t when t.opcode() == Opcode.CHECKCAST -> t.type().asSymbol().descriptorString();
            default -> null;
        };
    }

    private static String string(List<Instruction> ins, int k) {
        if (k >= 0 && ins.get(k) instanceof ConstantInstruction c && c.constantValue() instanceof String s) {
            return s;
        }
        return null;
    }

    private static int line(List<LineNumberInfo> lines, int bci) {
        int best = -1;
        int at = -1;
        for (LineNumberInfo l : lines) {
            if (l.startPc() <= bci && l.startPc() > at) {
                at = l.startPc();
                best = l.lineNumber();
            }
        }
        return best;
    }

    /** The kernel a {@link Call} launches: the value of its static field. */
    static Kernel kernelOf(Call call) {
        try {
            Field f = Class.forName(call.owner(), true, FactoryScan.class.getClassLoader()).getDeclaredField(call.field());
            f.setAccessible(true);
            return (Kernel) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read " + call.owner() + "." + call.field(), e);
        }
    }
}
