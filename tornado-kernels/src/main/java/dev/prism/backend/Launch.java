package dev.prism.backend;

import dev.prism.kernels.KernelRegistry;
import dev.prism.kernels.Parallel;

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
 * @param grid   the lane count of each parallel loop, outermost first (their product is {@code lanes});
 *               a device backend needs it to apply a work-group size. Default: one dimension.
 * @param owned  arrays the factory made itself and the kernel only reads (a zero bias standing in for
 *               none, unit scales): no caller can declare them in a plan, so a device backend treats
 *               them as constants
 * @param vector the same lanes through a hand-vectorised variant of the helper (Vector API), or null:
 *               the JVM backend's parallel mode prefers it; the plain {@code body} and {@code loops}
 *               stay the reference, and the variant is tested against them on every test shape
 */
public record Launch(String kernel, Object[] args, int[] writes, int lanes, Runnable loops, Lanes body,
                     long flops, long bytes, int[] grid, float[][] owned, Lanes vector) {

    /** A launch with a one-dimensional grid, no owned arrays and no vectorised variant. */
    public Launch(String kernel, Object[] args, int[] writes, int lanes, Runnable loops, Lanes body, long flops, long bytes) {
        this(kernel, args, writes, lanes, loops, body, flops, bytes, new int[] {lanes}, new float[0][], null);
    }

    public Launch {
        Objects.requireNonNull(grid, "grid");
        Objects.requireNonNull(owned, "owned");
        long product = 1;
        for (int g : grid) {
            product *= g;
        }
        if (grid.length < 1 || grid.length > 3 || product != lanes) {
            throw new IllegalArgumentException(kernel + ": grid " + Arrays.toString(grid) + " expected 1 to 3 dimensions whose product is lanes = " + lanes);
        }
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

    /** This launch with the given per-dimension lane counts, outermost loop first. */
    public Launch withGrid(int... dims) {
        return new Launch(kernel, args, writes, lanes, loops, body, flops, bytes, dims.clone(), owned, vector);
    }

    /** This launch declaring arrays its factory made and its kernel only reads. */
    public Launch withOwned(float[]... arrays) {
        return new Launch(kernel, args, writes, lanes, loops, body, flops, bytes, grid, arrays.clone(), vector);
    }

    /** This launch with a hand-vectorised variant of its per-lane helper for the JVM backend. */
    public Launch withVector(Lanes variant) {
        return new Launch(kernel, args, writes, lanes, loops, body, flops, bytes, grid, owned, Objects.requireNonNull(variant, "variant"));
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
