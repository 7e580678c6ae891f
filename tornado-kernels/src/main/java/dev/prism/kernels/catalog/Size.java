package dev.prism.kernels.catalog;

/** The sizes at which the catalog sets kernels up. */
public enum Size {
    /** Odd, non-power-of-two shapes that run in milliseconds even sequentially: for checks. */
    SMALL,
    /** The sizes the models use: batch 1, C = 64, H = W = 64 (attention at N = 1024 positions). */
    MODEL
}
