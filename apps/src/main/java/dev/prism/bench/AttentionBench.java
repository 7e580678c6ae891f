package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Multi-head scaled dot-product attention. */
public class AttentionBench extends CatalogBench {
    @Param({
            "attention.forward",
            "attention.backward",
            "attention.forward.heads4",
            "attention.backward.heads4"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
