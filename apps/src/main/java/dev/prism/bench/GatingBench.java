package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Wavelet gating parts (Spectral Diffusion). */
public class GatingBench extends CatalogBench {
    @Param({
            "gating.avgPool",
            "gating.avgPoolBackward",
            "gating.gatedSum.g1",
            "gating.gatedSumBackward.g1",
            "gating.bandGate.g1",
            "gating.bandGateBackward.g1",
            "gating.gatedSum.gc",
            "gating.gatedSumBackward.gc",
            "gating.bandGate.gc",
            "gating.bandGateBackward.gc"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
