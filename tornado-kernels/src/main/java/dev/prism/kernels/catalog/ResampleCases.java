package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Resample;

import java.util.List;

/**
 * Nearest 2× upsampling and 2×2 average pooling, forward and backward, at one image size: pooling
 * reads it, upsampling writes it (MODEL: pool 64×64 → 32×32, upsample 32×32 → 64×64, C = 64).
 */
final class ResampleCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 14 : 64, w = small ? 18 : 64;
        int big = n * c * h * w, little = big / 4;
        String down = n + "x" + c + "x" + h + "x" + w + " -> " + h / 2 + "x" + w / 2;
        String up = n + "x" + c + "x" + h / 2 + "x" + w / 2 + " -> " + h + "x" + w;
        return List.of(
                new KernelCase("resample.upsample2x", up, seed -> {
                    float[] x = new Rand(seed).gaussian(little), y = Rand.poisoned(big);
                    return Plan.builder("resample.upsample2x").add(Resample.upsample2x(x, y, n, c, h / 2, w / 2))
                            .inputs(x).outputs(y).build();
                }),
                new KernelCase("resample.upsample2x.backward", up, seed -> {
                    float[] gy = new Rand(seed).gaussian(big), gx = Rand.poisoned(little);
                    return Plan.builder("resample.upsample2x.backward")
                            .add(Resample.upsample2xBackward(gy, gx, n, c, h / 2, w / 2)).inputs(gy).outputs(gx).build();
                }),
                new KernelCase("resample.avgPool2x", down, seed -> {
                    float[] x = new Rand(seed).gaussian(big), y = Rand.poisoned(little);
                    return Plan.builder("resample.avgPool2x").add(Resample.avgPool2x(x, y, n, c, h, w))
                            .inputs(x).outputs(y).build();
                }),
                new KernelCase("resample.avgPool2x.backward", down, seed -> {
                    float[] gy = new Rand(seed).gaussian(little), gx = Rand.poisoned(big);
                    return Plan.builder("resample.avgPool2x.backward").add(Resample.avgPool2xBackward(gy, gx, n, c, h, w))
                            .inputs(gy).outputs(gx).build();
                }));
    }
}
