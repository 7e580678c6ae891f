package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** The training kernels: forward diffusion, the losses and their backward, the gradient norm, AdamW, EMA. */
public class TrainingBench extends CatalogBench {
    @Param({"training.qSample", "training.meanSquaredError", "training.meanSquaredError.backward", "training.crossEntropy",
            "training.crossEntropy.backward", "training.gaussianSample", "training.gaussianSample.backward", "training.klNormal",
            "training.klNormal.backward", "training.clipFactor",
            "training.adamw", "training.ema"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
