package dev.prism.kernels;

import dev.prism.backend.Lanes;

import java.lang.classfile.ClassFile;
import java.lang.classfile.CodeBuilder;
import java.lang.classfile.Label;
import java.lang.classfile.TypeKind;
import java.lang.constant.ClassDesc;
import java.lang.constant.ConstantDescs;
import java.lang.constant.MethodTypeDesc;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes the runnable forms of a {@link Kernel} launch from its argument list: small classes, one per
 * kernel method, helper or variant, generated once with the JDK's class-file API and defined as hidden
 * classes, whose instances hold the arguments in fields and call the method directly.
 *
 * <p>Why generated code rather than a lambda per factory or a method handle: the JVM backend calls a
 * helper once per lane, and a lane can be a single element ({@code out[i] = a[i] + b[i]}). A call
 * through a shared interface or a method handle would be megamorphic at that rate; a class per helper
 * gives each loop its own call site, which C2 inlines as it did the hand-written lambdas. The lane
 * decoding below is the only place that turns a lane number into loop indices.
 *
 * <p>The lane loop of a helper {@code h} over a grid {@code [g0, g1, g2]} (outermost first) is
 * <pre>
 * for (int l = from; l &lt; to; l++)
 *     1-D: h(args, l)
 *     2-D: h(args, l / g1, l % g1)
 *     3-D: h(args, l / (g1·g2), (l / g2) % g1, l % g2)
 * </pre>
 * the order of the kernel's own nested loops.
 */
final class LaneCode {
    private static final ClassDesc LANES = ClassDesc.of(Lanes.class.getName());
    private static final ClassDesc RUNNABLE = ClassDesc.of(Runnable.class.getName());
    private static final MethodTypeDesc RANGE = MethodTypeDesc.of(ConstantDescs.CD_void, ConstantDescs.CD_int, ConstantDescs.CD_int);
    private static final MethodTypeDesc NONE = MethodTypeDesc.of(ConstantDescs.CD_void);

    /** What a generated class does with its arguments. */
    private enum Shape { LOOPS, LANES, RANGE }

    private record Key(Method target, Shape shape) {
    }

    /** Constructors of the generated classes: (the target's leading arguments..., g1, g2). */
    private static final Map<Key, MethodHandle> MADE = new ConcurrentHashMap<>();

    private LaneCode() {
    }

    /** {@code kernel(args)} as a Runnable: the plain loops, on the calling thread. */
    static Runnable loops(Method kernel, Object[] args) {
        return (Runnable) instance(kernel, Shape.LOOPS, args, 0, 0);
    }

    /** Lanes {@code [from, to)} through {@code helper(args, indices...)}, decoded from {@code grid}. */
    static Lanes body(Method helper, Object[] args, int[] grid) {
        int g1 = grid.length > 1 ? grid[1] : 0;
        int g2 = grid.length > 2 ? grid[2] : 0;
        return (Lanes) instance(helper, Shape.LANES, args, g1, g2);
    }

    /** {@code variant(args, from, to)} as Lanes. */
    static Lanes range(Method variant, Object[] args) {
        return (Lanes) instance(variant, Shape.RANGE, args, 0, 0);
    }

