package dev.prism.diffusion.data;

/**
 * A small data set whose every value names its image and position: {@code x[i][k] = (100·i + k)/10⁵} for
 * element k of image i (so k below 100), label {@code i mod 7} when labelled.
 */
class PatternSet implements DataSet {
    final int n;
    final int c;
    final int h;
    final int w;
    final boolean labelled;

    PatternSet(int n, int c, int h, int w, boolean labelled) {
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
        this.labelled = labelled;
    }

    static float value(int i, int k) {
        return (100 * i + k) / 1e5f;
    }

    @Override
    public int size() {
        return n;
    }

    @Override
    public int channels() {
        return c;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public void image(int index, float[] dst, int offset) {
        for (int k = 0; k < imageLength(); k++) {
            dst[offset + k] = value(index, k);
        }
    }

    @Override
    public boolean hasLabels() {
        return labelled;
    }

    @Override
    public int label(int index) {
        if (!labelled) {
            return DataSet.super.label(index);
        }
        return index % 7;
    }
}
