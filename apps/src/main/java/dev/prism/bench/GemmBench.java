package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Batched matrix product and the linear layer. */
public class GemmBench extends CatalogBench {
    @Param({
            "gemm.matmul",
            "gemm.matmul.tt",
            "gemm.linear.forward",
            "gemm.linear.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
