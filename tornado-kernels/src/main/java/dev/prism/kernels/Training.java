package dev.prism.kernels;

import dev.prism.backend.Launch;

import java.util.List;

/**
 * Checked launches of the training kernels in {@link TrainingKernels}: the forward diffusion, the
 * mean squared error and the softmax cross-entropy with their backward passes, the global gradient
 * norm with the clip factor, AdamW and the weight EMA; for WaveDiff's adversarial (DDGAN) training, the
 * minibatch standard deviation of its discriminator (with its double backward, for the R1 penalty's double
 * back-propagation), the softplus GAN loss and the L1 reconstruction loss, with their backward passes.
 */
public final class Training {
    /** Elements per partial sum of the blocked reductions. */
    public static final int BLOCK = 256;

    private static final Kernel Q_SAMPLE = Kernel.of("training.qSample", "qSampleLane");
    private static final Kernel SQUARED_ERROR = Kernel.of("training.squaredError", "squaredErrorLane");
    private static final Kernel SUM_PARTIALS = Kernel.of("training.sumPartials", "sumPartialsLane");
    // no vector variant: it runs once a training step, so the JIT reaches its Vector API code last (tens of steps in),
    // and until then that code runs unintrinsified: 2.5 to 4 ms a step against microseconds for the loop (Intel Xeon)
    private static final Kernel SQUARED_ERROR_BACKWARD = Kernel.of("training.squaredErrorBackward", "squaredErrorBackwardLane");
    private static final Kernel CROSS_ENTROPY = Kernel.of("training.crossEntropy", "crossEntropyLane");
    private static final Kernel CROSS_ENTROPY_BACKWARD = Kernel.of("training.crossEntropyBackward", "crossEntropyBackwardLane");
    private static final Kernel GAUSSIAN_SAMPLE = Kernel.of("training.gaussianSample", "gaussianSampleLane")
            .vector("TrainingVector", "gaussianSampleRange");
    private static final Kernel GAUSSIAN_SAMPLE_BACKWARD = Kernel.of("training.gaussianSampleBackward", "gaussianSampleBackwardLane")
            .vector("TrainingVector", "gaussianSampleBackwardRange");
    private static final Kernel KL_NORMAL = Kernel.of("training.klNormal", "klNormalLane");
    private static final Kernel KL_NORMAL_BACKWARD = Kernel.of("training.klNormalBackward", "klNormalBackwardLane");
    private static final Kernel SUM_SQUARES = Kernel.of("training.sumSquares", "sumSquaresLane");
    private static final Kernel CLIP_FACTOR = Kernel.of("training.clipFactor", "clipFactorLane");
    private static final Kernel ADAMW = Kernel.of("training.adamw", "adamwLane");
    private static final Kernel EMA = Kernel.of("training.ema", "emaLane");
    private static final Kernel STDDEV_BLOCKS = Kernel.of("training.stddevBlocks", "stddevBlocksLane");
    private static final Kernel STDDEV_MEAN = Kernel.of("training.stddevMean", "stddevMeanLane");
    private static final Kernel STDDEV_FILL = Kernel.of("training.stddevFill", "stddevFillLane");
    private static final Kernel STDDEV_GRAD_SUM = Kernel.of("training.stddevGradSum", "stddevGradSumLane");
    private static final Kernel STDDEV_BACKWARD = Kernel.of("training.stddevBackward", "stddevBackwardLane");
    private static final Kernel STDDEV_DOUBLE_BLOCKS = Kernel.of("training.stddevDoubleBlocks", "stddevDoubleBlocksLane");
    private static final Kernel STDDEV_DOUBLE_GOUT = Kernel.of("training.stddevDoubleGout", "stddevDoubleGoutLane");
    private static final Kernel STDDEV_DOUBLE_INPUT = Kernel.of("training.stddevDoubleInput", "stddevDoubleInputLane");
    private static final Kernel SOFTPLUS_LOSS = Kernel.of("training.softplusLoss", "softplusLossLane");
    private static final Kernel SOFTPLUS_LOSS_BACKWARD = Kernel.of("training.softplusLossBackward", "softplusLossBackwardLane");
    private static final Kernel ABSOLUTE_ERROR = Kernel.of("training.absoluteError", "absoluteErrorLane");
    private static final Kernel ABSOLUTE_ERROR_BACKWARD = Kernel.of("training.absoluteErrorBackward", "absoluteErrorBackwardLane");