    private static Object instance(Method target, Shape shape, Object[] args, int g1, int g2) {
        MethodHandle ctor = MADE.computeIfAbsent(new Key(target, shape), k -> define(k.target(), k.shape(), args.length));
        Object[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = g1;
        all[args.length + 1] = g2;
        try {
            return ctor.invokeWithArguments(all);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot bind the arguments of " + target, t);
        }
    }

    /** Defines the class for {@code target}, whose first {@code argc} parameters become fields. */
    private static MethodHandle define(Method target, Shape shape, int argc) {
        Class<?>[] params = target.getParameterTypes();
        int dims = params.length - argc;
        ClassDesc self = ClassDesc.of(LaneCode.class.getPackageName() + ".Lanes$" + target.getDeclaringClass().getSimpleName()
                + "$" + target.getName());
        ClassDesc owner = ClassDesc.of(target.getDeclaringClass().getName());
        MethodTypeDesc targetType = MethodType.methodType(void.class, params).describeConstable().orElseThrow();
        ClassDesc[] fieldTypes = new ClassDesc[argc + 2];
        for (int i = 0; i < argc; i++) {
            fieldTypes[i] = params[i].describeConstable().orElseThrow();
        }
        fieldTypes[argc] = ConstantDescs.CD_int;
        fieldTypes[argc + 1] = ConstantDescs.CD_int;

        byte[] bytes = ClassFile.of().build(self, cb -> {
            cb.withFlags(ClassFile.ACC_FINAL | ClassFile.ACC_SYNTHETIC);
            cb.withInterfaceSymbols(shape == Shape.LOOPS ? RUNNABLE : LANES);
            for (int i = 0; i < fieldTypes.length; i++) {
                cb.withField(field(i), fieldTypes[i], ClassFile.ACC_PRIVATE | ClassFile.ACC_FINAL);
            }
            cb.withMethodBody(ConstantDescs.INIT_NAME, MethodTypeDesc.of(ConstantDescs.CD_void, fieldTypes), ClassFile.ACC_PUBLIC, code -> {
                code.aload(0).invokespecial(ConstantDescs.CD_Object, ConstantDescs.INIT_NAME, ConstantDescs.MTD_void);
                int slot = 1;
                for (int i = 0; i < fieldTypes.length; i++) {
                    TypeKind kind = TypeKind.from(fieldTypes[i]);
                    code.aload(0).loadLocal(kind, slot).putfield(self, field(i), fieldTypes[i]);
                    slot += kind.slotSize();
                }
                code.return_();
            });
            if (shape == Shape.LOOPS) {
                cb.withMethodBody("run", NONE, ClassFile.ACC_PUBLIC, code -> {
                    pushArguments(code, self, fieldTypes, argc);
                    code.invokestatic(owner, target.getName(), targetType).return_();
                });
            } else if (shape == Shape.RANGE) {
                cb.withMethodBody("run", RANGE, ClassFile.ACC_PUBLIC, code -> {
                    pushArguments(code, self, fieldTypes, argc);
                    code.iload(1).iload(2).invokestatic(owner, target.getName(), targetType).return_();
                });
            } else {
                cb.withMethodBody("run", RANGE, ClassFile.ACC_PUBLIC, code -> laneLoop(code, self, fieldTypes, argc, dims, owner,
                        target.getName(), targetType));
            }
        });
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup().defineHiddenClass(bytes, true);
            Class<?>[] ctor = Arrays.copyOf(params, argc + 2);
            ctor[argc] = int.class;
            ctor[argc + 1] = int.class;
            return lookup.findConstructor(lookup.lookupClass(), MethodType.methodType(void.class, ctor));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot define the lane class of " + target, e);
        }
    }

    /** The loop of the class comment; locals: 0 this, 1 from, 2 to, 3 l, 4 g1, 5 g2. */
    private static void laneLoop(CodeBuilder code, ClassDesc self, ClassDesc[] fieldTypes, int argc, int dims,
                                 ClassDesc owner, String name, MethodTypeDesc type) {
        code.aload(0).getfield(self, field(argc), ConstantDescs.CD_int).istore(4);
        code.aload(0).getfield(self, field(argc + 1), ConstantDescs.CD_int).istore(5);
        code.iload(1).istore(3);
        Label top = code.newLabel();
        Label end = code.newLabel();
        code.labelBinding(top);
        code.iload(3).iload(2).if_icmpge(end);
        pushArguments(code, self, fieldTypes, argc);
        switch (dims) {
            case 1 -> code.iload(3);
            case 2 -> code.iload(3).iload(4).idiv()
                    .iload(3).iload(4).irem();
            default -> code.iload(3).iload(4).iload(5).imul().idiv()
                    .iload(3).iload(5).idiv().iload(4).irem()
                    .iload(3).iload(5).irem();
        }
        code.invokestatic(owner, name, type);
        code.iinc(3, 1).goto_(top);
        code.labelBinding(end);
        code.return_();
    }

    private static void pushArguments(CodeBuilder code, ClassDesc self, ClassDesc[] fieldTypes, int argc) {
        for (int i = 0; i < argc; i++) {
            code.aload(0).getfield(self, field(i), fieldTypes[i]);
        }
    }

    private static String field(int i) {
        return "a" + i;
    }
}
