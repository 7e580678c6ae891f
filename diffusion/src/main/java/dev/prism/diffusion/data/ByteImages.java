package dev.prism.diffusion.data;

/**
 * Images held as 8-bit values, {@code pixels[N,C,H,W]} row-major, read out as floats
 * {@code x = b/127.5 − 1} (the float nearest to it): byte 0 is −1, 255 is +1. The storage of both
 * {@link FashionMnist} and {@link ImageFolder}: a quarter of the memory of floats, and the values an
 * 8-bit image pipeline produces.
 */
final class ByteImages {
    private static final float[] VALUE = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            VALUE[b] = (float) (b / 127.5 - 1.0);
        }
    }

    final String name;
    final byte[] pixels;
    final int n;
    final int c;
    final int h;
    final int w;

    /** @param name the set's name in messages */
    ByteImages(String name, byte[] pixels, int n, int c, int h, int w) {
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

    /** The float value of an 8-bit sample. */
    static float value(int b) {
        return VALUE[b & 0xFF];
    }

    void image(int index, float[] dst, int offset) {
        int len = c * h * w;
        if (index < 0 || index >= n) {
            throw new IllegalArgumentException(name + ": argument 'index' expected 0.." + (n - 1) + ", found " + index);
        }
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
