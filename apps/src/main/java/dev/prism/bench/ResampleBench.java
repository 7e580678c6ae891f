package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Nearest 2x upsample, 2x average pool, FIR resampling (upfirdn), patchify and unpatchify. */
public class ResampleBench extends CatalogBench {
    @Param({
            "resample.upsample2x",
            "resample.upsample2x.backward",
            "resample.avgPool2x",
            "resample.avgPool2x.backward",
            "resample.upfirdn.up2",
            "resample.upfirdn.up2.backward",
            "resample.upfirdn.down2",
            "resample.upfirdn.down2.backward",
            "resample.upfirdn.blur",
            "resample.upfirdn.blur.backward",
            "resample.patchify",
            "resample.patchify.backward",
            "resample.unpatchify",
            "resample.unpatchify.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
