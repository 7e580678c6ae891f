package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** The sampler update: a DDIM step, a clipped DDPM step and the loading step. */
public class SamplerBench extends CatalogBench {
    @Param({"sampler.update", "sampler.update.clip", "sampler.update.init"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
