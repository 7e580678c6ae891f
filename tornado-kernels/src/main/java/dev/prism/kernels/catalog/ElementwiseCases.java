package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;

import java.util.List;

/**
 * Element-wise add, multiply, scale, axpy, the broadcast adds of a per-(n, c) vector and of a bias, and the
 * per-(n, c) modulation of WaveDiff's adaptive group norm (with and without SiLU), with the backward passes that
 * are kernels of their own (scale's and axpy's are {@code scale}).
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
                }),
                modulate(false, false, n, c, h, w, shape), modulate(true, false, n, c, h, w, shape),
                modulate(false, true, n, c, h, w, shape), modulate(true, true, n, c, h, w, shape));
    }

    /**
     * WaveDiff's adaptive group norm modulation {@code y = x·γ[n,c] + β[n,c]} (then SiLU when {@code silu}), or its
     * backward; the style {@code s[N, 2C]} holds scales around 1 and shifts around 0, as the trained layer does.
     */
    private static KernelCase modulate(boolean silu, boolean backward, int n, int c, int h, int w, String shape) {
        String name = "elementwise.modulatePlanes" + (silu ? ".silu" : "") + (backward ? ".backward" : "");
        int len = n * c * h * w;
        return new KernelCase(name, shape, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(len), s = r.gaussian(2 * n * c, 0.1f);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    s[2 * c * i + j] += 1f;
                }
            }
            if (!backward) {
                float[] y = Rand.poisoned(len);
                return Plan.builder(name).add(Elementwise.modulatePlanes(x, s, y, n, c, h, w, silu)).inputs(x, s).outputs(y).build();
            }
            float[] gy = r.gaussian(len), gx = Rand.poisoned(len), gs = Rand.poisoned(2 * n * c);
            return Plan.builder(name).add(Elementwise.modulatePlanesBackward(x, s, gy, gx, gs, n, c, h, w, silu))
                    .inputs(x, s, gy).outputs(gx, gs).build();
        });
    }
}
