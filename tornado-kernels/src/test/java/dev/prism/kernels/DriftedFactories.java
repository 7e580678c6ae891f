package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Launch factories with the defects {@link KernelDescriptionTest} must find, never called: argument
 * lists that have drifted from their kernel method ({@link DescribedKernels#flat}: {@code x, y, n, s}),
 * and a launch made by hand.
 */
final class DriftedFactories {
    private static final Kernel FLAT = Kernel.of("described.flat", "flatLane");

    private DriftedFactories() {
    }

    /** The scale {@code s} forgotten. */
    static Launch missingArgument(float[] x, float[] y, int n) {
        return FLAT.with(x, y, n).writes(1).grid(n).launch(0, 0);
    }

    /** {@code n} and {@code s} swapped. */
    static Launch swappedArguments(float[] x, float[] y, int n, float s) {
        return FLAT.with(x, y, s, n).writes(1).grid(n).launch(0, 0);
    }

    /** The argument list written a second time, for a launch put together by hand. */
    static Launch byHand(float[] x, float[] y, int n, float s) {
        return new Launch("described.flat", new Object[] {x, y, n, s}, new int[] {1}, n,
                () -> DescribedKernels.flat(x, y, n, s), (from, to) -> { }, 0, 0);
    }
}