    private Training() {
    }

    /** The number of partial sums of a blocked reduction over {@code len} elements. */
    public static int blocks(int len) {
        return (len + BLOCK - 1) / BLOCK;
    }

    /**
     * {@code xt = coef[2s]·x0 + coef[2s+1]·eps} per sample s of {@code [batch, size]} (see
     * {@link TrainingKernels#qSample}); {@code coef} holds {@code 2·batch} floats. Writes {@code xt}.
     */
    public static Launch qSample(float[] x0, float[] eps, float[] coef, float[] xt, int batch, int size) {
        Check k = Check.of("training.qSample").positive("batch", batch).positive("size", size);
        int len = k.size("x0", batch, size);
        k.length("x0", x0, len).length("eps", eps, len).length("coef", coef, 2L * batch).length("xt", xt, len)
                .distinct("x0", x0, "xt", xt).distinct("eps", eps, "xt", xt).distinct("coef", coef, "xt", xt);
        return Q_SAMPLE.with(x0, eps, coef, xt, batch, size).writes(3).grid(len).launch(3L * len, 12L * len + 8L * batch);
    }

    /**
     * The mean squared error {@code loss[0] = Σ (pred − target)² / len}, as blocked partial sums into
     * {@code partials} (at least {@link #blocks}{@code (len)} floats) and their sum. Writes
     * {@code partials} and {@code loss[0]}.
     */
    public static List<Launch> meanSquaredError(float[] pred, float[] target, float[] partials, float[] loss, int len) {
        Check k = Check.of("training.meanSquaredError").positive("len", len);
        int blocks = blocks(len);
        k.length("pred", pred, len).length("target", target, len).atLeast("partials", partials, blocks).atLeast("loss", loss, 1)
                .distinct("pred", pred, "partials", partials).distinct("target", target, "partials", partials)
                .distinct("partials", partials, "loss", loss);
        return List.of(
                SQUARED_ERROR.with(pred, target, partials, len, BLOCK).writes(2).grid(blocks).launch(3L * len, 8L * len + 4L * blocks),
                sum(partials, loss, blocks, 0, 1f / len));
    }

    /** {@code out[at] = scale · Σ_{k < count} partials[k]} (in order, in double); writes {@code out}. */
    public static Launch sum(float[] partials, float[] out, int count, int at, float scale) {
        Check k = Check.of("training.sumPartials").positive("count", count).nonNegative("at", at).finite("scale", scale);
        k.atLeast("partials", partials, count).atLeast("out", out, at + 1L).distinct("partials", partials, "out", out);
        return SUM_PARTIALS.with(partials, out, count, at, scale).writes(1).grid(1).launch(count, 4L * count + 4);
    }

    /**
     * Backward of {@link #meanSquaredError} with respect to {@code pred}, for the upstream gradient
     * {@code gy[0]}: {@code grad = gy[0]·2·(pred − target)/len}. Writes {@code grad}.
     */
    public static Launch meanSquaredErrorBackward(float[] pred, float[] target, float[] gy, float[] grad, int len) {
        Check k = Check.of("training.squaredErrorBackward").positive("len", len);
        k.length("pred", pred, len).length("target", target, len).atLeast("gy", gy, 1).length("grad", grad, len)
                .distinct("gy", gy, "grad", grad);
        return SQUARED_ERROR_BACKWARD.with(pred, target, gy, grad, len).writes(3).grid(len).launch(4L * len, 12L * len);
    }

