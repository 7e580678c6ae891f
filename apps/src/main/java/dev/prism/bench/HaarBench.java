package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Haar DWT / IDWT (WaveDiff, Spectral Diffusion). */
public class HaarBench extends CatalogBench {
    @Param({
            "haar.dwt2",
            "haar.idwt2"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
