package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** SiLU, GELU, leaky ReLU, sigmoid, softmax. */
public class ActivationBench extends CatalogBench {
    @Param({
            "activation.silu",
            "activation.silu.backward",
            "activation.gelu",
            "activation.gelu.backward",
            "activation.leakyRelu",
            "activation.leakyRelu.backward",
            "activation.sigmoid",
            "activation.sigmoid.backward",
            "activation.tanh",
            "activation.tanh.backward",
            "activation.softmax",
            "activation.softmax.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