    /**
     * The mean softmax cross-entropy of {@code logits[rows, classes]} against the class indices
     * {@code labels[rows]} (integers held as floats), {@code F.cross_entropy(logits, labels)}: each row's
     * loss into {@code partials} (at least {@code rows} floats), then {@code loss[0]} = their mean. A label
     * that is not an integer in {@code [0, classes)} makes the loss NaN (see
     * {@link TrainingKernels#crossEntropy}). Writes {@code partials} and {@code loss[0]}.
     */
    public static List<Launch> crossEntropy(float[] logits, float[] labels, float[] partials, float[] loss, int rows, int classes) {
        Check k = Check.of("training.crossEntropy").positive("rows", rows).positive("classes", classes);
        int len = k.size("logits", rows, classes);
        k.length("logits", logits, len).length("labels", labels, rows).atLeast("partials", partials, rows).atLeast("loss", loss, 1)
                .distinct("logits", logits, "partials", partials).distinct("labels", labels, "partials", partials)
                .distinct("partials", partials, "loss", loss);
        return List.of(
                CROSS_ENTROPY.with(logits, labels, partials, rows, classes).writes(2).grid(rows).launch(4L * len, 4L * len + 8L * rows),
                sum(partials, loss, rows, 0, 1f / rows));
    }

    /**
     * Backward of {@link #crossEntropy} with respect to the logits, for the upstream gradient
     * {@code gy[0]}: {@code grad[r,j] = gy[0]·(softmax(z_r)_j − [j = y_r]) / rows}. Writes
     * {@code grad[rows, classes]}.
     */
    public static Launch crossEntropyBackward(float[] logits, float[] labels, float[] gy, float[] grad, int rows, int classes) {
        Check k = Check.of("training.crossEntropyBackward").positive("rows", rows).positive("classes", classes);
        int len = k.size("logits", rows, classes);
        k.length("logits", logits, len).length("labels", labels, rows).atLeast("gy", gy, 1).length("grad", grad, len)
                .distinct("logits", logits, "grad", grad).distinct("labels", labels, "grad", grad).distinct("gy", gy, "grad", grad);
        return CROSS_ENTROPY_BACKWARD.with(logits, labels, gy, grad, rows, classes).writes(3).grid(rows)
                .launch(8L * len, 8L * len + 4L * rows);
    }

    /**
     * The reparameterised sample {@code z = mean + exp(½·clamp(logvar, −30, 20))·eps} of a diagonal Gaussian
     * (see {@link TrainingKernels#gaussianSample}), {@code len} elements of any layout. Writes {@code z}.
     */
    public static Launch gaussianSample(float[] mean, float[] logvar, float[] eps, float[] z, int len) {
        Check k = Check.of("training.gaussianSample").positive("len", len);
        k.length("mean", mean, len).length("logvar", logvar, len).length("eps", eps, len).length("z", z, len)
                .distinct("mean", mean, "z", z).distinct("logvar", logvar, "z", z).distinct("eps", eps, "z", z);
        return GAUSSIAN_SAMPLE.with(mean, logvar, eps, z, len).writes(3).grid(len).launch(5L * len, 16L * len);
    }

    /**
     * Backward of {@link #gaussianSample} with respect to {@code logvar}, for the upstream gradient
     * {@code gz}: {@code glogvar = gz·eps·½·exp(½·lv)} inside the clamp's range, 0 outside (the mean's
     * gradient is {@code gz}). Writes {@code glogvar}.
     */
    public static Launch gaussianSampleBackward(float[] logvar, float[] eps, float[] gz, float[] glogvar, int len) {
        Check k = Check.of("training.gaussianSampleBackward").positive("len", len);
        k.length("logvar", logvar, len).length("eps", eps, len).length("gz", gz, len).length("glogvar", glogvar, len)
                .distinct("logvar", logvar, "glogvar", glogvar).distinct("eps", eps, "glogvar", glogvar).distinct("gz", gz, "glogvar", glogvar);
        return GAUSSIAN_SAMPLE_BACKWARD.with(logvar, eps, gz, glogvar, len).writes(3).grid(len).launch(5L * len, 16L * len);
    }

