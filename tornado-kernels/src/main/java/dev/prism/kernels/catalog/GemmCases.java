package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Gemm;

import java.util.List;

/** Matrix products and the linear layer; MODEL sizes: 256³ products and a 64-row 256→256 linear layer. */
final class GemmCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int batch = small ? 3 : 1, m = small ? 7 : 256, n = small ? 13 : 256, k = small ? 9 : 256;
        int rows = small ? 5 : 64, in = small ? 37 : 256, out = small ? 23 : 256;
        String product = batch + "x" + m + "x" + n + "x" + k;
        String linear = rows + "x" + in + "->" + out;
        return List.of(
                new KernelCase("gemm.matmul", product + " nn, B broadcast", seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(batch * m * k), b = r.gaussian(k * n), c = Rand.poisoned(batch * m * n);
                    return Plan.builder("gemm.matmul")
                            .add(Gemm.matmul(a, b, c, batch, m, n, k, false, false, m * k, 0, m * n, false))
                            .constants(b).inputs(a).outputs(c).build();
                }),
                new KernelCase("gemm.matmul.tt", product + " tt", seed -> {
                    Rand r = new Rand(seed);
                    float[] a = r.gaussian(batch * m * k), b = r.gaussian(batch * k * n), c = Rand.poisoned(batch * m * n);
                    return Plan.builder("gemm.matmul.tt")
                            .add(Gemm.matmul(a, b, c, batch, m, n, k, true, true, m * k, k * n, m * n, false))
                            .inputs(a, b).outputs(c).build();
                }),
                new KernelCase("gemm.linear.forward", linear + " bias", seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(rows * in), w = r.gaussian(out * in), b = r.gaussian(out);
                    float[] y = Rand.poisoned(rows * out);
                    return Plan.builder("gemm.linear.forward").addAll(Gemm.linear(x, w, b, y, rows, in, out))
                            .constants(w, b).inputs(x).outputs(y).build();
                }),
                new KernelCase("gemm.linear.backward", linear + " bias", seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(rows * in), w = r.gaussian(out * in), gy = r.gaussian(rows * out);
                    float[] gx = Rand.poisoned(rows * in), gw = Rand.poisoned(out * in), gb = Rand.poisoned(out);
                    return Plan.builder("gemm.linear.backward")
                            .addAll(Gemm.linearBackward(x, w, gy, gx, gw, gb, rows, in, out))
                            .constants(w).inputs(x, gy).outputs(gx, gw, gb).build();
                }));
    }
}
