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
}
