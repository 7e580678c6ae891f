package dev.prism.kernels;

/**
 * The row-wise parts of multi-head scaled dot-product attention: the numerically stable softmax of the
 * scaled scores and its backward. The products around them ({@code S = Qᵀ·K}, {@code out = V·Pᵀ} and
 * the gradients) run on {@link GemmKernels}; {@link Attention} chains them.
 *
 * <p>Layout: {@code probs[R, cols]} row-major, one row per (batch, head, query position); row {@code r}
 * holds the scores of query {@code r} against every key, and after {@link #softmax} its probabilities.
 */
public final class AttentionKernels {
    private AttentionKernels() {
    }

    /**
     * In place, per row: {@code p[r,m] = exp(scale·s[r,m] − μ_r) / Σ_m' exp(scale·s[r,m'] − μ_r)} with
     * {@code μ_r = max_m scale·s[r,m]}. Subtracting the row maximum makes every exponent at most 0, so no
     * exponential overflows however large the scores (the result is the same softmax). Reads and writes
     * {@code probs}. One work-item per row.
     */
    public static void softmax(float[] probs, int rows, int cols, float scale) {
        for (@Parallel int r = 0; r < rows; r++) {
            softmaxRow(probs, rows, cols, scale, r);
        }
    }

    /** Row {@code r} of {@link #softmax}; the exponentials are summed in double ({@link Sums}). */
    public static void softmaxRow(float[] probs, int rows, int cols, float scale, int r) {
        int base = r * cols;
        float max = Float.NEGATIVE_INFINITY;
        for (int m = 0; m < cols; m++) {
            max = Math.max(max, scale * probs[base + m]);
        }
        for (int m = 0; m < cols; m++) {
            probs[base + m] = (float) Math.exp(scale * probs[base + m] - max);
        }
        float inv = (float) (1.0 / Sums.sum(probs, base, cols));
        for (int m = 0; m < cols; m++) {
            probs[base + m] *= inv;
        }
    }

    /**
     * Backward of {@link #softmax} for the gradient {@code dP} with respect to the probabilities, in place
     * in {@code grad}: {@code dS[r,m] = scale · P[r,m] · (dP[r,m] − Σ_m' dP[r,m']·P[r,m'])}, the gradient
     * with respect to the unscaled scores. Reads {@code probs}; reads and writes {@code grad}. One
     * work-item per row.
     */
    public static void softmaxBackward(float[] probs, float[] grad, int rows, int cols, float scale) {
        for (@Parallel int r = 0; r < rows; r++) {
            softmaxBackwardRow(probs, grad, rows, cols, scale, r);
        }
    }

    /** Row {@code r} of {@link #softmaxBackward}; the dot product is summed in double ({@link Sums}). */
    public static void softmaxBackwardRow(float[] probs, float[] grad, int rows, int cols, float scale, int r) {
        int base = r * cols;
        double dot = Sums.dot(grad, base, probs, base, cols);
        for (int m = 0; m < cols; m++) {
            // the difference taken in double and rounded once: it cancels where dP is close to the dot
            grad[base + m] = scale * probs[base + m] * (float) (grad[base + m] - dot);
        }
    }
}
