package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Haar;

import java.util.List;

final class HaarCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        int n = size == Size.SMALL ? 2 : 1, c = size == Size.SMALL ? 5 : 64;
        int h = size == Size.SMALL ? 14 : 64, w = size == Size.SMALL ? 10 : 64;
        String shape = n + "x" + c + "x" + h + "x" + w;
        int len = n * c * h * w;
        return List.of(
                new KernelCase("haar.dwt2", shape, seed -> {
                    float[] x = new Rand(seed).gaussian(len), y = Rand.poisoned(len);
                    return Plan.builder("haar.dwt2").add(Haar.dwt2(x, y, n, c, h, w)).inputs(x).outputs(y).build();
                }),
                new KernelCase("haar.idwt2", shape, seed -> {
                    float[] y = new Rand(seed).gaussian(len), x = Rand.poisoned(len);
                    return Plan.builder("haar.idwt2").add(Haar.idwt2(y, x, n, c, h, w)).inputs(y).outputs(x).build();
                }));
    }
}
