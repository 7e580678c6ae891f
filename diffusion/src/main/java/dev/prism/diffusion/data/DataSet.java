package dev.prism.diffusion.data;

/**
 * A fixed, indexed set of training images of one shape {@code [C,H,W]}, values in [−1, 1], with an
 * optional class label per image.
 *
 * <p>Implementations are immutable once built, so {@link #image} may be called from the background
 * loader's thread while the builder's thread does other work; an implementation that is not immutable
 * must say so and must not be given to a {@link BatchLoader#background background loader}.
 */
public interface DataSet {

    /** N, the number of images, at least 1. */
    int size();

    /** C: 1 (grey) or 3 (RGB). */
    int channels();

    /** H, in pixels. */
    int height();

    /** W, in pixels. */
    int width();

    /** C·H·W, the floats {@link #image} writes. */
    default int imageLength() {
        return channels() * height() * width();
    }

    /**
     * Writes image {@code index} to {@code dst[offset .. offset + C·H·W)}, layout {@code [C,H,W]} row-major,
     * values in [−1, 1]. Writes nothing else.
     *
     * @throws IllegalArgumentException if {@code index} is outside {@code [0, N)} or {@code dst} has no
     *                                  room for the image at {@code offset}
     */
    void image(int index, float[] dst, int offset);

    /** Whether {@link #label} is available. */
    default boolean hasLabels() {
        return false;
    }

    /**
     * The class label of image {@code index}, in {@code [0, classes)}.
     *
     * @throws UnsupportedOperationException if the set has no labels ({@link #hasLabels} is false)
     */
    default int label(int index) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no labels");
    }
}