    /**
     * {@code loss[0] = scale·Σ_i ½·(mean² + exp(lv) − 1 − lv)}: the KL divergence of N(mean, exp(logvar))
     * from N(0, 1) summed over {@code len} elements ({@link TrainingKernels#klNormal}; scale 1/batch gives
     * the mean over the batch of each sample's KL), as blocked partial sums into {@code partials} (at least
     * {@link #blocks}{@code (len)} floats) and their sum. Writes {@code partials} and {@code loss[0]}.
     */
    public static List<Launch> klNormal(float[] mean, float[] logvar, float[] partials, float[] loss, int len, float scale) {
        Check k = Check.of("training.klNormal").positive("len", len);
        int blocks = blocks(len);
        k.length("mean", mean, len).length("logvar", logvar, len).atLeast("partials", partials, blocks).atLeast("loss", loss, 1)
                .distinct("mean", mean, "partials", partials).distinct("logvar", logvar, "partials", partials)
                .distinct("partials", partials, "loss", loss);
        return List.of(
                KL_NORMAL.with(mean, logvar, partials, len, BLOCK).writes(2).grid(blocks).launch(6L * len, 8L * len + 4L * blocks),
                sum(partials, loss, blocks, 0, scale));
    }

    /**
     * Backward of {@link #klNormal} for the upstream gradient {@code gy[0]}: {@code gmean = gy[0]·scale·mean},
     * {@code glogvar = gy[0]·scale·½·(exp(lv) − 1)} inside the clamp's range, 0 outside. Writes {@code gmean}
     * and {@code glogvar}.
     */
    public static Launch klNormalBackward(float[] mean, float[] logvar, float[] gy, float[] gmean, float[] glogvar, int len, float scale) {
        Check k = Check.of("training.klNormalBackward").positive("len", len).finite("scale", scale);
        k.length("mean", mean, len).length("logvar", logvar, len).atLeast("gy", gy, 1).length("gmean", gmean, len)
                .length("glogvar", glogvar, len).distinct("gmean", gmean, "glogvar", glogvar)
                .distinct("mean", mean, "gmean", gmean).distinct("logvar", logvar, "glogvar", glogvar)
                .distinct("gy", gy, "gmean", gmean).distinct("gy", gy, "glogvar", glogvar);
        return KL_NORMAL_BACKWARD.with(mean, logvar, gy, gmean, glogvar, len, scale).writes(3, 4).grid(len).launch(6L * len, 20L * len);
    }

    /**
     * Partial sums of {@code g²} into {@code partials[at .. at + blocks(len))}; writes that range.
     */
    public static Launch sumSquares(float[] g, float[] partials, int len, int at) {
        Check k = Check.of("training.sumSquares").positive("len", len).nonNegative("at", at);
        k.length("g", g, len).atLeast("partials", partials, (long) at + blocks(len)).distinct("g", g, "partials", partials);
        return SUM_SQUARES.with(g, partials, len, BLOCK, at).writes(1).grid(blocks(len)).launch(2L * len, 4L * len);
    }

    /**
     * The clip factor from the first {@code count} partial sums of squares: {@code clip[0]} the factor,
     * {@code clip[1]} the global norm (see {@link TrainingKernels#clipFactor}); {@code maxNorm ≤ 0}
     * disables clipping. Writes {@code clip} (2 floats).
     */
    public static Launch clipFactor(float[] partials, float[] clip, int count, float maxNorm) {
        Check k = Check.of("training.clipFactor").positive("count", count).finite("maxNorm", maxNorm);
        k.atLeast("partials", partials, count).length("clip", clip, 2).distinct("partials", partials, "clip", clip);
        return CLIP_FACTOR.with(partials, clip, count, maxNorm).writes(1).grid(1).launch(count + 4L, 4L * count + 8);
    }

    /**
     * One AdamW step of the weights {@code w} with gradient {@code grad} times {@code clip[0]}, moments
     * {@code m} and {@code v}, and the per-step scalars {@code hyper} ({@link TrainingKernels#HYPER}
     * floats). Writes {@code w}, {@code m} and {@code v}.
     */
    public static Launch adamw(float[] w, float[] grad, float[] m, float[] v, float[] hyper, float[] clip) {
        Check k = Check.of("training.adamw");
        int len = w == null ? 0 : w.length;
        k.positive("len", len).length("grad", grad, len).length("m", m, len).length("v", v, len)
                .length("hyper", hyper, TrainingKernels.HYPER).atLeast("clip", clip, 1);
        k.distinct("w", w, "grad", grad).distinct("w", w, "m", m).distinct("w", w, "v", v).distinct("m", m, "v", v)
                .distinct("grad", grad, "m", m).distinct("grad", grad, "v", v);
        return ADAMW.with(w, grad, m, v, hyper, clip, len).writes(0, 2, 3).grid(len).launch(12L * len, 28L * len);
    }

