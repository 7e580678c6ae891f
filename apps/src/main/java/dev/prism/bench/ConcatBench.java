package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Channel concatenation and split (the DDPM UNet's skip connections). */
public class ConcatBench extends CatalogBench {
    @Param({
            "concat.channels",
            "concat.split"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
