package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Standard 2-D convolution, general and 1x1, a model's one-channel first and last layers, narrow planes. */
public class Conv2dBench extends CatalogBench {
    @Param({
            "conv2d.forward",
            "conv2d.backward",
            "conv2d.forward.1x1",
            "conv2d.backward.1x1",
            "conv2d.backward.first",
            "conv2d.backward.last",
            "conv2d.forward.narrow"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
