package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;

import java.util.function.LongFunction;

/**
 * A kernel, or a short chain of kernels, set up on random data: the unit that {@code prism kernels
 * --check}, the benchmarks and the device tests run.
 *
 * @param name   unique, {@code family.kernel[.variant]}, for example {@code prismconv.forward.circular}
 * @param shape  a short human-readable description of the sizes, for tables
 * @param build  makes the plan on fresh buffers whose inputs are drawn from the given seed; two calls
 *               with one seed give equal inputs and distinct output buffers. The plan's outputs are
 *               the buffers to compare.
 */
public record KernelCase(String name, String shape, LongFunction<Plan> build) {

    public String family() {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }
}
