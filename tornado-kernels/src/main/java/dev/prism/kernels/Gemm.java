package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.ArrayList;
import java.util.List;

/**
 * Checked launches of the matrix-product kernels in {@link GemmKernels}: the batched product, the
 * linear layer (PyTorch's {@code nn.Linear}: {@code y = x·Wᵀ + b}, {@code W[out,in]}) with its backward
 * pass, and the per-channel bias kernels.
 */
public final class Gemm {
    private static final Kernel MATMUL = Kernel.of("gemm.matmul", "matmulRow").vector("GemmVector", "matmulRows");
    private static final Kernel MATMUL_BATCH_SUM = Kernel.of("gemm.matmulBatchSum", "matmulBatchSumRow")
            .vector("GemmSumVector", "matmulBatchSumRows");
    private static final Kernel ADD_BIAS = Kernel.of("gemm.addBias", "addBiasLane").vector("ElementwiseVector", "gemmAddBiasLanes");
    private static final Kernel BIAS_GRAD = Kernel.of("gemm.biasGrad", "biasGradLane").vector("ElementwiseVector", "biasGradLanes");
    private Gemm() {
    }

    /**
     * {@code C_b = [C_b +] op(A_b)·op(B_b)} for {@code b < batch}, row-major, matrix {@code b} of an operand
     * starting at {@code b·stride}; see {@link GemmKernels} for {@code op}. A stride of 0 for {@code a} or
     * {@code b} broadcasts one matrix to the whole batch. A stride of 0 for {@code c} sums the batch (of any
     * size, 1 included) into one {@code C}: {@code C = [C +] Σ_b op(A_b)·op(B_b)} (kernel
     * {@link GemmKernels#matmulBatchSum}, the reduction form, which sums each element in double: the one
     * for a weight gradient); otherwise {@code strideC} must be at least {@code m·n} so that
     * batch items do not overlap. Arrays may be longer than the last matrix needs. Writes {@code c};
     * {@code c} must be distinct from {@code a} and {@code b}.
     *
     * @param accumulate add to {@code C} instead of overwriting it
     */
    public static Launch matmul(float[] a, float[] b, float[] c, int batch, int m, int n, int k,
                                boolean transA, boolean transB, int strideA, int strideB, int strideC, boolean accumulate) {
        Check ch = Check.of("gemm.matmul").positive("batch", batch).positive("m", m).positive("n", n).positive("k", k)
                .nonNegative("strideA", strideA).nonNegative("strideB", strideB).nonNegative("strideC", strideC);
        long mn = (long) m * n;
        ch.that(strideC == 0 || strideC >= mn, "strideC", "0 (sum over the batch) or >= m·n = " + mn, strideC);
        ch.atLeast("a", a, (long) (batch - 1) * strideA + (long) m * k)
                .atLeast("b", b, (long) (batch - 1) * strideB + (long) k * n)
                .atLeast("c", c, (long) (batch - 1) * strideC + mn)
                .distinct("a", a, "c", c).distinct("b", b, "c", c);
        ch.size("c", batch, m, n);
        int ta = transA ? 1 : 0, tb = transB ? 1 : 0, acc = accumulate ? 1 : 0;
        long flops = 2L * batch * m * n * k;
        long bytes = 4L * ((strideA == 0 ? 1 : batch) * (long) m * k + (strideB == 0 ? 1 : batch) * (long) k * n
                + (strideC == 0 ? 1 : batch) * mn * (accumulate ? 2 : 1));
        if (strideC == 0) {
            return MATMUL_BATCH_SUM.with(a, b, c, batch, m, n, k, ta, tb, strideA, strideB, acc).writes(2).grid(m)
                    .launch(flops, bytes);
        }
        return MATMUL.with(a, b, c, batch, m, n, k, ta, tb, strideA, strideB, strideC, acc).writes(2).grid(batch, m)
                .launch(flops, bytes);
    }

    /** {@code C = op(A)·op(B)} for one matrix: {@link #matmul} with batch 1, overwriting {@code c}. */
    public static Launch matmul(float[] a, float[] b, float[] c, int m, int n, int k, boolean transA, boolean transB) {
        return matmul(a, b, c, 1, m, n, k, transA, transB, 0, 0, m * n, false);
    }

