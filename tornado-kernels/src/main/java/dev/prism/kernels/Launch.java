package dev.prism.kernels;

import java.util.Arrays;
import java.util.Objects;

/**
 * One invocation of a kernel over concrete buffers: what a backend runs.
 *
 * <p>A launch carries the kernel two ways, from one source. {@code loops} calls the kernel method
 * itself, the plain loops with {@link Parallel} indices that TornadoVM compiles and that the
 * sequential backend runs as the test oracle; {@code body} runs a range of lanes through the same
 * per-lane helper that those loops call, which is how the JVM backend spreads the work over its
 * threads. {@code args} are the kernel method's arguments in signature order, so that a device
 * backend can build a task from them; {@code writes} lists the indices of the arguments the kernel
 * writes (every other array argument is only read).
 *
 * <p>Launches are made by the checked factories next to each kernel (for example
 * {@link Haar#dwt2(float[], float[], int, int, int, int)}), which validate every size before a
 * launch exists, so running a launch never throws for bad arguments.
 *
 * @param kernel the kernel's name, {@code family.method}, naming the kernel method that {@code loops} calls,
 *               for example {@code haar.dwt2} for {@link HaarKernels#dwt2}
 * @param args   the kernel method's arguments in signature order (arrays by reference, boxed ints)
 * @param writes indices into {@code args} of the arrays the kernel writes
 * @param lanes  the number of lanes: the product of the kernel's parallel loop counts
 * @param loops  runs the kernel method (all lanes, in order, on the calling thread)
 * @param body   runs lanes {@code [from, to)} through the per-lane helper
 * @param flops  floating-point operations of one launch (a multiply-add counts as two), for rooflines
 * @param bytes  bytes the launch must move at least (each input read once, each output written once)
 */
public record Launch(String kernel, Object[] args, int[] writes, int lanes, Runnable loops, Lanes body,
                     long flops, long bytes) {

    public Launch {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(args, "args");
        Objects.requireNonNull(writes, "writes");
        Objects.requireNonNull(loops, "loops");
        Objects.requireNonNull(body, "body");
        if (lanes < 0) {
            throw new IllegalArgumentException(kernel + ": lanes must be >= 0, found " + lanes);
        }
        KernelRegistry.resolve(kernel, args);
        for (int w : writes) {
            if (w < 0 || w >= args.length || !(args[w] instanceof float[])) {
                throw new IllegalArgumentException(kernel + ": writes index " + w + " does not name a float[] argument");
            }
        }
    }

    /** The kernel method this launch runs, as a device backend compiles it (see {@link KernelRegistry}). */
    public java.lang.reflect.Method method() {
        return KernelRegistry.resolve(kernel, args);
    }

    /** The arrays this launch writes, in the order of {@link #writes()}. */
    public float[][] outputs() {
        float[][] out = new float[writes.length][];
        for (int i = 0; i < writes.length; i++) {
            out[i] = (float[]) args[writes[i]];
        }
        return out;
    }

    @Override
    public String toString() {
        return kernel + "[lanes=" + lanes + ", writes=" + Arrays.toString(writes) + "]";
    }
}
