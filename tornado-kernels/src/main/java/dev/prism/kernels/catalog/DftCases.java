package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Dft;

import java.util.List;

final class DftCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        // the model size: a batch of 64 one-channel 32×32 predictions, as spectrum-aware distillation transforms them
        int n = small ? 2 : 64, c = small ? 3 : 1, h = small ? 5 : 32, w = small ? 6 : 32;
        String shape = n + "x" + c + "x" + h + "x" + w;
        int len = n * c * h * w;
        return List.of(
                new KernelCase("dft.table", "n=" + w, seed -> {
                    float[] t = Rand.poisoned(2 * w * w);
                    return Plan.builder("dft.table").add(Dft.table(t, w)).outputs(t).build();
                }),
                new KernelCase("dft.fft2", shape, seed -> {
                    float[] x = new Rand(seed).gaussian(len), scratch = Rand.poisoned(2 * len), y = Rand.poisoned(2 * len);
                    float[] th = Dft.twiddleTable(h), tw = Dft.twiddleTable(w);
                    return Plan.builder("dft.fft2").addAll(Dft.fft2(x, th, tw, scratch, y, n, c, h, w)).constants(th, tw).inputs(x)
                            .outputs(y).build();
                }),
                new KernelCase("dft.fft2.backward", shape, seed -> {
                    float[] gy = new Rand(seed).gaussian(2 * len), scratch = Rand.poisoned(2 * len), gx = Rand.poisoned(len);
                    float[] th = Dft.twiddleTable(h), tw = Dft.twiddleTable(w);
                    return Plan.builder("dft.fft2.backward").addAll(Dft.fft2Backward(gy, th, tw, scratch, gx, n, c, h, w))
                            .constants(th, tw).inputs(gy).outputs(gx).build();
                }));
    }
}
