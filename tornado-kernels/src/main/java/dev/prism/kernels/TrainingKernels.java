package dev.prism.kernels;

/**
 * The kernels of a training step besides the model's own: the forward diffusion that makes the
 * training input, the losses (mean squared error, softmax cross-entropy), the global gradient norm for
 * clipping, the AdamW update and the exponential moving average of the weights. Checked launch
 * factories: {@link Training}.
 *
 * <p>Reductions (a loss over a batch, the squared norm of every gradient) are two kernels, as
 * everywhere in Prism (docs/KERNELS.md, determinism): partial sums over fixed blocks of
 * {@code block} consecutive elements (for the cross-entropy: of one row), one work-item per block, then
 * one work-item adding the partial sums in order, in double. Every result is therefore the same on every thread count and device.
 *
 * <p>Per-step values (the learning rate and bias corrections, the EMA decay, the clip factor) arrive
 * in {@code float[]} buffers, because they change between executions of a compiled plan
 * (docs/KERNELS.md, per-step scalars).
 */
public final class TrainingKernels {
    /** Layout of AdamW's per-step {@code hyper} buffer (all computed on the host in double): β₁. */
    public static final int BETA1 = 0;
    /** {@code 1 − β₁}. */
    public static final int ONE_MINUS_BETA1 = 1;
    /** β₂. */
    public static final int BETA2 = 2;
    /** {@code 1 − β₂}. */
    public static final int ONE_MINUS_BETA2 = 3;
    /** ε, added to the bias-corrected root of the second moment. */
    public static final int EPS = 4;
    /** {@code 1 − lr·λ}: the decoupled weight decay's factor. */
    public static final int SHRINK = 5;
    /** {@code lr / (1 − β₁^t)}: the step size with the first moment's bias correction. */
    public static final int STEP = 6;
    /** {@code √(1 − β₂^t)}: the second moment's bias correction, as a root. */
    public static final int ROOT2 = 7;
    /** The length of {@code hyper}. */
    public static final int HYPER = 8;

    private TrainingKernels() {
    }

    /**
     * The forward diffusion q(x_t | x_0) of DDPM eq. (4) in reparametrised form:
     * {@code xt[s,j] = coef[2s]·x0[s,j] + coef[2s+1]·eps[s,j]} with {@code coef[2s] = √ᾱ_t} and
     * {@code coef[2s+1] = √(1−ᾱ_t)} for the timestep of sample s. Arrays {@code [batch, size]} flat;
     * writes {@code xt}. One work-item per element.
     */
    public static void qSample(float[] x0, float[] eps, float[] coef, float[] xt, int batch, int size) {
        for (@Parallel int i = 0; i < batch * size; i++) {
            qSampleLane(x0, eps, coef, xt, batch, size, i);
        }
    }

    public static void qSampleLane(float[] x0, float[] eps, float[] coef, float[] xt, int batch, int size, int i) {
        int s = i / size;
        xt[i] = coef[2 * s] * x0[i] + coef[2 * s + 1] * eps[i];
    }

    /**
     * Partial sums of the squared error: {@code partials[b] = Σ_{i ∈ block b} (pred[i] − target[i])²}
     * for blocks of {@code block} elements (the last may be shorter); writes {@code partials}. One
     * work-item per block.
     */
    public static void squaredError(float[] pred, float[] target, float[] partials, int len, int block) {
        for (@Parallel int b = 0; b < (len + block - 1) / block; b++) {
            squaredErrorLane(pred, target, partials, len, block, b);
        }
    }

    public static void squaredErrorLane(float[] pred, float[] target, float[] partials, int len, int block, int b) {
        int end = Math.min(len, (b + 1) * block);
        float s = 0f;
        for (int i = b * block; i < end; i++) {
            float d = pred[i] - target[i];
            s += d * d;
        }
        partials[b] = s;
    }

    /**
     * {@code out[at] = scale · Σ_{k < count} partials[k]}, summed in order in double; writes
     * {@code out[at]}. One work-item.
     */
    public static void sumPartials(float[] partials, float[] out, int count, int at, float scale) {
        for (@Parallel int z = 0; z < 1; z++) {
            sumPartialsLane(partials, out, count, at, scale, z);
        }
    }

    public static void sumPartialsLane(float[] partials, float[] out, int count, int at, float scale, int z) {
        double s = 0;
        for (int k = 0; k < count; k++) {
            s += partials[k];
        }
        out[at + z] = (float) (scale * s);
    }

