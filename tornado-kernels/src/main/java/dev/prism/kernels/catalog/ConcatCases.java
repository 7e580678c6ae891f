package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Concat;

import java.util.List;

/** The channel concatenation of the DDPM UNet's skips, and its split (the backward). */
final class ConcatCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, ca = small ? 5 : 64, cb = small ? 3 : 64, h = small ? 7 : 64, w = small ? 10 : 64;
        String shape = n + "x(" + ca + "+" + cb + ")x" + h + "x" + w;
        int la = n * ca * h * w, lb = n * cb * h * w;
        return List.of(
                new KernelCase("concat.channels", shape, seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(la), b = r.gaussian(lb), y = Rand.poisoned(la + lb);
                    return Plan.builder("concat.channels").add(Concat.channels(a, b, y, n, ca, cb, h, w)).inputs(a, b).outputs(y).build();
                }),
                new KernelCase("concat.split", shape, seed -> {
                    float[] y = new Rand(seed).gaussian(la + lb), a = Rand.poisoned(la), b = Rand.poisoned(lb);
                    return Plan.builder("concat.split").add(Concat.split(y, a, b, n, ca, cb, h, w)).inputs(y).outputs(a, b).build();
                }));
    }
}
