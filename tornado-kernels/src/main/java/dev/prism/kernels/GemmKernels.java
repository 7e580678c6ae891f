package dev.prism.kernels;

/**
 * Batched matrix products and the two per-channel bias kernels that go with them (the linear layer,
 * and the bias of {@link Conv2dKernels}).
 *
 * <p>Matrices are row-major. For batch item {@code b}, {@code A_b} starts at {@code a[b·strideA]},
 * {@code B_b} at {@code b[b·strideB]} and {@code C_b} at {@code c[b·strideC]}; a stride of 0 makes every
 * batch item read the same matrix (one weight matrix for a whole batch). {@code op(A)} is {@code A} stored
 * {@code [m,k]} when {@code transA = 0}, or {@code Aᵀ} with {@code A} stored {@code [k,m]} when
 * {@code transA = 1}; likewise {@code op(B)} is {@code B} stored {@code [k,n]} or {@code Bᵀ} with {@code B}
 * stored {@code [n,k]}. {@code C} is {@code [m,n]}.
 *
 * <p>Summation order of {@link #matmul}: every element of {@code C} is computed as
 * {@code c = c₀; for p = 0..k-1: c = c + op(A)[i,p]·op(B)[p,j]} with {@code c₀ = 0}, or the old value of
 * {@code C} when accumulating, a multiply and an add each rounded to fp32. Every code path (either
 * transpose, any blocking of {@code j}) keeps that order, so two products of the same numbers are
 * bit-identical whichever path computed them; this is what lets {@link Conv2d} route its 1×1 forward pass and
 * input gradient here with results bit-identical to its direct kernel. {@link #matmulBatchSum}, the reduction form,
 * sums in double instead (see there).
 *
 * <p>Inner loops: with {@code op(B) = B} a lane adds {@code op(A)[i,p] · B[p,:]} to its row of {@code C}
 * for {@code p} ascending, four values of {@code p} per pass (the i-k-j order: a contiguous loop over the
 * row). With {@code op(B) = Bᵀ} the rows of {@code B} are contiguous along {@code p}, so the lane forms
 * four dot products at once, each summed in the order above. Checked launch factories: {@link Gemm}.
 */
public final class GemmKernels {
    private GemmKernels() {
    }

    /**
     * {@code C_b = [C_b +] op(A_b)·op(B_b)} for every batch item {@code b}; writes {@code c}. One
     * work-item per (batch item, row of C). {@code transA}, {@code transB}, {@code accumulate} are 0 or 1.
     */
    public static void matmul(float[] a, float[] b, float[] c, int batch, int m, int n, int k,
                              int transA, int transB, int strideA, int strideB, int strideC, int accumulate) {
        for (@Parallel int bi = 0; bi < batch; bi++) {
            for (@Parallel int i = 0; i < m; i++) {
                matmulRow(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate, bi, i);
            }
        }
    }

    /**
     * {@code C = [C +] Σ_b op(A_b)·op(B_b)}: the batch is summed into one {@code C} (as when the batch
     * stride of C is 0). This is the reduction form of the product, the one a weight gradient takes
     * (a sum over the batch and the positions): each element of {@code C} is one sum over the batch
     * items, in ascending {@code b}, and {@code p}, taken in double ({@link Sums}) and rounded to float
     * once, instead of the fp32 running sum of {@link #matmul}. Writes {@code c}. One work-item per row
     * of C, which runs the batch items in order, so the sum is deterministic without a second kernel.
     */
    public static void matmulBatchSum(float[] a, float[] b, float[] c, int batch, int m, int n, int k,
                                      int transA, int transB, int strideA, int strideB, int accumulate) {
        for (@Parallel int i = 0; i < m; i++) {
            matmulBatchSumRow(a, b, c, batch, m, n, k, transA, transB, strideA, strideB, accumulate, i);
        }
    }

    /**
     * Row {@code i} of {@link #matmulBatchSum}: {@code c[i,j] = [c[i,j] +] Σ_b Σ_p op(A_b)[i,p]·op(B_b)[p,j]},
     * the old value (when accumulating) and then each batch item's {@link Sums#dot} added in double.
     */
    public static void matmulBatchSumRow(float[] a, float[] b, float[] c, int batch, int m, int n, int k,
                                         int transA, int transB, int strideA, int strideB, int accumulate, int i) {
        int cRow = i * n;
        // op(A)[i,p] = a[aRow + p·aStep], op(B)[p,j] = b[bCol + p·bStep] with bCol = bOff + j·bNext
        int aRow = transA == 0 ? i * k : i;
        int aStep = transA == 0 ? 1 : m;
        int bStep = transB == 0 ? n : 1;
        int bNext = transB == 0 ? 1 : k;
        for (int j = 0; j < n; j++) {
            double s = 0;
            if (accumulate != 0) {
                s = c[cRow + j];
            }
            for (int bi = 0; bi < batch; bi++) {
                int ar = bi * strideA + aRow;
                int bc = bi * strideB + j * bNext;
                if (aStep == 1 && bStep == 1) {
                    s += Sums.dot(a, ar, b, bc, k);
                } else {
                    s += Sums.dotStrided(a, ar, aStep, b, bc, bStep, k);
                }
            }
            c[cRow + j] = (float) s;
        }
    }