    /**
     * Fills AdamW's per-step scalars for step {@code step} (counted from 1), each computed in double and
     * rounded once to float, as PyTorch passes its Python floats to the kernels.
     *
     * @return {@code hyper}
     * @throws IllegalArgumentException naming the first value out of range
     */
    public static float[] adamwHyper(float[] hyper, double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        // checked without allocating when every argument is valid: this runs once per training step
        boolean valid = hyper != null && hyper.length == TrainingKernels.HYPER && lr >= 0 && Double.isFinite(lr) && beta1 >= 0 && beta1 < 1
                && beta2 >= 0 && beta2 < 1 && eps > 0 && Double.isFinite(eps) && weightDecay >= 0 && Double.isFinite(weightDecay) && step >= 1;
        if (!valid) {
            checkHyper(hyper, lr, beta1, beta2, eps, weightDecay, step);
        }
        hyper[TrainingKernels.BETA1] = (float) beta1;
        hyper[TrainingKernels.ONE_MINUS_BETA1] = (float) (1 - beta1);
        hyper[TrainingKernels.BETA2] = (float) beta2;
        hyper[TrainingKernels.ONE_MINUS_BETA2] = (float) (1 - beta2);
        hyper[TrainingKernels.EPS] = (float) eps;
        hyper[TrainingKernels.SHRINK] = (float) (1 - lr * weightDecay);
        hyper[TrainingKernels.STEP] = (float) (lr / (1 - Math.pow(beta1, step)));
        hyper[TrainingKernels.ROOT2] = (float) Math.sqrt(1 - Math.pow(beta2, step));
        return hyper;
    }

    /** The argument checks of {@link #adamwHyper}, naming the first bad one. */
    private static void checkHyper(float[] hyper, double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        Check k = Check.of("training.adamwHyper").length("hyper", hyper, TrainingKernels.HYPER);
        k.that(lr >= 0 && Double.isFinite(lr), "lr", "a finite number >= 0", lr)
                .that(beta1 >= 0 && beta1 < 1, "beta1", "in [0, 1)", beta1)
                .that(beta2 >= 0 && beta2 < 1, "beta2", "in [0, 1)", beta2)
                .that(eps > 0 && Double.isFinite(eps), "eps", "a finite number > 0", eps)
                .that(weightDecay >= 0 && Double.isFinite(weightDecay), "weightDecay", "a finite number >= 0", weightDecay)
                .that(step >= 1, "step", ">= 1 (steps count from 1)", step);
    }

    /** {@code ema = decay[0]·ema + decay[1]·w}; writes {@code ema}. */
    public static Launch ema(float[] ema, float[] w, float[] decay) {
        Check k = Check.of("training.ema");
        int len = ema == null ? 0 : ema.length;
        k.positive("len", len).length("w", w, len).length("decay", decay, 2).distinct("ema", ema, "w", w)
                .distinct("decay", decay, "ema", ema);
        return EMA.with(ema, w, decay, len).writes(0).grid(len).launch(3L * len, 12L * len);
    }
    // ---------------------------------------------------------------- WaveDiff / DDGAN's adversarial training

    /** The group size the minibatch standard deviation uses for a batch of {@code n}: {@code min(n, group)}. */
    private static int stddevGroup(Check k, int n, int group) {
        k.positive("n", n).positive("group", group);
        int g = Math.min(n, group);
        k.that(n % g == 0, "group", "a size whose min(n, group) divides n = " + n, group);
        return g;
    }

