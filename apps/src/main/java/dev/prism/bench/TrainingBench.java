package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/**
 * The training kernels: forward diffusion, the losses and their backward (WaveDiff's GAN losses and minibatch standard
 * deviation, with its double backward, included), the gradient norm, AdamW, EMA.
 */
public class TrainingBench extends CatalogBench {
    @Param({"training.qSample", "training.meanSquaredError", "training.meanSquaredError.backward", "training.crossEntropy",
            "training.crossEntropy.backward", "training.gaussianSample", "training.gaussianSample.backward", "training.klNormal",
            "training.klNormal.backward", "training.minibatchStddev", "training.minibatchStddev.backward",
            "training.minibatchStddev.doubleBackward", "training.softplusMean", "training.softplusMean.backward", "training.meanAbsoluteError",
            "training.meanAbsoluteError.backward", "training.clipFactor",
            "training.adamw", "training.ema"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
