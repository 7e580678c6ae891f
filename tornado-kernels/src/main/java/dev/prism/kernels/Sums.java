package dev.prism.kernels;

/**
 * The one summation scheme of every kernel that adds a long run of fp32 terms (a bias or weight
 * gradient, a pool, normalisation statistics, a softmax row sum): the terms are widened to double and
 * added in double, and a product of two floats is formed in double, where it is exact (24 + 24
 * significand bits fit in 53). The caller rounds the sum to float once, at the end.
 *
 * <p>Why double and not a blocked or pairwise fp32 sum: the requirement is that each reduction's error
 * against float64 is no worse than PyTorch's on the same inputs, and PyTorch's CPU sums already are
 * cascades of fp32 partial sums. A second fp32 cascade is as good only on average; on a given input it
 * loses in a large share of cases ({@code tools/refgen/sum_schemes.py} measures it). A double sum of
 * {@code n} floats is within {@code (n − 1)·2⁻⁵³·Σ|x|} of the exact value: below half a float ulp of
 * the result unless the terms cancel ({@code Σ|x| / |Σx|}) by a factor above {@code 2²⁸/n}, so the one
 * rounding to float gives the correctly rounded sum or, rarely, its neighbour.
 *
 * <p>Why not Kahan's compensated sum in fp32: TornadoVM builds OpenCL kernels with
 * {@code -cl-fast-relaxed-math} (its default {@code tornado.opencl.compiler.flags} are
 * {@code -cl-mad-enable -cl-fast-relaxed-math -w}), which lets the device compiler reassociate
 * {@code (t − s) − y} to zero and silently turn Kahan's sum back into the plain one. A double sum
 * survives any reassociation of its additions with its accuracy intact. The cost is that these kernels
 * need a device with fp64 ({@code cl_khr_fp64}), as the normalisation and softmax kernels already did.
 *
 * <p>Each method adds its terms in four interleaved partial sums, combined as
 * {@code (s0 + s1) + (s2 + s3)}: a fixed order, so the result does not depend on the caller or the
 * thread count, and four independent additions per step instead of one chain of dependent ones.
 * A length or count of 0 or less sums nothing. Plain static methods over {@code float[]} and
 * {@code int}: TornadoVM inlines them into the kernels that call them.
 */
public final class Sums {
    private Sums() {
    }

    /** {@code Σ a[from + i]} for {@code i < len}, in double. */
    public static double sum(float[] a, int from, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int quads = len - len % 4;
        for (int i = 0; i < quads; i += 4) {
            int j = from + i;
            s0 += a[j];
            s1 += a[j + 1];
            s2 += a[j + 2];
            s3 += a[j + 3];
        }
        for (int i = quads; i < len; i++) {
            s0 += a[from + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code Σ a[from + i·step]} for {@code i < count}, in double. */
    public static double sumStrided(float[] a, int from, int step, int count) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int quads = count - count % 4;
        for (int i = 0; i < quads; i += 4) {
            int j = from + i * step;
            s0 += a[j];
            s1 += a[j + step];
            s2 += a[j + 2 * step];
            s3 += a[j + 3 * step];
        }
        for (int i = quads; i < count; i++) {
            s0 += a[from + i * step];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code Σ a[ao + i]·b[bo + i]} for {@code i < len}, each product exact in double. */
    public static double dot(float[] a, int ao, float[] b, int bo, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int quads = len - len % 4;
        for (int i = 0; i < quads; i += 4) {
            int j = ao + i;
            int k = bo + i;
            s0 += (double) a[j] * b[k];
            s1 += (double) a[j + 1] * b[k + 1];
            s2 += (double) a[j + 2] * b[k + 2];
            s3 += (double) a[j + 3] * b[k + 3];
        }
        for (int i = quads; i < len; i++) {
            s0 += (double) a[ao + i] * b[bo + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code Σ a[ao + i·aStep]·b[bo + i·bStep]} for {@code i < len}, each product exact in double:
     * the products of operands read with a stride (a strided convolution's input row, a column of a
     * matrix). A separate method because HotSpot removes the bounds checks only of indices whose scale is
     * a constant: {@link #dot}, its own loop, measured faster where both strides are 1.
     */
    public static double dotStrided(float[] a, int ao, int aStep, float[] b, int bo, int bStep, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int quads = len - len % 4;
        for (int i = 0; i < quads; i += 4) {
            int j = ao + i * aStep;
            int k = bo + i * bStep;
            s0 += (double) a[j] * b[k];
            s1 += (double) a[j + aStep] * b[k + bStep];
            s2 += (double) a[j + 2 * aStep] * b[k + 2 * bStep];
            s3 += (double) a[j + 3 * aStep] * b[k + 3 * bStep];
        }
        for (int i = quads; i < len; i++) {
            s0 += (double) a[ao + i * aStep] * b[bo + i * bStep];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code Σ (a[from + i] − mean)²} for {@code i < len}, in double: a variance's sum of squares. */
    public static double squaredDeviations(float[] a, int from, int len, double mean) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int quads = len - len % 4;
        for (int i = 0; i < quads; i += 4) {
            int j = from + i;
            double d0 = a[j] - mean;
            double d1 = a[j + 1] - mean;
            double d2 = a[j + 2] - mean;
            double d3 = a[j + 3] - mean;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (int i = quads; i < len; i++) {
            double d = a[from + i] - mean;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * Stores a double partial sum in two floats, {@code out[at] = hi = (float) s} and
     * {@code out[at + 1] = (float) (s − hi)}, so that a second kernel can add partials written by other
     * lanes without the rounding of each to float: {@code hi + lo} is {@code s} to within about
     * {@code 2⁻⁴⁸·|s|} (the scratch buffers are {@code float[]} on every backend).
     */
    public static void storeSplit(float[] out, int at, double s) {
        float hi = (float) s;
        out[at] = hi;
        out[at + 1] = (float) (s - hi);
    }

    /**
     * {@code Σ (hi + lo)} over the {@code count} pairs that {@link #storeSplit} wrote at
     * {@code from + i·step}, in double.
     */
    public static double sumSplit(float[] a, int from, int step, int count) {
        return sumStrided(a, from, step, count) + sumStrided(a, from + 1, step, count);
    }
}
