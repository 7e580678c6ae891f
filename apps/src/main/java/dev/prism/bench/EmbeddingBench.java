package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Sinusoidal timestep embedding (DDPM). */
public class EmbeddingBench extends CatalogBench {
    @Param({
            "embedding.timestep",
            "embedding.timestep.batch"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
