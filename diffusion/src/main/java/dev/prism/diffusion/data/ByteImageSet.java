package dev.prism.diffusion.data;

/**
 * A data set held as 8-bit values, {@code pixels[N,C,H,W]} row-major, read out as floats
 * {@code x = b/127.5 − 1} (the float nearest to it): byte 0 is −1, 255 is +1. The storage of both
 * {@link FashionMnist} and {@link ImageFolder}: a quarter of the memory of floats, and the values an
 * 8-bit image pipeline produces. Immutable.
 */
abstract class ByteImageSet implements DataSet {
    private static final float[] VALUE = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            VALUE[b] = (float) (b / 127.5 - 1.0);
        }
    }

    final String name;
    private final byte[] pixels;
    private final int n;
    private final int c;
    private final int h;
    private final int w;

    /** @param name the set's name in messages */
    ByteImageSet(String name, byte[] pixels, int n, int c, int h, int w) {
        if ((long) n * c * h * w != pixels.length) {
            throw new IllegalArgumentException(name + ": expected " + n + "×" + c + "×" + h + "×" + w + " bytes, found " + pixels.length);
        }
        this.name = name;
        this.pixels = pixels;
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
    }

    /** Checks an image index, naming the set. */
    final void checkIndex(int index) {
        if (index < 0 || index >= n) {
            throw new IllegalArgumentException(name + ": argument 'index' expected 0.." + (n - 1) + ", found " + index);
        }
    }

    @Override
    public final int size() {
        return n;
    }

    @Override
    public final int channels() {
        return c;
    }

    @Override
    public final int height() {
        return h;
    }

    @Override
    public final int width() {
        return w;
    }

    @Override
    public final void image(int index, float[] dst, int offset) {
        int len = c * h * w;
        checkIndex(index);
        if (dst == null || offset < 0 || (long) offset + len > dst.length) {
            throw new IllegalArgumentException(name + ": argument 'dst' expected room for " + len + " floats at offset " + offset
                    + ", found " + (dst == null ? "null" : "length " + dst.length));
        }
        int base = index * len;
        for (int k = 0; k < len; k++) {
            dst[offset + k] = VALUE[pixels[base + k] & 0xFF];
        }
    }
}
