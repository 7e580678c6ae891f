package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** CosConv / ChebConv kernel synthesis (ApproxConv). */
public class ApproxBench extends CatalogBench {
    @Param({
            "approx.basis.cosine",
            "approx.basis.chebyshev",
            "approx.synthesize.k3n2",
            "approx.synthesizeBackward.k3n2",
            "approx.synthesize.k7n4",
            "approx.synthesizeBackward.k7n4"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
