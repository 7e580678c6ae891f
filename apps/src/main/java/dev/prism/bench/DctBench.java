package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Orthonormal 2-D DCT-II / DCT-III and the low-pass block (DVDP). */
public class DctBench extends CatalogBench {
    @Param({
            "dct.table",
            "dct.dct2",
            "dct.idct2",
            "dct.dct2.backward",
            "dct.idct2.backward",
            "dct.lowpass",
            "dct.lowpass.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
