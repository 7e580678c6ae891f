package dev.prism.backend.tornado;

import dev.prism.backend.Launch;
import uk.ac.manchester.tornado.api.TaskGraph;

import java.lang.invoke.CallSite;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Adds a launch to a TaskGraph as a task of its kernel method, with no per-kernel glue.
 *
 * <p>TornadoVM takes a task as an instance of one of its {@code TaskN} functional interfaces and finds
 * the kernel by reading the bytecode of that instance's {@code apply} method for the first static call.
 * A lambda made by {@link LambdaMetafactory} from the kernel's method handle is exactly such an instance:
 * its {@code apply} unboxes the arguments and calls the kernel. So every kernel in
 * {@link dev.prism.kernels.KernelRegistry} becomes a task the same way, and the kernel method stays the
 * one source.
 */
final class Tasks {
    private static final int MAX_ARGS = 20;
    private static final Map<Method, Object> LAMBDAS = new ConcurrentHashMap<>();
    private static final Map<Integer, Method> TASK_METHODS = new ConcurrentHashMap<>();

    private Tasks() {
    }

    /** Adds {@code launch} to {@code graph} as task {@code id}. */
    static void add(TaskGraph graph, String id, Launch launch) {
        add(graph, id, launch.kernel(), launch.method(), launch.args());
    }

    /** Adds a call of {@code kernel} (named {@code name} in messages) with {@code args} to {@code graph} as task {@code id}. */
    static void add(TaskGraph graph, String id, String name, Method kernel, Object[] args) {
        if (args.length == 0 || args.length > MAX_ARGS) {
            throw new IllegalStateException(name + ": TornadoVM tasks take 1 to " + MAX_ARGS + " arguments, found " + args.length);
        }
        Object[] call = new Object[args.length + 2];
        call[0] = id;
        call[1] = LAMBDAS.computeIfAbsent(kernel, Tasks::lambda);
        System.arraycopy(args, 0, call, 2, args.length);
        try {
            TASK_METHODS.computeIfAbsent(args.length, Tasks::taskMethod).invoke(graph, call);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object lambda(Method kernel) {
        int k = kernel.getParameterCount();
        try {
            Class<?> iface = taskInterface(k);
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            MethodHandle target = lookup.unreflect(kernel);
            Class<?>[] objects = new Class<?>[k];
            Arrays.fill(objects, Object.class);
            MethodType erased = MethodType.methodType(void.class, objects);
            MethodType instantiated = target.type().wrap().changeReturnType(void.class);
            CallSite site = LambdaMetafactory.metafactory(lookup, "apply", MethodType.methodType(iface), erased, target, instantiated);
            return site.getTarget().invoke();
        } catch (Throwable t) {
            throw new IllegalStateException("cannot make a TornadoVM task of " + kernel + ": " + t, t);
        }
    }

    private static Method taskMethod(int k) {
        Class<?> iface;
        try {
            iface = taskInterface(k);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
        for (Method m : TaskGraph.class.getMethods()) {
            if (m.getName().equals("task") && m.getParameterCount() == k + 2 && m.getParameterTypes()[1] == iface) {
                return m;
            }
        }
        throw new IllegalStateException("TaskGraph has no task(String, Task" + k + ", ...) method");
    }

    private static Class<?> taskInterface(int k) throws ClassNotFoundException {
        return Class.forName("uk.ac.manchester.tornado.api.common.TornadoFunctions$Task" + k);
    }
}
