package dev.prism.bench;

import org.openjdk.jmh.annotations.Param;

/** Element-wise and broadcast arithmetic. */
public class ElementwiseBench extends CatalogBench {
    @Param({
            "elementwise.add",
            "elementwise.mul",
            "elementwise.scale",
            "elementwise.axpy",
            "elementwise.addPlanes",
            "elementwise.addBias",
            "elementwise.mul.backward",
            "elementwise.addPlanes.backward",
            "elementwise.addBias.backward",
            "elementwise.modulatePlanes",
            "elementwise.modulatePlanes.silu",
            "elementwise.modulatePlanes.backward",
            "elementwise.modulatePlanes.silu.backward"})
    public String kernel;

    @Override
    protected String kernel() {
        return kernel;
    }
}