    /**
     * {@code y[o,c,i] += bias[c]} for {@code y[outer, channels, inner]}; writes {@code y}.
     */
    public static Launch addBias(float[] y, float[] bias, int outer, int channels, int inner) {
        Check ch = Check.of("gemm.addBias").positive("outer", outer).positive("channels", channels).positive("inner", inner);
        int size = ch.size("y", outer, channels, inner);
        ch.length("y", y, size).length("bias", bias, channels).distinct("bias", bias, "y", y);
        return ADD_BIAS.with(y, bias, outer, channels, inner).writes(0).grid(outer * channels).launch(size, 4L * (2L * size + channels));
    }

    /** {@code gb[c] = Σ_o Σ_i gy[o,c,i]} for {@code gy[outer, channels, inner]}; writes {@code gb}. */
    public static Launch biasGrad(float[] gy, float[] gb, int outer, int channels, int inner) {
        Check ch = Check.of("gemm.biasGrad").positive("outer", outer).positive("channels", channels).positive("inner", inner);
        int size = ch.size("gy", outer, channels, inner);
        ch.length("gy", gy, size).length("gb", gb, channels).distinct("gy", gy, "gb", gb);
        return BIAS_GRAD.with(gy, gb, outer, channels, inner).writes(1).grid(channels).launch(size, 4L * (size + channels));
    }

    /**
     * The linear layer {@code y = x·Wᵀ + b} (PyTorch {@code F.linear}): {@code x[rows, in]},
     * {@code w[out, in]}, {@code bias[out]} or null for none, {@code y[rows, out]}; writes {@code y}. Runs
     * {@link GemmKernels#matmul} with {@code op(B) = Wᵀ}, then {@link GemmKernels#addBias} when there is a
     * bias.
     */
    public static List<Launch> linear(float[] x, float[] w, float[] bias, float[] y, int rows, int in, int out) {
        Check ch = Check.of("gemm.linear").positive("rows", rows).positive("in", in).positive("out", out);
        ch.length("x", x, ch.size("x", rows, in)).length("w", w, ch.size("w", out, in)).length("y", y, ch.size("y", rows, out));
        if (bias != null) {
            ch.length("bias", bias, out).distinct("bias", bias, "y", y);
        }
        ch.distinct("x", x, "y", y).distinct("w", w, "y", y);
        List<Launch> launches = new ArrayList<>(2);
        launches.add(matmul(x, w, y, rows, out, in, false, true));
        if (bias != null) {
            launches.add(addBias(y, bias, rows, out, 1));
        }
        return launches;
    }

    /**
     * Backward of {@link #linear} for the upstream gradient {@code gy[rows, out]}:
     * {@code gx = gy·W} ({@code [rows, in]}), {@code gw = gyᵀ·x} ({@code [out, in]}),
     * {@code gb = Σ_rows gy} ({@code [out]}). Each of {@code gx}, {@code gw}, {@code gb} is overwritten, or
     * skipped when null (a first layer needs no {@code gx}, a layer without bias no {@code gb}).
     */
    public static List<Launch> linearBackward(float[] x, float[] w, float[] gy, float[] gx, float[] gw, float[] gb,
                                              int rows, int in, int out) {
        Check ch = Check.of("gemm.linearBackward").positive("rows", rows).positive("in", in).positive("out", out);
        ch.length("x", x, ch.size("x", rows, in)).length("w", w, ch.size("w", out, in)).length("gy", gy, ch.size("gy", rows, out));
        List<Launch> launches = new ArrayList<>(3);
        if (gx != null) {
            ch.length("gx", gx, (long) rows * in).distinct("gy", gy, "gx", gx).distinct("w", w, "gx", gx);
            launches.add(matmul(gy, w, gx, rows, in, out, false, false));
        }
        if (gw != null) {
            ch.length("gw", gw, (long) out * in).distinct("gy", gy, "gw", gw).distinct("x", x, "gw", gw);
            launches.add(matmul(gy, x, gw, out, in, rows, true, false));
        }
        if (gb != null) {
            ch.length("gb", gb, out);
            launches.add(biasGrad(gy, gb, rows, out, 1));
        }
        return launches;
    }
}
