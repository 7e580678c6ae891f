package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Dct;
import dev.prism.backend.Launch;

import java.util.List;

final class DctCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 7 : 64, w = small ? 9 : 64, k = small ? 4 : 32;
        String shape = n + "x" + c + "x" + h + "x" + w;
        int len = n * c * h * w;
        return List.of(
                new KernelCase("dct.table", "n=" + w, seed -> {
                    float[] t = Rand.poisoned(2 * w * w);
                    return Plan.builder("dct.table").add(Dct.table(t, w)).outputs(t).build();
                }),
                transform("dct.dct2", shape, n, c, h, w, len, Dct::dct2),
                transform("dct.idct2", shape, n, c, h, w, len, Dct::idct2),
                transform("dct.dct2.backward", shape, n, c, h, w, len, Dct::dct2Backward),
                transform("dct.idct2.backward", shape, n, c, h, w, len, Dct::idct2Backward),
                new KernelCase("dct.lowpass", shape + " k=" + k, seed -> {
                    float[] x = new Rand(seed).gaussian(len), y = Rand.poisoned(len);
                    return Plan.builder("dct.lowpass").add(Dct.lowpass(x, y, n, c, h, w, k)).inputs(x).outputs(y).build();
                }),
                new KernelCase("dct.lowpass.backward", shape + " k=" + k, seed -> {
                    float[] gy = new Rand(seed).gaussian(len), gx = Rand.poisoned(len);
                    return Plan.builder("dct.lowpass.backward").add(Dct.lowpassBackward(gy, gx, n, c, h, w, k))
                            .inputs(gy).outputs(gx).build();
                }));
    }

    private interface Transform {
        List<Launch> launches(float[] in, float[] tableH, float[] tableW, float[] scratch, float[] out,
                              int n, int c, int h, int w);
    }

    private static KernelCase transform(String name, String shape, int n, int c, int h, int w, int len, Transform f) {
        return new KernelCase(name, shape, seed -> {
            float[] in = new Rand(seed).gaussian(len), scratch = Rand.poisoned(len), out = Rand.poisoned(len);
            float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w);
            return Plan.builder(name).addAll(f.launches(in, th, tw, scratch, out, n, c, h, w))
                    .constants(th, tw).inputs(in).outputs(out).build();
        });
    }
}
