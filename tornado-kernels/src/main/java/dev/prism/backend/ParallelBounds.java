package dev.prism.backend;

import dev.prism.kernels.Parallel;

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
import java.lang.classfile.TypeAnnotation;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.constant.ClassDesc;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads the bounds of a kernel's {@link Parallel} loops from its bytecode, to tell whether TornadoVM may run
 * it with an explicit worker grid.
 *
 * <p>Why it matters: when a task has a worker grid, TornadoVM 5.2's OpenCL compiler
 * ({@code TornadoTaskSpecialisation}) replaces every scalar parameter that is itself the bound of a parallel
 * loop, everywhere in the kernel, by the grid's global size of one dimension, numbering such parameters
 * 0, 1, 2 in the order of the parameter list, not in the order of the loops. A kernel written
 * {@code for (@Parallel p < n * c) for (@Parallel i < h)} has one such parameter, {@code h}, which becomes
 * the size of dimension 0 ({@code n·c}): the kernel then reads and writes out of bounds (a crash inside the
 * OpenCL driver) or silently computes something else. A grid is safe only when the k-th such parameter bounds
 * the k-th loop; a bound that is an expression ({@code n * c}, {@code g[OH]}) is left alone by TornadoVM.
 */
public final class ParallelBounds {
    private static final ClassDesc PARALLEL = ClassDesc.of(Parallel.class.getName());
    private static final Map<Method, Result> CACHE = new ConcurrentHashMap<>();

    private ParallelBounds() {
    }

    /**
     * One parallel loop, outermost first.
     *
     * @param variable  the loop variable's local slot
     * @param parameter the index of the parameter that is the whole bound, or −1 when the bound is an expression
     * @param line      the source line of the loop's test, or −1
     */
    public record Loop(int variable, int parameter, int line) {
    }

    /** The loops of a kernel, and why a worker grid would be wrong for it (empty when it is safe). */
    public record Result(List<Loop> loops, Optional<String> gridProblem) {
    }

    /** The parallel loops of {@code kernel} and whether a worker grid is safe for it. */
    public static Result of(Method kernel) {
        return CACHE.computeIfAbsent(kernel, ParallelBounds::read);
    }

