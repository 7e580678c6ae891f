package dev.prism.kernels;

import dev.prism.backend.Lanes;
import dev.prism.backend.Launch;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one description of a kernel from which every {@link Launch} of it is made: the kernel method,
 * its per-lane helper and, optionally, a hand-vectorised variant of that helper.
 *
 * <p>A launch factory writes the kernel's argument list once, in {@link #with(Object...)}. From that
 * list come all three ways of running it: the list itself is {@link Launch#args()}, what a device
 * backend hands to TornadoVM; {@link Launch#loops()} calls the kernel method with it (the sequential
 * oracle); {@link Launch#body()} calls the per-lane helper with it followed by the lane's loop
 * indices, decoded from the grid in one place ({@link LaneCode}); {@link Launch#vector()} calls the
 * variant with it followed by a lane range. The signatures that makes possible are checked when the
 * description is made, by reflection:
 * <ul>
 *   <li>the kernel method: {@code public static void} in the family's class ({@link KernelRegistry});</li>
 *   <li>the lane helper: {@code static void}, in the same class, with the kernel's parameters followed by
 *       one {@code int} per parallel loop, outermost first ({@code dwt2Row(x, y, n, c, h, w, p, i)} for
 *       {@code dwt2(x, y, n, c, h, w)} with loops over {@code p} and {@code i});</li>
 *   <li>the variant: {@code static void}, in a class of the same package, with the kernel's parameters
 *       followed by {@code int from, int to}, the lane range it computes.</li>
 * </ul>
 * A variant class is named, not referenced, so that it loads only where the JVM backend runs it: the
 * variants use {@code jdk.incubator.vector}, which a JVM may lack.
 *
 * <p>Descriptions are made once per kernel, as constants of the launch factories:
 * <pre>
 * private static final Kernel DWT2 = Kernel.of("haar.dwt2", "dwt2Row");
 * ...
 * return DWT2.with(x, y, n, c, h, w).writes(1).grid(n * c, h / 2).launch(3L * size, 8L * size);
 * </pre>
 */
public final class Kernel {
    private static final Map<String, Kernel> DESCRIBED = new ConcurrentHashMap<>();

    private final String name;
    private final Method method;
    private final Method helper;
    private final int dims;
    private final String variantClass;
    private final String variantMethod;
    private volatile Method variant;

    private Kernel(String name, Method method, Method helper, String variantClass, String variantMethod) {
        this.name = name;
        this.method = method;
        this.helper = helper;
        this.dims = helper.getParameterCount() - method.getParameterCount();
        this.variantClass = variantClass;
        this.variantMethod = variantMethod;
    }

    /**
     * Describes kernel {@code name} ({@code family.method}) whose per-lane helper is the method
     * {@code helper} of the same class.
     *
     * @throws IllegalStateException if the kernel or the helper does not exist or their signatures do
     *                               not fit (see the class comment): a defect of the kernel class
     */
    public static Kernel of(String name, String helper) {
        Method m = KernelRegistry.method(name);
        Method h = find(m.getDeclaringClass(), helper, name);
        Class<?>[] kp = m.getParameterTypes();
        Class<?>[] hp = h.getParameterTypes();
        int dims = hp.length - kp.length;
        if (dims < 1 || dims > 3 || !Arrays.equals(kp, Arrays.copyOf(hp, kp.length)) || !allInts(hp, kp.length)) {
            throw new IllegalStateException(name + ": lane helper " + h.getName() + Arrays.toString(simpleNames(hp))
                    + " expected the kernel's parameters " + Arrays.toString(simpleNames(kp)) + " followed by 1 to 3 int loop indices");
        }
        return register(new Kernel(name, m, h, null, null));
    }

    /**
     * This kernel with a hand-vectorised variant: method {@code method} of class {@code className} (a
     * simple name, in the package of the kernel class), taking the kernel's parameters and
     * {@code int from, int to}. Its signature is checked when it is first resolved.
     */
    public Kernel vector(String className, String method) {
        Objects.requireNonNull(className, "className");
        Objects.requireNonNull(method, "method");
        if (variantClass != null) {
            throw new IllegalStateException(name + ": already has the variant " + variantClass + "." + variantMethod);
        }
        Kernel k = new Kernel(name, this.method, helper, className, method);
        DESCRIBED.put(name, k);
        return k;
    }

    private static Kernel register(Kernel k) {
        Kernel before = DESCRIBED.putIfAbsent(k.name, k);
        if (before != null && !before.helper.equals(k.helper)) {
            throw new IllegalStateException(k.name + ": described twice, with helpers " + before.helper.getName() + " and " + k.helper.getName());
        }
        return k;
    }

    /** The descriptions made so far in this JVM, by kernel name (those of loaded factory classes). */
    public static Map<String, Kernel> described() {
        return Map.copyOf(DESCRIBED);
    }

    public String name() {
        return name;
    }

    /** The kernel method (what TornadoVM compiles). */
    public Method method() {
        return method;
    }

    /** The per-lane helper. */
    public Method helper() {
        return helper;
    }

    /** The number of parallel loops: the grid's dimensions. */
    public int dims() {
        return dims;
    }

    /** {@code Class.method} of the variant, or null. */
    public String variantName() {
        return variantClass == null ? null : variantClass + "." + variantMethod;
    }

    /**
     * The variant method, resolved and checked now (this loads its class).
     *
     * @throws IllegalStateException if the kernel has no variant, or it does not exist or does not fit
     */
    public Method variant() {
        Method v = variant;
        if (v == null) {
            if (variantClass == null) {
                throw new IllegalStateException(name + " has no vectorised variant");
            }
            String pkg = method.getDeclaringClass().getPackageName();
            Class<?> owner;
            try {
                owner = Class.forName(pkg + "." + variantClass, false, method.getDeclaringClass().getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(name + ": variant class " + pkg + "." + variantClass + " not found", e);
            }
            v = find(owner, variantMethod, name);
            Class<?>[] kp = method.getParameterTypes();
            Class<?>[] vp = v.getParameterTypes();
            if (vp.length != kp.length + 2 || !Arrays.equals(kp, Arrays.copyOf(vp, kp.length)) || !allInts(vp, kp.length)) {
                throw new IllegalStateException(name + ": variant " + variantName() + Arrays.toString(simpleNames(vp))
                        + " expected the kernel's parameters " + Arrays.toString(simpleNames(kp)) + " followed by int from, int to");
            }
            variant = v;
        }
        return v;
    }

    /** Starts a launch with the kernel's arguments, in signature order (checked against it). */
    public Builder with(Object... args) {
        KernelRegistry.resolve(name, args);
        return new Builder(args.clone());
    }

    /** The rest of a launch: what it writes, its grid and its cost. */
    public final class Builder {
        private final Object[] args;
        private int[] writes = new int[0];
        private int[] grid;
        private float[][] owned = new float[0][];

        private Builder(Object[] args) {
            this.args = args;
        }

        /** Indices into the argument list of the arrays the kernel writes. */
        public Builder writes(int... indices) {
            this.writes = indices.clone();
            return this;
        }

        /** The lane count of each parallel loop, outermost first; one per loop. */
        public Builder grid(int... counts) {
            if (counts.length != dims) {
                throw new IllegalStateException(name + ": grid " + Arrays.toString(counts) + " expected " + dims
                        + " dimension(s), one per parallel loop of the lane helper " + helper.getName());
            }
            this.grid = counts.clone();
            return this;
        }

        /** Arrays the factory made itself and the kernel only reads (see {@link Launch#owned()}). */
        public Builder owned(float[]... arrays) {
            this.owned = arrays.clone();
            return this;
        }

        /**
         * The launch, with {@code flops} floating-point operations and {@code bytes} of compulsory
         * memory traffic (for rooflines).
         */
        public Launch launch(long flops, long bytes) {
            if (grid == null) {
                throw new IllegalStateException(name + ": no grid given");
            }
            long lanes = 1;
            for (int g : grid) {
                if (g < 0) {
                    throw new IllegalStateException(name + ": grid " + Arrays.toString(grid) + " has a negative count");
                }
                lanes *= g;
            }
            if (lanes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + ": " + lanes + " lanes, more than an int counts");
            }
            Runnable loops = LaneCode.loops(method, args);
            Lanes body = LaneCode.body(helper, args, grid);
            Lanes vector = variantClass != null && VectorWidth.modulePresent() ? LaneCode.range(variant(), args) : null;
            return new Launch(name, args, writes, (int) lanes, loops, body, flops, bytes, grid, owned, vector);
        }
    }

    private static Method find(Class<?> owner, String method, String kernel) {
        Method found = null;
        for (Method m : owner.getDeclaredMethods()) {
            if (m.getName().equals(method) && !m.isSynthetic()) {
                if (found != null) {
                    throw new IllegalStateException(kernel + ": " + owner.getSimpleName() + " has two methods named " + method);
                }
                found = m;
            }
        }
        if (found == null || !Modifier.isStatic(found.getModifiers()) || found.getReturnType() != void.class
                || Modifier.isPrivate(found.getModifiers())) {
            throw new IllegalStateException(kernel + ": expected a non-private static void method " + method + " in " + owner.getName());
        }
        return found;
    }

    private static boolean allInts(Class<?>[] types, int from) {
        for (int i = from; i < types.length; i++) {
            if (types[i] != int.class) {
                return false;
            }
        }
        return true;
    }

    private static String[] simpleNames(Class<?>[] types) {
        List<String> out = new ArrayList<>();
        for (Class<?> t : types) {
            out.add(t.getSimpleName());
        }
        return out.toArray(String[]::new);
    }

    @Override
    public String toString() {
        return name + " (" + helper.getName() + (variantClass == null ? "" : ", " + variantName()) + ")";
    }
}
