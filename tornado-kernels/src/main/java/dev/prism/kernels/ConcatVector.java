package dev.prism.kernels;

/**
 * The JVM variants of {@link ConcatKernels#channels} and {@link ConcatKernels#split}, run by the JVM backend's parallel
 * mode; the plain loops stay the reference and the TornadoVM input. A lane range (rows {@code i} of planes {@code p},
 * lane {@code p·H + i}) is cut where it passes from one image's planes of {@code a} to its planes of {@code b} or to the
 * next image; each piece is contiguous in both arrays and moves as one {@link System#arraycopy}, where the loops copy a
 * row per call. The same floats land in the same places, so every thread count gives the loops' results. The step of
 * issue 14's UNet spent 18 ms in the two kernels' row copies (Intel Xeon, 2 threads), about half the time their bytes
 * take at the memory speed its element-wise adds reach.
 */
final class ConcatVector {
    private ConcatVector() {
    }

    /** Lanes {@code [from, to)} of {@link ConcatKernels#channels}. */
    static void channelsRows(float[] a, float[] b, float[] y, int n, int ca, int cb, int h, int w, int from, int to) {
        int l = from;
        while (l < to) {
            int end = pieceEnd(ca, cb, h, l, to);
            int p = l / h;
            int s = ConcatKernels.sliceRow(ca, cb, h, w, p, l - p * h);
            System.arraycopy(p % (ca + cb) < ca ? a : b, s, y, l * w, (end - l) * w);
            l = end;
        }
    }

    /** Lanes {@code [from, to)} of {@link ConcatKernels#split}. */
    static void splitRows(float[] y, float[] a, float[] b, int n, int ca, int cb, int h, int w, int from, int to) {
        int l = from;
        while (l < to) {
            int end = pieceEnd(ca, cb, h, l, to);
            int p = l / h;
            int o = ConcatKernels.sliceRow(ca, cb, h, w, p, l - p * h);
            System.arraycopy(y, l * w, p % (ca + cb) < ca ? a : b, o, (end - l) * w);
            l = end;
        }
    }

    /** The end of lane {@code l}'s piece: the end of its image's planes of a (or of b), or {@code to}. */
    private static int pieceEnd(int ca, int cb, int h, int l, int to) {
        int p = l / h;
        int image = p / (ca + cb);
        int c = p - image * (ca + cb);
        int planeEnd = image * (ca + cb) + (c < ca ? ca : ca + cb);
        return (int) Math.min(to, (long) planeEnd * h);
    }
}
