package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;
import dev.prism.kernels.Training;
import dev.prism.kernels.TrainingKernels;

import java.util.List;

/**
 * The training kernels at the sizes of a training step: a batch of images for the forward diffusion and
 * the losses (WaveDiff's GAN losses included), a batch of discriminator feature
 * maps for the minibatch standard deviation (and its double backward), and a parameter tensor for the gradient norm, AdamW and the EMA. AdamW and the EMA update
 * their state in place; so that every execution of a case gives the same result (the check runs the
 * plan twice), each case first copies the initial state into the buffers it updates.
 */
final class TrainingCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int batch = small ? 3 : 64, image = small ? 5 * 7 : 32 * 32;
        int len = batch * image;
        int params = small ? 1000 : 64 * 64 * 9;
        String shape = batch + "x" + image;
        String pshape = String.valueOf(params);
        // The classifier's loss: a batch of logits over 10 classes (Fashion-MNIST).
        int rows = small ? 7 : 256, classes = small ? 3 : 10;
        String lshape = rows + "x" + classes;
        int latent = batch * 3 * (small ? 2 * 3 : 8 * 8);
        String lat = batch + "x3x" + (small ? "2x3" : "8x8");
        // WaveDiff's discriminator before its minibatch standard deviation: a batch of feature maps, groups of 4
        // (small: 455 positions per sample, two blocks of partial sums).
        int dn = small ? 8 : 64, dc = small ? 13 : 64, dh = small ? 5 : 8, dw = small ? 7 : 8, group = 4;
        int dlen = dn * dc * dh * dw, dplane = dn * dh * dw;
        String dshape = dn + "x" + dc + "x" + dh + "x" + dw;
        return List.of(
                new KernelCase("training.qSample", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x0 = r.gaussian(len), eps = r.gaussian(len), coef = r.uniform(2 * batch, 0.01f, 1f), xt = Rand.poisoned(len);
                    return Plan.builder("training.qSample").add(Training.qSample(x0, eps, coef, xt, batch, image))
                            .inputs(x0, eps, coef).outputs(xt).build();
                }),
                new KernelCase("training.meanSquaredError", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] p = r.gaussian(len), t = r.gaussian(len), partials = Rand.poisoned(Training.blocks(len)), loss = Rand.poisoned(1);
                    return Plan.builder("training.meanSquaredError").addAll(Training.meanSquaredError(p, t, partials, loss, len))
                            .inputs(p, t).outputs(loss).build();
                }),
                new KernelCase("training.meanSquaredError.backward", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] p = r.gaussian(len), t = r.gaussian(len), gy = {0.7f}, g = Rand.poisoned(len);
                    return Plan.builder("training.meanSquaredError.backward").add(Training.meanSquaredErrorBackward(p, t, gy, g, len))
                            .inputs(p, t, gy).outputs(g).build();
                }),
                new KernelCase("training.crossEntropy", lshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] z = r.gaussian(rows * classes, 3f), y = labels(r, rows, classes);
                    float[] partials = Rand.poisoned(rows), loss = Rand.poisoned(1);
                    return Plan.builder("training.crossEntropy").addAll(Training.crossEntropy(z, y, partials, loss, rows, classes))
                            .inputs(z, y).outputs(loss).build();
                }),
                new KernelCase("training.crossEntropy.backward", lshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] z = r.gaussian(rows * classes, 3f), y = labels(r, rows, classes), gy = {0.7f};
                    float[] g = Rand.poisoned(rows * classes);
                    return Plan.builder("training.crossEntropy.backward").add(Training.crossEntropyBackward(z, y, gy, g, rows, classes))
                            .inputs(z, y, gy).outputs(g).build();
                }),
                // The VAE's latent: batch × 3 channels at a quarter of the image side.
                new KernelCase("training.gaussianSample", lat, seed -> {
                    Rand r = new Rand(seed);
                    float[] m = r.gaussian(latent), lv = r.gaussian(latent), e = r.gaussian(latent), z = Rand.poisoned(latent);
                    return Plan.builder("training.gaussianSample").add(Training.gaussianSample(m, lv, e, z, latent))
                            .inputs(m, lv, e).outputs(z).build();
                }),
                new KernelCase("training.gaussianSample.backward", lat, seed -> {
                    Rand r = new Rand(seed);
                    float[] lv = r.gaussian(latent), e = r.gaussian(latent), gz = r.gaussian(latent), g = Rand.poisoned(latent);
                    return Plan.builder("training.gaussianSample.backward").add(Training.gaussianSampleBackward(lv, e, gz, g, latent))
                            .inputs(lv, e, gz).outputs(g).build();
                }),
                new KernelCase("training.klNormal", lat, seed -> {
                    Rand r = new Rand(seed);
                    float[] m = r.gaussian(latent), lv = r.gaussian(latent), partials = Rand.poisoned(Training.blocks(latent));
                    float[] loss = Rand.poisoned(1);
                    return Plan.builder("training.klNormal").addAll(Training.klNormal(m, lv, partials, loss, latent, 1f / batch))
                            .inputs(m, lv).outputs(loss).build();
                }),
                new KernelCase("training.klNormal.backward", lat, seed -> {
                    Rand r = new Rand(seed);
                    float[] m = r.gaussian(latent), lv = r.gaussian(latent), gy = {0.7f};
                    float[] gm = Rand.poisoned(latent), gl = Rand.poisoned(latent);
                    return Plan.builder("training.klNormal.backward").add(Training.klNormalBackward(m, lv, gy, gm, gl, latent, 1f / batch))
                            .inputs(m, lv, gy).outputs(gm, gl).build();
                }),
                new KernelCase("training.minibatchStddev", dshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(dlen), out = Rand.poisoned(dplane);
                    float[] partials = Rand.poisoned(Training.stddevPartialsLength(dn, dc, dh, dw, group));
                    return Plan.builder("training.minibatchStddev").addAll(Training.minibatchStddev(x, partials, out, dn, dc, dh, dw, group))
                            .inputs(x).outputs(out).build();
                }),
                new KernelCase("training.minibatchStddev.backward", dshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(dlen), gout = r.gaussian(dplane), sums = Rand.poisoned(dn), gx = Rand.poisoned(dlen);
                    return Plan.builder("training.minibatchStddev.backward")
                            .addAll(Training.minibatchStddevBackward(x, gout, sums, gx, dn, dc, dh, dw, group))
                            .inputs(x, gout).outputs(gx).build();
                }),
                new KernelCase("training.minibatchStddev.doubleBackward", dshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(dlen), gout = r.gaussian(dplane), u = r.gaussian(dlen);
                    float[] scratch = Rand.poisoned(Training.stddevDoubleBackwardScratch(dn, dc, dh, dw, group));
                    float[] ux = Rand.poisoned(dlen), ugout = Rand.poisoned(dplane);
                    return Plan.builder("training.minibatchStddev.doubleBackward")
                            .addAll(Training.minibatchStddevDoubleBackward(x, gout, u, scratch, ux, ugout, dn, dc, dh, dw, group))
                            .inputs(x, gout, u).outputs(ux, ugout).build();
                }),
                new KernelCase("training.softplusMean", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] d = r.gaussian(len, 8f), partials = Rand.poisoned(Training.blocks(len)), loss = Rand.poisoned(1);
                    return Plan.builder("training.softplusMean").addAll(Training.softplusMean(d, partials, loss, len, -1f))
                            .inputs(d).outputs(loss).build();
                }),
                new KernelCase("training.softplusMean.backward", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] d = r.gaussian(len, 8f), gy = {0.7f}, g = Rand.poisoned(len);
                    return Plan.builder("training.softplusMean.backward").add(Training.softplusMeanBackward(d, gy, g, len, 1f))
                            .inputs(d, gy).outputs(g).build();
                }),
                new KernelCase("training.meanAbsoluteError", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] p = r.gaussian(len), t = r.gaussian(len), partials = Rand.poisoned(Training.blocks(len)), loss = Rand.poisoned(1);
                    return Plan.builder("training.meanAbsoluteError").addAll(Training.meanAbsoluteError(p, t, partials, loss, len))
                            .inputs(p, t).outputs(loss).build();
                }),
                new KernelCase("training.meanAbsoluteError.backward", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] p = r.gaussian(len), t = r.gaussian(len), gy = {0.7f}, g = Rand.poisoned(len);
                    return Plan.builder("training.meanAbsoluteError.backward").add(Training.meanAbsoluteErrorBackward(p, t, gy, g, len))
                            .inputs(p, t, gy).outputs(g).build();
                }),
                new KernelCase("training.clipFactor", pshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] g = r.gaussian(params), partials = Rand.poisoned(Training.blocks(params)), clip = Rand.poisoned(2);
                    return Plan.builder("training.clipFactor").add(Training.sumSquares(g, partials, params, 0))
                            .add(Training.clipFactor(partials, clip, Training.blocks(params), 1f)).inputs(g).outputs(clip).build();
                }),
                new KernelCase("training.adamw", pshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] w0 = r.gaussian(params), g = r.gaussian(params), m0 = r.gaussian(params), v0 = r.uniform(params, 0f, 1f);
                    float[] w = Rand.poisoned(params), m = Rand.poisoned(params), v = Rand.poisoned(params), one = {1f};
                    float[] hyper = Training.adamwHyper(new float[TrainingKernels.HYPER], 1e-3, 0.9, 0.999, 1e-8, 0.01, 7);
                    float[] clip = {0.8f, 0f};
                    return Plan.builder("training.adamw").add(Elementwise.scale(w0, one, w, params)).add(Elementwise.scale(m0, one, m, params))
                            .add(Elementwise.scale(v0, one, v, params)).add(Training.adamw(w, g, m, v, hyper, clip))
                            .constants(one).inputs(w0, m0, v0, g, hyper, clip).outputs(w, m, v).build();
                }),
                new KernelCase("training.ema", pshape, seed -> {
                    Rand r = new Rand(seed);
                    float[] e0 = r.gaussian(params), w = r.gaussian(params), decay = {0.999f, 0.001f};
                    float[] e = Rand.poisoned(params), one = {1f};
                    return Plan.builder("training.ema").add(Elementwise.scale(e0, one, e, params)).add(Training.ema(e, w, decay))
                            .constants(one).inputs(e0, w, decay).outputs(e).build();
                }));
    }

    /** Class indices in [0, classes) as floats, as the cross-entropy takes them. */
    private static float[] labels(Rand r, int rows, int classes) {
        float[] y = r.uniform(rows, 0f, classes);
        for (int i = 0; i < rows; i++) {
            y[i] = Math.min(classes - 1, (float) Math.floor(y[i]));
        }
        return y;
    }
}
