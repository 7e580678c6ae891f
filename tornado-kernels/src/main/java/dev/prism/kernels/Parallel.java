package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a loop index whose iterations are independent, so that TornadoVM may map it to work-items.
 *
 * <p>TornadoVM honours this annotation, in place of its own, when the JVM starts with
 * {@code -Dtornado.load.annotation.parallel=dev.prism.kernels.Parallel}; that keeps the kernel classes
 * free of any TornadoVM import. TornadoVM finds the annotation in the local variable table, so kernel
 * classes must be compiled with {@code javac -g} (Maven's default, and forced in the parent POM).
 * On the plain JVM the annotation has no effect: the JVM backend parallelises through the per-lane
 * helpers instead (see {@link Launch}).
 *
 * <p>Loop bounds: with a worker grid (work-groups), TornadoVM 5.2 replaces every scalar parameter that on its
 * own bounds a parallel loop by a size of the grid, numbering those parameters in parameter order, not loop
 * order. A kernel whose inner loop is bounded by a parameter alone while its outer loop is not
 * ({@code for (p < n * c) for (i < h)}) would get {@code h = n·c}. Such inner bounds are written
 * {@code i < Math.max(h, 0)}: the same bound, but not a parameter alone, so TornadoVM leaves it and the kernel
 * may run with work-groups ({@code dev.prism.backend.ParallelBounds} checks every kernel).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE_USE, ElementType.LOCAL_VARIABLE})
public @interface Parallel {
}
