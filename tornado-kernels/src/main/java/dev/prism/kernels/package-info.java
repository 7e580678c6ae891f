/**
 * The kernels and their launches: every kernel family as a class of static methods of plain loops
 * ({@code HaarKernels}, {@code GemmKernels}, …) with {@link dev.prism.kernels.Parallel} loop indices,
 * the hand-vectorised JVM variants of some of them ({@code *Vector}), and next to each family its
 * checked launch factories ({@code Haar}, {@code Gemm}, …), which validate sizes and buffers and
 * return {@link dev.prism.backend.Launch}es made from one {@link dev.prism.kernels.Kernel} description.
 * Nothing here runs a launch; {@link dev.prism.backend} does.
 */
package dev.prism.kernels;