    /** Row {@code i} of batch item {@code bi} of {@link #matmul}. */
    public static void matmulRow(float[] a, float[] b, float[] c, int batch, int m, int n, int k, int transA, int transB,
                                 int strideA, int strideB, int strideC, int accumulate, int bi, int i) {
        int aOff = bi * strideA;
        int bOff = bi * strideB;
        int cOff = bi * strideC;
        int cRow = cOff + i * n;
        // op(A)[i,p] = a[aRow + p·aStep]
        int aRow = transA == 0 ? aOff + i * k : aOff + i;
        int aStep = transA == 0 ? 1 : m;
        if (accumulate == 0) {
            for (int j = 0; j < n; j++) {
                c[cRow + j] = 0f;
            }
        }
        if (transB == 0) {
            // Four terms per pass over the row: each element is loaded and stored once per four terms
            // instead of once per term, and still receives them one at a time in ascending p.
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                float a0 = a[aRow + p * aStep];
                float a1 = a[aRow + (p + 1) * aStep];
                float a2 = a[aRow + (p + 2) * aStep];
                float a3 = a[aRow + (p + 3) * aStep];
                int b0 = bOff + p * n;
                int b1 = b0 + n;
                int b2 = b1 + n;
                int b3 = b2 + n;
                for (int j = 0; j < n; j++) {
                    float t = c[cRow + j];
                    t += a0 * b[b0 + j];
                    t += a1 * b[b1 + j];
                    t += a2 * b[b2 + j];
                    t += a3 * b[b3 + j];
                    c[cRow + j] = t;
                }
            }
            for (; p < k; p++) {
                float av = a[aRow + p * aStep];
                int bRow = bOff + p * n;
                for (int j = 0; j < n; j++) {
                    c[cRow + j] += av * b[bRow + j];
                }
            }
        } else {
            // op(B)[p,j] = b[bOff + j·k + p]: four independent dot products keep the FP adders busy.
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = bOff + j * k;
                int b1 = b0 + k;
                int b2 = b1 + k;
                int b3 = b2 + k;
                float s0 = c[cRow + j];
                float s1 = c[cRow + j + 1];
                float s2 = c[cRow + j + 2];
                float s3 = c[cRow + j + 3];
                for (int p = 0; p < k; p++) {
                    float av = a[aRow + p * aStep];
                    s0 += av * b[b0 + p];
                    s1 += av * b[b1 + p];
                    s2 += av * b[b2 + p];
                    s3 += av * b[b3 + p];
                }
                c[cRow + j] = s0;
                c[cRow + j + 1] = s1;
                c[cRow + j + 2] = s2;
                c[cRow + j + 3] = s3;
            }
            for (; j < n; j++) {
                int b0 = bOff + j * k;
                float s = c[cRow + j];
                for (int p = 0; p < k; p++) {
                    s += a[aRow + p * aStep] * b[b0 + p];
                }
                c[cRow + j] = s;
            }
        }
    }

    /**
     * {@code y[o,c,i] += bias[c]} for {@code y[outer, channels, inner]}; writes {@code y}. One work-item per
     * (o, c). The linear layer uses {@code inner = 1}, a convolution {@code inner = OH·OW}.
     */
    public static void addBias(float[] y, float[] bias, int outer, int channels, int inner) {
        for (@Parallel int oc = 0; oc < outer * channels; oc++) {
            addBiasLane(y, bias, outer, channels, inner, oc);
        }
    }

    /** The {@code inner} elements of row {@code oc = o·channels + c} of {@link #addBias}. */
    public static void addBiasLane(float[] y, float[] bias, int outer, int channels, int inner, int oc) {
        float v = bias[oc % channels];
        int base = oc * inner;
        for (int i = 0; i < inner; i++) {
            y[base + i] += v;
        }
    }

    /**
     * The bias gradient {@code gb[c] = Σ_o Σ_i gy[o,c,i]} for {@code gy[outer, channels, inner]}, summed
     * in double ({@link Sums}) with {@code o} outer and {@code i} inner, both ascending, and rounded to
     * float once; writes {@code gb}. One work-item per channel, so the sum needs no cross-lane reduction.
     */
    public static void biasGrad(float[] gy, float[] gb, int outer, int channels, int inner) {
        for (@Parallel int ch = 0; ch < channels; ch++) {
            biasGradLane(gy, gb, outer, channels, inner, ch);
        }
    }

    /** {@code gb[ch]} of {@link #biasGrad}. */
    public static void biasGradLane(float[] gy, float[] gb, int outer, int channels, int inner, int ch) {
        double s;
        if (inner == 1) {
            s = Sums.sumStrided(gy, ch, channels, outer);
        } else {
            s = 0;
            for (int o = 0; o < outer; o++) {
                s += Sums.sum(gy, (o * channels + ch) * inner, inner);
            }
        }
        gb[ch] = (float) s;
    }
}
