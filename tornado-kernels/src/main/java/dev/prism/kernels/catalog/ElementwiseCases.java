package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;

import java.util.List;

/**
 * Element-wise add, multiply, scale, axpy and the broadcast adds of a per-(n, c) vector and of a bias,
 * with the backward passes that are kernels of their own (scale's and axpy's are {@code scale}).
 */
final class ElementwiseCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 17 : 64, w = small ? 19 : 64;
        int len = n * c * h * w;
        String shape = n + "x" + c + "x" + h + "x" + w;
        return List.of(
                new KernelCase("elementwise.add", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(len), b = r.gaussian(len), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.add").add(Elementwise.add(a, b, out, len)).inputs(a, b).outputs(out).build();
                }),
                new KernelCase("elementwise.mul", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(len), b = r.gaussian(len), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.mul").add(Elementwise.mul(a, b, out, len)).inputs(a, b).outputs(out).build();
                }),
                new KernelCase("elementwise.scale", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(len), s = r.uniform(1, -2, 2), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.scale").add(Elementwise.scale(a, s, out, len)).inputs(a, s).outputs(out).build();
                }),
                new KernelCase("elementwise.axpy", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(len), b = r.gaussian(len), s = r.uniform(1, -2, 2), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.axpy").add(Elementwise.axpy(a, b, s, out, len)).inputs(a, b, s)
                            .outputs(out).build();
                }),
                new KernelCase("elementwise.addPlanes", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(len), v = r.gaussian(n * c), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.addPlanes").add(Elementwise.addPlanes(x, v, out, n, c, h, w))
                            .inputs(x, v).outputs(out).build();
                }),
                new KernelCase("elementwise.addBias", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(len), bias = r.gaussian(c), out = Rand.poisoned(len);
                    return Plan.builder("elementwise.addBias").add(Elementwise.addBias(x, bias, out, n, c, h, w))
                            .constants(bias).inputs(x).outputs(out).build();
                }),
                new KernelCase("elementwise.mul.backward", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(len), b = r.gaussian(len), gy = r.gaussian(len);
                    float[] ga = Rand.poisoned(len), gb = Rand.poisoned(len);
                    return Plan.builder("elementwise.mul.backward").addAll(Elementwise.mulBackward(a, b, gy, ga, gb, len))
                            .inputs(a, b, gy).outputs(ga, gb).build();
                }),
                new KernelCase("elementwise.addPlanes.backward", shape, seed -> {
                    float[] gy = new Rand(seed).gaussian(len), gv = Rand.poisoned(n * c);
                    return Plan.builder("elementwise.addPlanes.backward")
                            .add(Elementwise.addPlanesBackward(gy, gv, n, c, h, w)).inputs(gy).outputs(gv).build();
                }),
                new KernelCase("elementwise.addBias.backward", shape, seed -> {
                    float[] gy = new Rand(seed).gaussian(len), gbias = Rand.poisoned(c);
                    return Plan.builder("elementwise.addBias.backward")
                            .add(Elementwise.addBiasBackward(gy, gbias, n, c, h, w)).inputs(gy).outputs(gbias).build();
                }));
    }
}
