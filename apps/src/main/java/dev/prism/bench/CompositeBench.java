package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Composites: PrismAttn (DeepPrism eq. 5), WG-Down and WG-Up (Spectral Diffusion §5.1). */
public class CompositeBench extends CatalogBench {
    @Param({
            "composite.prismAttn",
            "composite.prismAttn.backward",
            "composite.prismAttn.hires",
            "composite.prismAttn.backward.hires",
            "composite.wgDown",
            "composite.wgDown.backward",
            "composite.wgUp",
            "composite.wgUp.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