    private static Result read(Method kernel) {
        CodeModel code = codeOf(kernel);
        Set<Integer> parallel = parallelSlots(code);
        Map<Integer, Integer> parameterOfSlot = parameterSlots(kernel);
        List<Instruction> ins = new ArrayList<>();
        Map<Instruction, Integer> lines = new HashMap<>();
        int line = -1;
        for (CodeElement e : code) {
            if (e instanceof java.lang.classfile.instruction.LineNumber ln) {
                line = ln.line();
            } else if (e instanceof Instruction i) {
                ins.add(i);
                lines.put(i, line);
            }
        }
        Map<Integer, Loop> loops = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (int k = 0; k < ins.size(); k++) {
            if (!(ins.get(k) instanceof LoadInstruction load) || !parallel.contains(load.slot()) || loops.containsKey(load.slot())) {
                continue;
            }
            // The loop's first read of its variable is javac's test at the top of the loop: iload i, the
            // bound's instructions, if_icmpge (or if_icmplt).
            int v = load.slot();
            int b = k + 1;
            List<Instruction> bound = new ArrayList<>();
            while (b < ins.size() && !(ins.get(b) instanceof BranchInstruction)) {
                bound.add(ins.get(b));
                b++;
            }
            Instruction test = b < ins.size() ? ins.get(b) : null;
            int at = lines.getOrDefault(load, -1);
            if (test == null || (test.opcode() != Opcode.IF_ICMPGE && test.opcode() != Opcode.IF_ICMPLT)) {
                problems.add("the parallel loop at line " + at + " is not of the form i < bound");
                loops.put(v, new Loop(v, -1, at));
                continue;
            }
            if (!startsAtZero(ins, k, v)) {
                problems.add("the parallel loop at line " + at + " does not start at 0");
            }
            int parameter = -1;
            if (bound.size() == 1 && bound.getFirst() instanceof LoadInstruction p && parameterOfSlot.containsKey(p.slot())) {
                parameter = parameterOfSlot.get(p.slot());
            }
            for (Instruction i : bound) {
                if (i.opcode() == Opcode.ARRAYLENGTH) {
                    problems.add("the parallel loop at line " + at + " is bounded by an array's length");
                }
            }
            loops.put(v, new Loop(v, parameter, at));
        }
        List<Loop> ordered = List.copyOf(loops.values());
        // TornadoVM numbers the parameters that are whole bounds in parameter order; the k-th must bound loop k.
        List<Integer> direct = new ArrayList<>();
        for (Loop l : ordered) {
            if (l.parameter() >= 0) {
                direct.add(l.parameter());
            }
        }
        if (new HashSet<>(direct).size() != direct.size()) {
            problems.add("one parameter bounds two parallel loops");
        }
        List<Integer> sorted = direct.stream().sorted().toList();
        for (int d = 0; d < ordered.size(); d++) {
            int p = ordered.get(d).parameter();
            if (p >= 0) {
                int number = sorted.indexOf(p);
                if (number != d) {
                    problems.add("parameter " + p + " bounds parallel loop " + d + " (line " + ordered.get(d).line()
                            + ") but TornadoVM would give it the grid's size of dimension " + number);
                }
            }
        }
        return new Result(ordered, problems.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", problems)));
    }

    /** Whether the store just before the loop's test sets the variable to the constant 0. */
    private static boolean startsAtZero(List<Instruction> ins, int test, int slot) {
        for (int k = test - 1; k >= 1; k--) {
            if (ins.get(k) instanceof StoreInstruction s && s.slot() == slot) {
                return ins.get(k - 1) instanceof ConstantInstruction c && c.constantValue() instanceof Integer z && z == 0;
            }
            if (ins.get(k) instanceof IncrementInstruction inc && inc.slot() == slot) {
                return false;
            }
        }
        return false;
    }

    private static Set<Integer> parallelSlots(CodeModel code) {
        Set<Integer> slots = new HashSet<>();
        code.findAttribute(Attributes.runtimeVisibleTypeAnnotations()).ifPresent(a -> {
            for (TypeAnnotation t : a.annotations()) {
                if (t.annotation().classSymbol().equals(PARALLEL) && t.targetInfo() instanceof TypeAnnotation.LocalVarTarget lv) {
                    for (TypeAnnotation.LocalVarTargetInfo i : lv.table()) {
                        slots.add(i.index());
                    }
                }
            }
        });
        return slots;
    }

    /** Local slot of each int parameter of a static method → its parameter index. */
    private static Map<Integer, Integer> parameterSlots(Method m) {
        Map<Integer, Integer> out = new HashMap<>();
        int slot = 0;
        Class<?>[] types = m.getParameterTypes();
        for (int i = 0; i < types.length; i++) {
            if (types[i] == int.class) {
                out.put(slot, i);
            }
            slot += types[i] == long.class || types[i] == double.class ? 2 : 1;
        }
        return out;
    }

    private static CodeModel codeOf(Method m) {
        Class<?> c = m.getDeclaringClass();
        String simple = c.getName().substring(c.getName().lastIndexOf('.') + 1);
        ClassModel cm;
        try (InputStream in = c.getResourceAsStream(simple + ".class")) {
            if (in == null) {
                throw new IllegalStateException("no class file for " + c.getName());
            }
            cm = ClassFile.of().parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading the class file of " + c.getName(), e);
        }
        String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes()).toMethodDescriptorString();
        for (MethodModel mm : cm.methods()) {
            if (mm.methodName().stringValue().equals(m.getName()) && mm.methodType().stringValue().equals(descriptor)) {
                return mm.code().orElseThrow(() -> new IllegalStateException(m + " has no code"));
            }
        }
        throw new IllegalStateException("no method " + m + " in its class file");
    }
}
