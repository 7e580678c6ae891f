package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** DeepPrism channel convolution, its backward and the separable PrismConv. */
public class PrismConvBench extends CatalogBench {
    @Param({
            "prismconv.forward.zeros",
            "prismconv.forward.k5x3x3.zeros",
            "prismconv.backward.data.zeros",
            "prismconv.backward.weight.zeros",
            "prismconv.forward.replicate",
            "prismconv.forward.k5x3x3.replicate",
            "prismconv.backward.data.replicate",
            "prismconv.backward.weight.replicate",
            "prismconv.forward.circular",
            "prismconv.forward.k5x3x3.circular",
            "prismconv.backward.data.circular",
            "prismconv.backward.weight.circular",
            "prismconv.separable.forward.replicate",
            "prismconv.separable.backward.replicate"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
