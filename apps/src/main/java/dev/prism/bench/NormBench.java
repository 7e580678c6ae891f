package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Group norm, alone and fused with SiLU. */
public class NormBench extends CatalogBench {
    @Param({
            "norm.group",
            "norm.group.backward",
            "norm.group.silu",
            "norm.group.silu.backward",
            "norm.pixelNorm",
            "norm.pixelNorm.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
