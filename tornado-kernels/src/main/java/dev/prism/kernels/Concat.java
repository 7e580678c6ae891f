package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the channel concatenation in {@link ConcatKernels}: {@code a[N, Ca, H, W]} and
 * {@code b[N, Cb, H, W]} side by side on the channel axis, {@code y[N, Ca + Cb, H, W]}.
 */
public final class Concat {
    private static final Kernel CHANNELS = Kernel.of("concat.channels", "channelsRow").vector("ConcatVector", "channelsRows");
    private static final Kernel SPLIT = Kernel.of("concat.split", "splitRow").vector("ConcatVector", "splitRows");

    private Concat() {
    }

    /** {@code y = torch.cat([a, b], 1)}; writes {@code y}. */
    public static Launch channels(float[] a, float[] b, float[] y, int n, int ca, int cb, int h, int w) {
        Check k = check("concat.channels", n, ca, cb, h, w);
        int size = arrays(k, "a", a, "b", b, "y", y, n, ca, cb, h, w);
        k.distinct("a", a, "y", y).distinct("b", b, "y", y);
        return CHANNELS.with(a, b, y, n, ca, cb, h, w).writes(2).grid(n * (ca + cb), h).launch(0, 8L * size);
    }

    /** {@code a = y[:, :Ca]}, {@code b = y[:, Ca:]}; writes {@code a} and {@code b}. */
    public static Launch split(float[] y, float[] a, float[] b, int n, int ca, int cb, int h, int w) {
        Check k = check("concat.split", n, ca, cb, h, w);
        int size = arrays(k, "a", a, "b", b, "y", y, n, ca, cb, h, w);
        k.distinct("y", y, "a", a).distinct("y", y, "b", b).distinct("a", a, "b", b);
        return SPLIT.with(y, a, b, n, ca, cb, h, w).writes(1, 2).grid(n * (ca + cb), h).launch(0, 8L * size);
    }

    /**
     * Backward of {@link #channels}: {@code ga = gy[:, :Ca]}, {@code gb = gy[:, Ca:]} (the split of the
     * gradient). Writes {@code ga} and {@code gb}.
     */
    public static Launch channelsBackward(float[] gy, float[] ga, float[] gb, int n, int ca, int cb, int h, int w) {
        return split(gy, ga, gb, n, ca, cb, h, w);
    }

    /** Backward of {@link #split}: {@code gy = cat([ga, gb], 1)}. Writes {@code gy}. */
    public static Launch splitBackward(float[] ga, float[] gb, float[] gy, int n, int ca, int cb, int h, int w) {
        return channels(ga, gb, gy, n, ca, cb, h, w);
    }

    private static Check check(String kernel, int n, int ca, int cb, int h, int w) {
        return Check.of(kernel).positive("n", n).positive("ca", ca).positive("cb", cb).positive("h", h).positive("w", w);
    }

    /** Checks the three lengths; returns the length of the concatenation. */
    private static int arrays(Check k, String an, float[] a, String bn, float[] b, String yn, float[] y,
                              int n, int ca, int cb, int h, int w) {
        int size = k.size(yn, n, ca + cb, h, w);
        k.length(an, a, k.size(an, n, ca, h, w)).length(bn, b, k.size(bn, n, cb, h, w)).length(yn, y, size);
        return size;
    }
}
