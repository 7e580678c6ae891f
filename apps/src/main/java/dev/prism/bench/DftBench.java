package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** The 2-D DFT of spectrum-aware distillation and its backward. */
public class DftBench extends CatalogBench {
    @Param({
            "dft.table",
            "dft.fft2",
            "dft.fft2.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