    /**
     * The length of the scratch {@code partials} of {@link #minibatchStddev}: {@code M·(B + 1)} floats with
     * {@code M = n / min(n, group)} and {@code B = }{@link #blocks}{@code (c·h·w)}.
     */
    public static int stddevPartialsLength(int n, int c, int h, int w, int group) {
        Check k = Check.of("training.minibatchStddev").positive("c", c).positive("h", h).positive("w", w);
        int g = stddevGroup(k, n, group);
        return (n / g) * (blocks(k.size("x", c, h, w)) + 1);
    }

    /**
     * StyleGAN's minibatch standard deviation as WaveDiff's discriminator computes it (one feature,
     * {@code torch.sqrt(x.view(G, -1, 1, c, h, w).var(0, unbiased=False) + 1e-8).mean([2, 3, 4])} repeated
     * over the group and the pixels), for {@code x[n,c,h,w]} and {@code G = min(n, group)}, which must
     * divide n: sample {@code g·M + m} (M = n/G) is the g-th member of group m;
     * {@code out[i, 0, y, x] = s_{i mod M}}, {@code s_m} the mean over (c, y, x) of the group's standard
     * deviation ({@link TrainingKernels#stddevBlocks}). {@code partials}: at least
     * {@link #stddevPartialsLength} floats (written). Writes {@code partials} and {@code out[n,1,h,w]}.
     */
    public static List<Launch> minibatchStddev(float[] x, float[] partials, float[] out, int n, int c, int h, int w, int group) {
        Check k = Check.of("training.minibatchStddev").positive("c", c).positive("h", h).positive("w", w);
        int g = stddevGroup(k, n, group);
        int size = k.size("x", c, h, w);
        int len = k.size("x", n, c, h, w);
        int plane = k.size("out", n, h, w);
        int m = n / g, b = blocks(size);
        k.length("x", x, len).atLeast("partials", partials, (long) m * (b + 1)).length("out", out, plane)
                .distinct("x", x, "partials", partials).distinct("x", x, "out", out).distinct("partials", partials, "out", out);
        return List.of(
                STDDEV_BLOCKS.with(x, partials, n, c, h, w, g, BLOCK).writes(1).grid(m, b).launch(4L * len, 4L * len + 4L * m * b),
                STDDEV_MEAN.with(partials, n, c, h, w, g, BLOCK).writes(0).grid(m).launch((long) m * b, 4L * m * (b + 1)),
                STDDEV_FILL.with(partials, out, n, c, h, w, g, BLOCK).writes(1).grid(n, h * w).launch(0, 8L * plane));
    }

    /**
     * Backward of {@link #minibatchStddev} with respect to {@code x}, for the upstream gradient
     * {@code gout[n,1,h,w]}: {@code A_m = Σ_g Σ_{y,x} gout[g·M + m, 0, y, x]} into {@code sums} (at least
     * {@code M = n / min(n, group)} floats), then {@code gx[i,c,y,x] = A_m/(c·h·w) · (x − μ_m)/(G·sd_m)} with
     * {@code m = i mod M} ({@link TrainingKernels#stddevBackward}). Writes {@code sums} and {@code gx}
     * (not accumulating).
     */
    public static List<Launch> minibatchStddevBackward(float[] x, float[] gout, float[] sums, float[] gx, int n, int c, int h, int w,
                                                       int group) {
        Check k = Check.of("training.minibatchStddevBackward").positive("c", c).positive("h", h).positive("w", w);
        int g = stddevGroup(k, n, group);
        int len = k.size("x", n, c, h, w);
        int plane = k.size("gout", n, h, w);
        int m = n / g;
        k.length("x", x, len).length("gout", gout, plane).atLeast("sums", sums, m).length("gx", gx, len)
                .distinct("gout", gout, "sums", sums).distinct("x", x, "gx", gx).distinct("sums", sums, "gx", gx)
                .distinct("gout", gout, "gx", gx);
        return List.of(
                STDDEV_GRAD_SUM.with(gout, sums, n, h, w, g).writes(1).grid(m).launch(plane, 4L * plane + 4L * m),
                STDDEV_BACKWARD.with(x, sums, gx, n, c, h, w, g).writes(2).grid(n, len / n).launch((4L * g + 6) * len, 4L * g * len + 4L * len));
    }

