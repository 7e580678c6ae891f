package dev.prism.kernels;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps a launch's kernel name, {@code family.method}, to the kernel method it runs: the static method
 * {@code method} of the family's kernel class. A device backend compiles that method; the JVM backend
 * never needs it. A new kernel class is registered in {@link #FAMILIES}.
 */
public final class KernelRegistry {
    private static final Map<String, Class<?>> BUILT_IN = Map.ofEntries(
            Map.entry("activation", ActivationKernels.class),
            Map.entry("approx", ApproxKernels.class),
            Map.entry("attention", AttentionKernels.class),
            Map.entry("concat", ConcatKernels.class),
            Map.entry("conv2d", Conv2dKernels.class),
            Map.entry("dct", DctKernels.class),
            Map.entry("dft", DftKernels.class),
            Map.entry("elementwise", ElementwiseKernels.class),
            Map.entry("embedding", EmbeddingKernels.class),
            Map.entry("gating", GatingKernels.class),
            Map.entry("gemm", GemmKernels.class),
            Map.entry("haar", HaarKernels.class),
            Map.entry("norm", NormKernels.class),
            Map.entry("prismconv", PrismConvKernels.class),
            Map.entry("resample", ResampleKernels.class),
            Map.entry("sampler", SamplerKernels.class),
            Map.entry("training", TrainingKernels.class));

    private static final Map<String, Class<?>> FAMILIES = new ConcurrentHashMap<>(BUILT_IN);
    private static final Map<String, Method> METHODS = new ConcurrentHashMap<>();

    private KernelRegistry() {
    }

    /** The kernel classes, by family. */
    public static Map<String, Class<?>> families() {
        return Map.copyOf(FAMILIES);
    }

    /**
     * Classes of static helpers that kernels of several families call and TornadoVM inlines into them:
     * {@link Sums}, the long reductions in double. They hold no kernels of their own.
     */
    public static List<Class<?>> sharedHelpers() {
        return List.of(Sums.class);
    }

    /**
     * Registers a kernel class of one's own under {@code family}, so that launches named
     * {@code family.method} run its static methods on every backend. The class must follow the kernel
     * rules of docs/KERNELS.md (plain loops, {@code @Parallel}, compiled with {@code -g}).
     *
     * @throws IllegalArgumentException if the family is taken by another class or its name has a dot
     */
    public static void register(String family, Class<?> kernels) {
        if (family == null || family.isEmpty() || family.indexOf('.') >= 0) {
            throw new IllegalArgumentException("kernel family expected a non-empty name without '.', found '" + family + "'");
        }
        Class<?> before = FAMILIES.putIfAbsent(family, kernels);
        if (before != null && before != kernels) {
            throw new IllegalArgumentException("kernel family '" + family + "' is already " + before.getName());
        }
    }

    /**
     * The kernel method named by {@code kernel}, checked against the launch arguments.
     *
     * @throws IllegalStateException if the family is unknown, the method does not exist or is not a
     *                               unique {@code public static void} method, or an argument does not
     *                               fit its parameter — a defect in a launch factory, not bad input
     */
    public static Method resolve(String kernel, Object[] args) {
        Method m = METHODS.computeIfAbsent(kernel, KernelRegistry::find);
        Class<?>[] types = m.getParameterTypes();
        if (types.length != args.length) {
            throw new IllegalStateException(kernel + ": " + m + " takes " + types.length + " arguments, the launch passes " + args.length);
        }
        for (int i = 0; i < types.length; i++) {
            if (!fits(types[i], args[i])) {
                throw new IllegalStateException(kernel + ": argument " + i + " of " + m + " is " + types[i].getSimpleName()
                        + ", the launch passes " + (args[i] == null ? "null" : args[i].getClass().getSimpleName()));
            }
        }
        return m;
    }

    /**
     * The kernel method named by {@code kernel} ({@code family.method}).
     *
     * @throws IllegalStateException if the family is unknown or the method is not a unique
     *                               {@code public static void} method of its class
     */
    public static Method method(String kernel) {
        return METHODS.computeIfAbsent(kernel, KernelRegistry::find);
    }

    private static Method find(String kernel) {
        int dot = kernel.indexOf('.');
        Class<?> owner = dot < 0 ? null : FAMILIES.get(kernel.substring(0, dot));
        if (owner == null) {
            throw new IllegalStateException("kernel '" + kernel + "': expected family.method with a family of " + new java.util.TreeSet<>(FAMILIES.keySet()));
        }
        String name = kernel.substring(dot + 1);
        Method found = null;
        for (Method m : owner.getMethods()) {
            if (m.getName().equals(name)) {
                if (found != null) {
                    throw new IllegalStateException("kernel '" + kernel + "': " + owner.getSimpleName() + " has two methods named " + name);
                }
                found = m;
            }
        }
        if (found == null || !Modifier.isStatic(found.getModifiers()) || found.getReturnType() != void.class) {
            throw new IllegalStateException("kernel '" + kernel + "': expected a public static void method " + name + " in " + owner.getName());
        }
        return found;
    }

    private static boolean fits(Class<?> type, Object arg) {
        if (type == int.class) {
            return arg instanceof Integer;
        }
        if (type == float.class) {
            return arg instanceof Float;
        }
        return arg != null && type.isInstance(arg);
    }
}