    /**
     * Backward of the mean squared error {@code L = Σ (pred − target)² / len}:
     * {@code grad[i] = gy[0] · 2·(pred[i] − target[i]) / len}; writes {@code grad}. One work-item per
     * element.
     */
    public static void squaredErrorBackward(float[] pred, float[] target, float[] gy, float[] grad, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            squaredErrorBackwardLane(pred, target, gy, grad, len, i);
        }
    }

    public static void squaredErrorBackwardLane(float[] pred, float[] target, float[] gy, float[] grad, int len, int i) {
        grad[i] = gy[0] * (2f * (pred[i] - target[i]) / len);
    }

    /** The range LDM's {@code DiagonalGaussianDistribution} clamps a log-variance to before using it. */
    public static final float LOGVAR_MIN = -30f;
    /** The upper end of that range. */
    public static final float LOGVAR_MAX = 20f;

    /**
     * A sample of the diagonal Gaussian N(mean, exp(logvar)) by reparameterisation (Kingma and Welling
     * 2014, as LDM's {@code DiagonalGaussianDistribution.sample}): {@code z[i] = mean[i] +
     * exp(½·lv)·eps[i]} with {@code lv = clamp(logvar[i], LOGVAR_MIN, LOGVAR_MAX)} and {@code eps} standard
     * normal noise drawn by the host. Any layout, {@code len} elements; writes {@code z}. One work-item
     * per element.
     */
    public static void gaussianSample(float[] mean, float[] logvar, float[] eps, float[] z, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            gaussianSampleLane(mean, logvar, eps, z, len, i);
        }
    }

    public static void gaussianSampleLane(float[] mean, float[] logvar, float[] eps, float[] z, int len, int i) {
        double lv = Math.min(Math.max(logvar[i], LOGVAR_MIN), LOGVAR_MAX);
        z[i] = (float) (mean[i] + Math.exp(0.5 * lv) * eps[i]);
    }

    /**
     * Backward of {@link #gaussianSample} with respect to the log-variance (the mean's gradient is
     * {@code gz} itself): {@code glogvar[i] = gz[i]·eps[i]·½·exp(½·lv)} where {@code logvar[i]} lies in
     * [LOGVAR_MIN, LOGVAR_MAX], 0 outside (the clamp's gradient, as {@code torch.clamp}'s). Writes
     * {@code glogvar}. One work-item per element.
     */
    public static void gaussianSampleBackward(float[] logvar, float[] eps, float[] gz, float[] glogvar, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            gaussianSampleBackwardLane(logvar, eps, gz, glogvar, len, i);
        }
    }

    public static void gaussianSampleBackwardLane(float[] logvar, float[] eps, float[] gz, float[] glogvar, int len, int i) {
        float lv = logvar[i];
        glogvar[i] = lv >= LOGVAR_MIN && lv <= LOGVAR_MAX ? (float) (gz[i] * eps[i] * 0.5 * Math.exp(0.5 * lv)) : 0f;
    }

    /**
     * Partial sums of the KL divergence of N(mean, exp(logvar)) from N(0, 1), element by element (LDM's
     * {@code DiagonalGaussianDistribution.kl()}, DeepPrism eq. 8 with σ₂ = 1):
     * {@code partials[b] = Σ_{i ∈ block b} ½·(mean[i]² + exp(lv) − 1 − lv)}, lv the clamped log-variance as in
     * {@link #gaussianSample}, over blocks of {@code block} elements (the last may be shorter); writes
     * {@code partials}. One work-item per block.
     */
    public static void klNormal(float[] mean, float[] logvar, float[] partials, int len, int block) {
        for (@Parallel int b = 0; b < (len + block - 1) / block; b++) {
            klNormalLane(mean, logvar, partials, len, block, b);
        }
    }

    public static void klNormalLane(float[] mean, float[] logvar, float[] partials, int len, int block, int b) {
        int end = Math.min(len, (b + 1) * block);
        double s = 0;
        for (int i = b * block; i < end; i++) {
            double lv = Math.min(Math.max(logvar[i], LOGVAR_MIN), LOGVAR_MAX);
            double m = mean[i];
            s += 0.5 * (m * m + Math.exp(lv) - 1.0 - lv);
        }
        partials[b] = (float) s;
    }

    /**
     * Backward of {@code scale·Σ_i kl_i} ({@link #klNormal} summed and scaled) for the upstream gradient
     * {@code gy[0]}: {@code gmean[i] = gy[0]·scale·mean[i]}, {@code glogvar[i] = gy[0]·scale·½·(exp(lv) − 1)}
     * where {@code logvar[i]} lies in [LOGVAR_MIN, LOGVAR_MAX], 0 outside. Writes {@code gmean} and
     * {@code glogvar}. One work-item per element.
     */
    public static void klNormalBackward(float[] mean, float[] logvar, float[] gy, float[] gmean, float[] glogvar, int len, float scale) {
        for (@Parallel int i = 0; i < len; i++) {
            klNormalBackwardLane(mean, logvar, gy, gmean, glogvar, len, scale, i);
        }
    }

    public static void klNormalBackwardLane(float[] mean, float[] logvar, float[] gy, float[] gmean, float[] glogvar, int len, float scale,
                                            int i) {
        float g = gy[0] * scale;
        float lv = logvar[i];
        gmean[i] = g * mean[i];
        glogvar[i] = lv >= LOGVAR_MIN && lv <= LOGVAR_MAX ? (float) (g * 0.5 * (Math.exp(lv) - 1.0)) : 0f;
    }

    /**
     * The softmax cross-entropy of each row of {@code logits[rows, classes]} (row-major) against its class
     * {@code y_r = labels[r]}, as in {@code F.cross_entropy(logits, labels, reduction='none')}:
     * <pre>
     *   partials[r] = log Σ_j exp(z[r,j]) − z[r, y_r]            ({@link #logSumExp})
     * </pre> The labels are class indices held as floats (a kernel takes
     * {@code float[]} and {@code int} only); a label that is not an integer in {@code [0, classes)} gives
     * NaN, so that a bad label shows in the loss instead of reading outside the row. Writes
     * {@code partials[0 .. rows)}; their sum is the second kernel of the reduction ({@link #sumPartials}).
     * One work-item per row.
     */
    public static void crossEntropy(float[] logits, float[] labels, float[] partials, int rows, int classes) {
        for (@Parallel int r = 0; r < rows; r++) {
            crossEntropyLane(logits, labels, partials, rows, classes, r);
        }
    }

    public static void crossEntropyLane(float[] logits, float[] labels, float[] partials, int rows, int classes, int r) {
        int base = r * classes;
        float label = labels[r];
        int y = (int) label;
        if (y < 0 || y >= classes || y != label) {
            partials[r] = nan(label);
        } else {
            partials[r] = (float) (logSumExp(logits, base, classes) - logits[base + y]);
        }
    }

    /**
     * A NaN computed at run time ({@code 0/0}, or NaN when {@code v} is not finite): TornadoVM 5.2's OpenCL
     * code generator writes a NaN constant such as {@code Float.NaN} as the undeclared identifier
     * {@code NaNF}, which fails the device compile, and {@code v·0} cannot be folded into a constant.
     */
    public static float nan(float v) {
        float zero = v * 0f;
        return zero / zero;
    }

    /**
     * {@code log Σ_j exp(z[base + j])} over {@code j < n}, as {@code m + log Σ exp(z − m)} with
     * {@code m = max z} (no exponent overflows), summed in double.
     */
    public static double logSumExp(float[] z, int base, int n) {
        float m = z[base];
        for (int j = 1; j < n; j++) {
            m = Math.max(m, z[base + j]);
        }
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += Math.exp(z[base + j] - m);
        }
        return m + Math.log(s);
    }

    /**
     * Backward of the mean cross-entropy {@code L = Σ_r partials[r] / rows} with respect to the logits,
     * for the upstream gradient {@code gy[0]}:
     * {@code grad[r,j] = gy[0]·(softmax(z_r)_j − [j = y_r]) / rows}; a row with a bad label (see
     * {@link #crossEntropy}) gets NaN. Writes {@code grad[rows, classes]}. One work-item per row.
     */
    public static void crossEntropyBackward(float[] logits, float[] labels, float[] gy, float[] grad, int rows, int classes) {
        for (@Parallel int r = 0; r < rows; r++) {
            crossEntropyBackwardLane(logits, labels, gy, grad, rows, classes, r);
        }
    }

    public static void crossEntropyBackwardLane(float[] logits, float[] labels, float[] gy, float[] grad, int rows, int classes, int r) {
        int base = r * classes;
        float label = labels[r];
        int y = (int) label;
        boolean bad = y < 0 || y >= classes || y != label;
        double lse = logSumExp(logits, base, classes);
        double scale = gy[0] / (double) rows;
        for (int j = 0; j < classes; j++) {
            double p = Math.exp(logits[base + j] - lse);
            double hot = j == y ? 1.0 : 0.0;
            grad[base + j] = bad ? nan(label) : (float) (scale * (p - hot));
        }
    }

    /**
     * Partial sums of squares of one gradient for the global norm:
     * {@code partials[at + b] = Σ_{i ∈ block b} g[i]²}; writes {@code partials[at ..]}. One work-item per
     * block.
     */
    public static void sumSquares(float[] g, float[] partials, int len, int block, int at) {
        for (@Parallel int b = 0; b < (len + block - 1) / block; b++) {
            sumSquaresLane(g, partials, len, block, at, b);
        }
    }

    public static void sumSquaresLane(float[] g, float[] partials, int len, int block, int at, int b) {
        int end = Math.min(len, (b + 1) * block);
        float s = 0f;
        for (int i = b * block; i < end; i++) {
            s += g[i] * g[i];
        }
        partials[at + b] = s;
    }

    /**
     * The clip factor of {@code torch.nn.utils.clip_grad_norm_}: with {@code n = √(Σ partials)} the global
     * gradient norm, {@code clip[0] = min(1, maxNorm / (n + 1e-6))} ({@code 1} when {@code maxNorm ≤ 0}:
     * no clipping) and {@code clip[1] = n}; writes {@code clip}. One work-item.
     */
    public static void clipFactor(float[] partials, float[] clip, int count, float maxNorm) {
        for (@Parallel int z = 0; z < 1; z++) {
            clipFactorLane(partials, clip, count, maxNorm, z);
        }
    }

    public static void clipFactorLane(float[] partials, float[] clip, int count, float maxNorm, int z) {
        double s = 0;
        for (int k = 0; k < count; k++) {
            s += partials[k];
        }
        float norm = (float) Math.sqrt(s);
        float factor = maxNorm / (norm + 1e-6f);
        clip[z] = maxNorm > 0f && factor < 1f ? factor : 1f;
        clip[z + 1] = norm;
    }

    /**
     * One AdamW step (Loshchilov &amp; Hutter, decoupled weight decay), in the operation order of
     * PyTorch 1.13's {@code torch.optim.AdamW} (single-tensor path), on the gradient scaled by the clip
     * factor {@code c = clip[0]}:
     * <pre>
     *   g  = c·grad[i]
     *   w  = w·shrink                               shrink = 1 − lr·λ
     *   m  = β₁·m + (1 − β₁)·g
     *   v  = β₂·v + (1 − β₂)·g²
     *   w  = w − step · m / (√v / root2 + ε)      step = lr / (1 − β₁^t), root2 = √(1 − β₂^t)
     * </pre>
     * with the scalars in {@code hyper} ({@link #BETA1} ... {@link #ROOT2}, computed in double on the host and
     * rounded once, as PyTorch passes them). Writes {@code w}, {@code m},
     * {@code v}. One work-item per element.
     */
    public static void adamw(float[] w, float[] grad, float[] m, float[] v, float[] hyper, float[] clip, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            adamwLane(w, grad, m, v, hyper, clip, len, i);
        }
    }

    public static void adamwLane(float[] w, float[] grad, float[] m, float[] v, float[] hyper, float[] clip, int len, int i) {
        float g = grad[i] * clip[0];
        float wi = w[i] * hyper[SHRINK];
        float mi = m[i] * hyper[BETA1] + hyper[ONE_MINUS_BETA1] * g;
        float vi = v[i] * hyper[BETA2] + hyper[ONE_MINUS_BETA2] * (g * g);
        float denom = (float) Math.sqrt(vi) / hyper[ROOT2] + hyper[EPS];
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - hyper[STEP] * (mi / denom);
    }

    /**
     * The exponential moving average of the weights: {@code ema[i] = d·ema[i] + (1 − d)·w[i]} with
     * {@code d = decay[0]} and {@code 1 − d = decay[1]} (computed in double on the host); writes
     * {@code ema}. One work-item per element.
     */
    public static void ema(float[] ema, float[] w, float[] decay, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            emaLane(ema, w, decay, len, i);
        }
    }

    public static void emaLane(float[] ema, float[] w, float[] decay, int len, int i) {
        ema[i] = decay[0] * ema[i] + decay[1] * w[i];
    }
    // ---------------------------------------------------------------- WaveDiff / DDGAN's adversarial training

    /**
     * StyleGAN's minibatch standard deviation (Karras et al. 2018, §3; WaveDiff's {@code Discriminator_small}),
     * first kernel: for {@code x[N,C,H,W]} row-major, {@code group} = G dividing N (the factory passes
     * {@code min(N, group)}), M = N/G, sample {@code g·M + m} the g-th member of group m, and P = C·H·W:
     * <pre>
     *   μ_m[p]  = (1/G)·Σ_g x[g·M + m, p]
     *   sd_m[p] = √((1/G)·Σ_g (x[g·M + m, p] − μ_m[p])² + 1e-8)            ({@link #stddevAt})
     *   partials[m·B + b] = Σ_{p ∈ block b} sd_m[p]                        (in double, rounded once)
     * </pre> with B = ⌈P / block⌉ blocks of {@code block} positions (the last may be shorter). Writes
     * {@code partials[0 .. M·B)}. One work-item per (m, block).
     */
    public static void stddevBlocks(float[] x, float[] partials, int n, int c, int h, int w, int group, int block) {
        for (@Parallel int m = 0; m < n / group; m++) {
            for (@Parallel int b = 0; b < (c * h * w + block - 1) / block; b++) {
                stddevBlocksLane(x, partials, n, c, h, w, group, block, m, b);
            }
        }
    }

    public static void stddevBlocksLane(float[] x, float[] partials, int n, int c, int h, int w, int group, int block, int m, int b) {
        int size = c * h * w;
        int groups = n / group;
        int end = Math.min(size, (b + 1) * block);
        double s = 0;
        for (int p = b * block; p < end; p++) {
            s += stddevAt(x, size, groups, group, m, p);
        }
        partials[m * ((size + block - 1) / block) + b] = (float) s;
    }

    /**
     * {@code √(var + 1e-8)} of the {@code group} values {@code x[(g·groups + m)·size + p]}, the biased
     * variance ({@code unbiased=False}), in double around their mean; the group is at most a few samples.
     */
    public static double stddevAt(float[] x, int size, int groups, int group, int m, int p) {
        return stddevAround(x, size, groups, group, m, p, stddevMeanAt(x, size, groups, group, m, p));
    }

    /** {@link #stddevAt} around the group's mean {@code mu} ({@link #stddevMeanAt}), computed by the caller. */
    public static double stddevAround(float[] x, int size, int groups, int group, int m, int p, double mu) {
        double v = 0;
        for (int g = 0; g < group; g++) {
            double d = x[(g * groups + m) * size + p] - mu;
            v += d * d;
        }
        return Math.sqrt(v / group + 1e-8);
    }

    /** The mean of the {@code group} values {@code x[(g·groups + m)·size + p]}, in double. */
    public static double stddevMeanAt(float[] x, int size, int groups, int group, int m, int p) {
        double s = 0;
        for (int g = 0; g < group; g++) {
            s += x[(g * groups + m) * size + p];
        }
        return s / group;
    }

    /**
     * Second kernel of the minibatch standard deviation: {@code s_m = (1/P)·Σ_b partials[m·B + b]} (in
     * order, in double) into {@code partials[M·B + m]}, the sizes as in {@link #stddevBlocks}. Writes
     * {@code partials[M·B .. M·B + M)}. One work-item per m.
     */
    public static void stddevMean(float[] partials, int n, int c, int h, int w, int group, int block) {
        for (@Parallel int m = 0; m < n / group; m++) {
            stddevMeanLane(partials, n, c, h, w, group, block, m);
        }
    }

    public static void stddevMeanLane(float[] partials, int n, int c, int h, int w, int group, int block, int m) {
        int size = c * h * w;
        int count = (size + block - 1) / block;
        partials[(n / group) * count + m] = (float) (Sums.sum(partials, m * count, count) / size);
    }

    /**
     * Third kernel: {@code out[i, 0, y, x] = s_{i mod M}} for {@code out[N,1,H,W]}, {@code s_m} read from
     * {@code partials[M·B + m]} ({@link #stddevMean}); writes {@code out}. One work-item per (i, y·W + x).
     */
    public static void stddevFill(float[] partials, float[] out, int n, int c, int h, int w, int group, int block) {
        for (@Parallel int i = 0; i < n; i++) {
            for (@Parallel int q = 0; q < h * w; q++) {
                stddevFillLane(partials, out, n, c, h, w, group, block, i, q);
            }
        }
    }

    public static void stddevFillLane(float[] partials, float[] out, int n, int c, int h, int w, int group, int block, int i, int q) {
        int groups = n / group;
        int count = (c * h * w + block - 1) / block;
        out[i * h * w + q] = partials[groups * count + i % groups];
    }

    /**
     * First kernel of the minibatch standard deviation's backward: {@code sums[m] = Σ_g Σ_{y,x}
     * gout[g·M + m, 0, y, x]} for the upstream gradient {@code gout[N,1,H,W]} (in double), the gradient of
     * {@code s_m}, which every pixel of the G samples of group m received. Writes {@code sums[0 .. M)}. One
     * work-item per m.
     */
    public static void stddevGradSum(float[] gout, float[] sums, int n, int h, int w, int group) {
        for (@Parallel int m = 0; m < n / group; m++) {
            stddevGradSumLane(gout, sums, n, h, w, group, m);
        }
    }

    public static void stddevGradSumLane(float[] gout, float[] sums, int n, int h, int w, int group, int m) {
        int groups = n / group;
        double s = 0;
        for (int g = 0; g < group; g++) {
            s += Sums.sum(gout, (g * groups + m) * h * w, h * w);
        }
        sums[m] = (float) s;
    }

    /**
     * Second kernel of the backward: {@code gx[i,p] = A_m/P · (x[i,p] − μ_m[p]) / (G·sd_m[p])} with
     * {@code m = i mod M}, {@code A_m = sums[m]} ({@link #stddevGradSum}) and μ, sd recomputed from
     * {@code x} as in {@link #stddevBlocks} (the derivative of √(var + 1e-8) through the biased variance;
     * the mean's own derivative cancels, as Σ_g (x − μ) = 0). Writes {@code gx[N,C,H,W]} (no
     * accumulation). One work-item per (i, p).
     */
    public static void stddevBackward(float[] x, float[] sums, float[] gx, int n, int c, int h, int w, int group) {
        for (@Parallel int i = 0; i < n; i++) {
            for (@Parallel int p = 0; p < c * h * w; p++) {
                stddevBackwardLane(x, sums, gx, n, c, h, w, group, i, p);
            }
        }
    }

    public static void stddevBackwardLane(float[] x, float[] sums, float[] gx, int n, int c, int h, int w, int group, int i, int p) {
        int size = c * h * w;
        int groups = n / group;
        int m = i % groups;
        double mu = stddevMeanAt(x, size, groups, group, m, p);
        double sd = stddevAround(x, size, groups, group, m, p, mu);
        gx[i * size + p] = (float) ((double) sums[m] / size * (x[i * size + p] - mu) / (group * sd));
    }

    /**
     * {@code Q_m[p] = Σ_g u[g·M + m, p]·(x[g·M + m, p] − mu)} of the {@code group} values at position p of group m
     * ({@code groups} = M), around their mean {@code mu} ({@link #stddevMeanAt}), in double: what the upstream
     * gradient u of the backward's {@code gx} contributes along the group's deviations.
     */
    public static double stddevUpstreamDot(float[] x, float[] u, int size, int groups, int group, int m, int p, double mu) {
        double q = 0;
        for (int g = 0; g < group; g++) {
            int at = (g * groups + m) * size + p;
            q += u[at] * (x[at] - mu);
        }
        return q;
    }

    /**
     * First kernel of the minibatch standard deviation's double backward (the backward {@code gx = z} of
     * {@link #stddevBackward}, {@code z_i[p] = a_m·(x_i[p] − μ)/(G·sd)} with {@code a_m = A_m/P}, differentiated
     * for an upstream gradient {@code u[N,C,H,W]}): the partial sums of {@code ∂L/∂a_m = Σ_p Q_m[p]/(G·sd_m[p])}
     * ({@link #stddevUpstreamDot}), sizes as in {@link #stddevBlocks},
     * <pre>
     *   scratch[M + 2·(m·B + b)], [… + 1] = Σ_{p ∈ block b} Q_m[p]/(G·sd_m[p])     (in double, a pair of floats)
     * </pre> ({@link Sums#storeSplit}); {@code scratch[0 .. M)} holds the {@code A_m} of {@link #stddevGradSum}
     * and is not touched. Writes {@code scratch[M .. M + 2·M·B)}. One work-item per (m, block).
     */
    public static void stddevDoubleBlocks(float[] x, float[] u, float[] scratch, int n, int c, int h, int w, int group, int block) {
        for (@Parallel int m = 0; m < n / group; m++) {
            for (@Parallel int b = 0; b < (c * h * w + block - 1) / block; b++) {
                stddevDoubleBlocksLane(x, u, scratch, n, c, h, w, group, block, m, b);
            }
        }
    }

    public static void stddevDoubleBlocksLane(float[] x, float[] u, float[] scratch, int n, int c, int h, int w, int group, int block,
                                              int m, int b) {
        int size = c * h * w;
        int groups = n / group;
        int end = Math.min(size, (b + 1) * block);
        double s = 0;
        for (int p = b * block; p < end; p++) {
            double mu = stddevMeanAt(x, size, groups, group, m, p);
            double sd = stddevAround(x, size, groups, group, m, p, mu);
            s += stddevUpstreamDot(x, u, size, groups, group, m, p, mu) / (group * sd);
        }
        Sums.storeSplit(scratch, groups + 2 * (m * ((size + block - 1) / block) + b), s);
    }

    /**
     * Second kernel of the double backward, the gradient of the upstream {@code gout[N,1,H,W]}:
     * {@code ugout[i, 0, y, x] = (1/P)·∂L/∂a_m} with {@code m = i mod M}, the B pairs of {@link #stddevDoubleBlocks}
     * summed in order, in double ({@link Sums#sumSplit}; every pixel of the group's samples gets the same value, as
     * each of them entered {@code A_m} once). Writes {@code ugout} (no accumulation). One work-item per (i, y·W + x).
     */
    public static void stddevDoubleGout(float[] scratch, float[] ugout, int n, int c, int h, int w, int group, int block) {
        for (@Parallel int i = 0; i < n; i++) {
            for (@Parallel int q = 0; q < h * w; q++) {
                stddevDoubleGoutLane(scratch, ugout, n, c, h, w, group, block, i, q);
            }
        }
    }

    public static void stddevDoubleGoutLane(float[] scratch, float[] ugout, int n, int c, int h, int w, int group, int block, int i,
                                            int q) {
        int size = c * h * w;
        int groups = n / group;
        int count = (size + block - 1) / block;
        ugout[i * h * w + q] = (float) (Sums.sumSplit(scratch, groups + 2 * (i % groups) * count, 2, count) / size);
    }

    /**
     * Third kernel of the double backward, the gradient of x: with {@code m = j mod M}, {@code a_m = scratch[m]/P}
     * ({@link #stddevGradSum}), μ and sd as in {@link #stddevBlocks}, {@code ū = (1/G)·Σ_g u[g·M + m, p]} and
     * {@code Q} of {@link #stddevUpstreamDot}, in double,
     * <pre>
     *   ux[j,p] = a_m/(G·sd)·(u[j,p] − ū − (x[j,p] − μ)·Q/(G·sd²))
     * </pre> (the derivative of {@code (x_i − μ)/sd} through the mean and the biased variance). Writes
     * {@code ux[N,C,H,W]} (no accumulation). One work-item per (j, p).
     */
    public static void stddevDoubleInput(float[] x, float[] u, float[] scratch, float[] ux, int n, int c, int h, int w, int group) {
        for (@Parallel int j = 0; j < n; j++) {
            for (@Parallel int p = 0; p < c * h * w; p++) {
                stddevDoubleInputLane(x, u, scratch, ux, n, c, h, w, group, j, p);
            }
        }
    }

    public static void stddevDoubleInputLane(float[] x, float[] u, float[] scratch, float[] ux, int n, int c, int h, int w, int group,
                                             int j, int p) {
        int size = c * h * w;
        int groups = n / group;
        int m = j % groups;
        double mu = stddevMeanAt(x, size, groups, group, m, p);
        double sd = stddevAround(x, size, groups, group, m, p, mu);
        double ubar = stddevMeanAt(u, size, groups, group, m, p);
        double q = stddevUpstreamDot(x, u, size, groups, group, m, p, mu);
        double gs = group * sd;
        ux[j * size + p] = (float) ((double) scratch[m] / size / gs * (u[j * size + p] - ubar - (x[j * size + p] - mu) * q / (gs * sd)));
    }

    /** Above this, PyTorch's {@code F.softplus} (beta 1, threshold 20) returns its input itself. */
    public static final float SOFTPLUS_THRESHOLD = 20f;

    /**
     * Partial sums of the softplus of {@code sign·d} (DDGAN's non-saturating GAN loss,
     * {@code F.softplus(−D(x)).mean()} with sign −1, {@code F.softplus(D(G(z))).mean()} with sign 1):
     * {@code partials[b] = Σ_{i ∈ block b} softplus(sign·d[i])} ({@link #softplusOf}) for blocks of
     * {@code block} elements (the last may be shorter), in double; writes {@code partials}. One work-item
     * per block.
     */
    public static void softplusLoss(float[] d, float[] partials, int len, int block, float sign) {
        for (@Parallel int b = 0; b < (len + block - 1) / block; b++) {
            softplusLossLane(d, partials, len, block, sign, b);
        }
    }

    public static void softplusLossLane(float[] d, float[] partials, int len, int block, float sign, int b) {
        int end = Math.min(len, (b + 1) * block);
        double s = 0;
        for (int i = b * block; i < end; i++) {
            s += softplusOf(sign * d[i]);
        }
        partials[b] = (float) s;
    }

    /**
     * {@code F.softplus(z)} in double: {@code z} above {@link #SOFTPLUS_THRESHOLD}, else
     * {@code max(z, 0) + log(1 + exp(−|z|))} with {@code log(1 + t)} from {@link #log1pSmall}, so that the
     * softplus of a very negative z (about {@code exp(z)}) keeps its relative accuracy.
     */
    public static double softplusOf(float z) {
        if (z > SOFTPLUS_THRESHOLD) {
            return z;
        }
        double t = Math.exp(-Math.abs((double) z));
        return Math.max((double) z, 0.0) + log1pSmall(t);
    }

    /**
     * {@code log(1 + t)} for {@code 0 ≤ t ≤ 1} in double: below 1e-4 the series {@code t − t²/2 + t³/3}
     * (its next term, t⁴/4, is below 2.5e-17 of the value), else {@code log(1 + t)}, whose rounding of
     * {@code 1 + t} is then below 1.2e-12 of the value. {@code Math.log1p} is not a kernel method
     * (TornadoVM 5.2 cannot compile it, {@code KernelScan.MATH}), and Goldberg's {@code log(u)·t/(u − 1)}
     * would not survive the device compiler's {@code -cl-fast-relaxed-math}, which may fold {@code u − 1}
     * back into {@code t}.
     */
    public static double log1pSmall(double t) {
        if (t < 1e-4) {
            return t * (1.0 - t * (0.5 - t / 3.0));
        }
        return Math.log(1.0 + t);
    }

    /**
     * Backward of {@code (1/len)·Σ_i softplus(sign·d[i])} for the upstream gradient {@code gy[0]}:
     * {@code gd[i] = gy[0]·sign·σ(sign·d[i]) / len} with {@code σ(z) = e/(1 + e)}, {@code e = exp(z)}, as
     * PyTorch's {@code softplus_backward}, and exactly {@code gy[0]·sign/len} where {@code z} lies above the
     * threshold. Writes {@code gd}. One work-item per element.
     */
    public static void softplusLossBackward(float[] d, float[] gy, float[] gd, int len, float sign) {
        for (@Parallel int i = 0; i < len; i++) {
            softplusLossBackwardLane(d, gy, gd, len, sign, i);
        }
    }

    public static void softplusLossBackwardLane(float[] d, float[] gy, float[] gd, int len, float sign, int i) {
        float z = sign * d[i];
        double s = 1.0;
        if (z <= SOFTPLUS_THRESHOLD) {
            double e = Math.exp((double) z);
            s = e / (1.0 + e);
        }
        gd[i] = (float) ((double) gy[0] * sign * s / len);
    }

    /**
     * Partial sums of the absolute error ({@code F.l1_loss}, WaveDiff's reconstruction loss):
     * {@code partials[b] = Σ_{i ∈ block b} |pred[i] − target[i]|} for blocks of {@code block} elements
     * (the last may be shorter), in double; writes {@code partials}. One work-item per block.
     */
    public static void absoluteError(float[] pred, float[] target, float[] partials, int len, int block) {
        for (@Parallel int b = 0; b < (len + block - 1) / block; b++) {
            absoluteErrorLane(pred, target, partials, len, block, b);
        }
    }

    public static void absoluteErrorLane(float[] pred, float[] target, float[] partials, int len, int block, int b) {
        int end = Math.min(len, (b + 1) * block);
        double s = 0;
        for (int i = b * block; i < end; i++) {
            s += Math.abs((double) pred[i] - target[i]);
        }
        partials[b] = (float) s;
    }

    /**
     * Backward of the mean absolute error {@code L = Σ |pred − target| / len}:
     * {@code grad[i] = gy[0]·sign(pred[i] − target[i]) / len} with {@code sign(0) = 0}, as PyTorch's; a
     * NaN difference gives NaN. Writes {@code grad}. One work-item per element.
     */
    public static void absoluteErrorBackward(float[] pred, float[] target, float[] gy, float[] grad, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            absoluteErrorBackwardLane(pred, target, gy, grad, len, i);
        }
    }

    public static void absoluteErrorBackwardLane(float[] pred, float[] target, float[] gy, float[] grad, int len, int i) {
        // with subnormals, the float difference of two floats is 0 only where they are equal
        grad[i] = gy[0] * Math.signum(pred[i] - target[i]) / len;
    }
}