    /**
     * The length of the scratch of {@link #minibatchStddevDoubleBackward}: {@code M·(1 + 2·B)} floats with
     * {@code M = n / min(n, group)} and {@code B = }{@link #blocks}{@code (c·h·w)}.
     */
    public static int stddevDoubleBackwardScratch(int n, int c, int h, int w, int group) {
        Check k = Check.of("training.minibatchStddevDoubleBackward").positive("c", c).positive("h", h).positive("w", w);
        int g = stddevGroup(k, n, group);
        return (n / g) * (1 + 2 * blocks(k.size("x", c, h, w)));
    }

    /**
     * Double backward of the minibatch standard deviation: the gradients of {@code L = Σ u·z}, z the output
     * {@code gx} of {@link #minibatchStddevBackward} for {@code (x, gout)} and {@code u[n,c,h,w]} its upstream
     * gradient (the R1 penalty's double back-propagation through WaveDiff's discriminator). With G, M, sample
     * {@code g·M + m}, μ and sd as in {@link #minibatchStddev}, P = c·h·w, {@code a_m = A_m/P} of the backward and,
     * per (m, p), {@code ū = mean_g u}, {@code Q = Σ_g u·(x − μ)}:
     * <pre>
     *   ux[j,p]         = a_m/(G·sd)·(u[j,p] − ū − (x[j,p] − μ)·Q/(G·sd²))       (∂L/∂x, m = j mod M)
     *   ugout[i,0,y,x]  = (1/P)·Σ_p Q/(G·sd)                                    (∂L/∂gout, m = i mod M)
     * </pre> ({@link TrainingKernels#stddevGradSum}, {@link TrainingKernels#stddevDoubleBlocks},
     * {@link TrainingKernels#stddevDoubleGout}, {@link TrainingKernels#stddevDoubleInput}). {@code scratch}: at
     * least {@link #stddevDoubleBackwardScratch} floats (written). Writes {@code scratch}, {@code ux} and
     * {@code ugout} (not accumulating).
     */
    public static List<Launch> minibatchStddevDoubleBackward(float[] x, float[] gout, float[] u, float[] scratch, float[] ux, float[] ugout,
                                                             int n, int c, int h, int w, int group) {
        Check k = Check.of("training.minibatchStddevDoubleBackward").positive("c", c).positive("h", h).positive("w", w);
        int g = stddevGroup(k, n, group);
        int size = k.size("x", c, h, w);
        int len = k.size("x", n, c, h, w);
        int plane = k.size("gout", n, h, w);
        int m = n / g, b = blocks(size);
        k.length("x", x, len).length("gout", gout, plane).length("u", u, len).atLeast("scratch", scratch, (long) m * (1 + 2L * b))
                .length("ux", ux, len).length("ugout", ugout, plane)
                .distinct("x", x, "scratch", scratch).distinct("gout", gout, "scratch", scratch).distinct("u", u, "scratch", scratch)
                .distinct("x", x, "ux", ux).distinct("gout", gout, "ux", ux).distinct("u", u, "ux", ux).distinct("scratch", scratch, "ux", ux)
                .distinct("x", x, "ugout", ugout).distinct("gout", gout, "ugout", ugout).distinct("u", u, "ugout", ugout)
                .distinct("scratch", scratch, "ugout", ugout).distinct("ux", ux, "ugout", ugout);
        return List.of(
                STDDEV_GRAD_SUM.with(gout, scratch, n, h, w, g).writes(1).grid(m).launch(plane, 4L * plane + 4L * m),
                STDDEV_DOUBLE_BLOCKS.with(x, u, scratch, n, c, h, w, g, BLOCK).writes(2).grid(m, b)
                        .launch((6L * g + 8) * (len / g), 8L * len + 8L * m * b),
                STDDEV_DOUBLE_GOUT.with(scratch, ugout, n, c, h, w, g, BLOCK).writes(1).grid(n, h * w)
                        .launch(2L * plane * b, 8L * plane * b + 4L * plane),
                STDDEV_DOUBLE_INPUT.with(x, u, scratch, ux, n, c, h, w, g).writes(3).grid(n, size)
                        .launch((8L * g + 12) * len, 8L * g * len + 8L * len));
    }

