package dev.prism.backend;

import dev.prism.kernels.Parallel;

/**
 * Runs the lanes {@code [from, to)} of a kernel launch through the kernel's per-lane helper.
 *
 * <p>A lane is one iteration of the kernel's flattened {@link Parallel} loops; each lane writes
 * outputs that no other lane writes, so lanes may run on any thread in any order and the result is
 * bit-identical.
 */
@FunctionalInterface
public interface Lanes {
    void run(int from, int to);
}
