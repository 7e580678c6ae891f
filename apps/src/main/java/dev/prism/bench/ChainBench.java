package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Whole plans: a stack of DeepPrism residual blocks. */
public class ChainBench extends CatalogBench {
    @Param({
            "chain.resblocks"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