    /**
     * DDGAN's softplus GAN loss {@code loss[0] = (1/len)·Σ F.softplus(sign·d[i])} (beta 1, threshold 20):
     * sign −1 for the real samples' {@code F.softplus(−D(x)).mean()}, +1 for the fakes' in the
     * discriminator's loss; blocked partial sums into {@code partials} (at least {@link #blocks}{@code (len)}
     * floats) and their sum. Writes {@code partials} and {@code loss[0]}.
     */
    public static List<Launch> softplusMean(float[] d, float[] partials, float[] loss, int len, float sign) {
        Check k = Check.of("training.softplusMean").positive("len", len).that(sign == 1f || sign == -1f, "sign", "1 or -1", sign);
        int blocks = blocks(len);
        k.length("d", d, len).atLeast("partials", partials, blocks).atLeast("loss", loss, 1)
                .distinct("d", d, "partials", partials).distinct("partials", partials, "loss", loss);
        return List.of(
                SOFTPLUS_LOSS.with(d, partials, len, BLOCK, sign).writes(1).grid(blocks).launch(5L * len, 4L * len + 4L * blocks),
                sum(partials, loss, blocks, 0, 1f / len));
    }

    /**
     * Backward of {@link #softplusMean} for the upstream gradient {@code gy[0]}:
     * {@code gd[i] = gy[0]·sign·sigmoid(sign·d[i]) / len} (exactly {@code gy[0]·sign/len} above the threshold).
     * Writes {@code gd}.
     */
    public static Launch softplusMeanBackward(float[] d, float[] gy, float[] gd, int len, float sign) {
        Check k = Check.of("training.softplusMeanBackward").positive("len", len)
                .that(sign == 1f || sign == -1f, "sign", "1 or -1", sign);
        k.length("d", d, len).atLeast("gy", gy, 1).length("gd", gd, len).distinct("d", d, "gd", gd).distinct("gy", gy, "gd", gd);
        return SOFTPLUS_LOSS_BACKWARD.with(d, gy, gd, len, sign).writes(2).grid(len).launch(6L * len, 8L * len);
    }

    /**
     * The mean absolute error {@code loss[0] = Σ |pred − target| / len} ({@code F.l1_loss}, WaveDiff's
     * reconstruction loss), as blocked partial sums into {@code partials} (at least
     * {@link #blocks}{@code (len)} floats) and their sum. Writes {@code partials} and {@code loss[0]}.
     */
    public static List<Launch> meanAbsoluteError(float[] pred, float[] target, float[] partials, float[] loss, int len) {
        Check k = Check.of("training.meanAbsoluteError").positive("len", len);
        int blocks = blocks(len);
        k.length("pred", pred, len).length("target", target, len).atLeast("partials", partials, blocks).atLeast("loss", loss, 1)
                .distinct("pred", pred, "partials", partials).distinct("target", target, "partials", partials)
                .distinct("partials", partials, "loss", loss);
        return List.of(
                ABSOLUTE_ERROR.with(pred, target, partials, len, BLOCK).writes(2).grid(blocks).launch(3L * len, 8L * len + 4L * blocks),
                sum(partials, loss, blocks, 0, 1f / len));
    }

    /**
     * Backward of {@link #meanAbsoluteError} with respect to {@code pred}, for the upstream gradient
     * {@code gy[0]}: {@code grad = gy[0]·sign(pred − target)/len}, {@code sign(0) = 0} as PyTorch's.
     * Writes {@code grad}.
     */
    public static Launch meanAbsoluteErrorBackward(float[] pred, float[] target, float[] gy, float[] grad, int len) {
        Check k = Check.of("training.meanAbsoluteErrorBackward").positive("len", len);
        k.length("pred", pred, len).length("target", target, len).atLeast("gy", gy, 1).length("grad", grad, len)
                .distinct("pred", pred, "grad", grad).distinct("target", target, "grad", grad).distinct("gy", gy, "grad", grad);
        return ABSOLUTE_ERROR_BACKWARD.with(pred, target, gy, grad, len).writes(3).grid(len).launch(3L * len, 12L * len);
    }
}
