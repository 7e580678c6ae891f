package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of multi-head scaled dot-product attention over the {@code P = H·W} positions of a
 * feature map, in the channel-major layout of the maps themselves, so callers transpose nothing:
 * {@code q, k, v, out} are {@code [B, heads·d, P]}, which is {@code [B, heads, d, P]}. For batch item
 * {@code b}, head {@code h} and query position {@code n}:
 * <pre>
 *   out[b,h,:,n] = Σ_m softmax_m(q[b,h,:,n]·k[b,h,:,m] / √d) · v[b,h,:,m]
 * </pre>
 * the same numbers as {@code torch.softmax(Q @ Kᵀ / √d, -1) @ V} with
 * {@code Q = q.view(B,heads,d,P).transpose(-1,-2)} and likewise {@code K}, {@code V} (with the result
 * transposed back).
 *
 * <p>The forward writes the probabilities to the caller's {@code probs[B·heads, P, P]} (row = query,
 * column = key, the layout of PyTorch's attention matrix), which the backward reads again; a plan
 * therefore keeps that buffer alive between the two. With {@code BH = B·heads} and per-head matrices
 * {@code Q, K, V} of shape {@code [d, P]}, the launches are:
 * <ol>
 *   <li>forward: {@code S = Qᵀ·K} into {@code probs} ({@link GemmKernels#matmul}); the stable softmax of
 *       {@code S/√d} in place ({@link AttentionKernels#softmax}); {@code out = V·Pᵀ} (matmul).</li>
 *   <li>backward, for {@code gout} ({@code dO}): {@code dP = dOᵀ·V} into the scratch {@code dprobs};
 *       {@code dS = P ⊙ (dP − rowsum(dP ⊙ P)) / √d} in place ({@link AttentionKernels#softmaxBackward});
 *       {@code gq = K·dSᵀ}, {@code gk = Q·dS}, {@code gv = dO·P} (matmul).</li>
 * </ol>
 * Every launch's work-items own whole output rows, so the results are deterministic.
 */
public final class Attention {
    private static final Kernel SOFTMAX = Kernel.of("attention.softmax", "softmaxRow").vector("AttentionVector", "softmaxRows");
    private static final Kernel SOFTMAX_BACKWARD = Kernel.of("attention.softmaxBackward", "softmaxBackwardRow");
    private Attention() {
    }

    /**
     * Forward attention; writes {@code out} and {@code probs}. {@code probs} must hold at least
     * {@code B·heads·P·P} floats; its first {@code B·heads·P·P} receive the probabilities.
     */
    public static List<Launch> forward(float[] q, float[] k, float[] v, float[] out, float[] probs,
                                       int batch, int heads, int dim, int positions) {
        Check c = Check.of("attention.forward");
        int size = sizes(c, batch, heads, dim, positions);
        int bh = batch * heads, p = positions, dp = dim * positions;
        int pp = c.size("probs", bh, p, p) / bh; // P·P, checked against int overflow with the batch
        c.length("q", q, size).length("k", k, size).length("v", v, size).length("out", out, size)
                .atLeast("probs", probs, (long) bh * pp);
        distinct(c, "out", out, "q", q, "k", k, "v", v);
        distinct(c, "probs", probs, "q", q, "k", k, "v", v, "out", out);
        float scale = scale(dim);
        return List.of(
                Gemm.matmul(q, k, probs, bh, p, p, dim, true, false, dp, dp, pp, false),
                softmax(probs, bh * p, p, scale),
                Gemm.matmul(v, probs, out, bh, dim, p, p, false, true, dp, pp, dp, false));
    }

    /**
     * Backward attention for the output gradient {@code gout[B, heads·d, P]}, given the forward's inputs
     * and its {@code probs}; writes {@code gq}, {@code gk}, {@code gv} (overwritten) and uses
     * {@code dprobs}, at least {@code B·heads·P·P} floats, as scratch. Reads {@code probs} without
     * changing it.
     */
    public static List<Launch> backward(float[] q, float[] k, float[] v, float[] probs, float[] gout,
                                        float[] gq, float[] gk, float[] gv, float[] dprobs,
                                        int batch, int heads, int dim, int positions) {
        Check c = Check.of("attention.backward");
        int size = sizes(c, batch, heads, dim, positions);
        int bh = batch * heads, p = positions, dp = dim * positions;
        int pp = c.size("probs", bh, p, p) / bh; // P·P, checked against int overflow with the batch
        c.length("q", q, size).length("k", k, size).length("v", v, size).length("gout", gout, size)
                .length("gq", gq, size).length("gk", gk, size).length("gv", gv, size)
                .atLeast("probs", probs, (long) bh * pp).atLeast("dprobs", dprobs, (long) bh * pp);
        Object[] inputs = {"q", q, "k", k, "v", v, "probs", probs, "gout", gout};
        distinct(c, "gq", gq, inputs);
        distinct(c, "gk", gk, inputs);
        distinct(c, "gv", gv, inputs);
        distinct(c, "dprobs", dprobs, inputs);
        distinct(c, "gk", gk, "gq", gq);
        distinct(c, "gv", gv, "gq", gq, "gk", gk);
        distinct(c, "dprobs", dprobs, "gq", gq, "gk", gk, "gv", gv);
        float scale = scale(dim);
        return List.of(
                Gemm.matmul(gout, v, dprobs, bh, p, p, dim, true, false, dp, dp, pp, false),
                softmaxBackward(probs, dprobs, bh * p, p, scale),
                Gemm.matmul(k, dprobs, gq, bh, dim, p, p, false, true, dp, pp, dp, false),
                Gemm.matmul(q, dprobs, gk, bh, dim, p, p, false, false, dp, pp, dp, false),
                Gemm.matmul(gout, probs, gv, bh, dim, p, p, false, false, dp, pp, dp, false));
    }

    /** The softmax scale {@code 1/√d}. */
    public static float scale(int dim) {
        return (float) (1.0 / Math.sqrt(dim));
    }

    /** The softmax launch of {@link #forward}, in place in {@code probs[rows, cols]}. */
    static Launch softmax(float[] probs, int rows, int cols, float scale) {
        long size = (long) rows * cols;
        return SOFTMAX.with(probs, rows, cols, scale).writes(0).grid(rows).launch(5 * size, 8 * size);
    }

    /** The softmax-backward launch of {@link #backward}, in place in {@code grad[rows, cols]}. */
    static Launch softmaxBackward(float[] probs, float[] grad, int rows, int cols, float scale) {
        long size = (long) rows * cols;
        return SOFTMAX_BACKWARD.with(probs, grad, rows, cols, scale).writes(1).grid(rows).launch(5 * size, 12 * size);
    }

    private static int sizes(Check c, int batch, int heads, int dim, int positions) {
        c.positive("batch", batch).positive("heads", heads).positive("dim", dim).positive("positions", positions);
        return c.size("q", batch, heads, dim, positions);
    }

    /** Fails if {@code a} is the same array as any of the named {@code others} (pairs of name, array). */
    private static void distinct(Check c, String name, float[] a, Object... others) {
        for (int i = 0; i < others.length; i += 2) {
            c.distinct((String) others[i], (float[]) others[i + 1], name, a);
        }
    }
}
