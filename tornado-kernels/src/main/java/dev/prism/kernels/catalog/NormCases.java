package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Norm;
import dev.prism.kernels.NormKernels;

import java.util.ArrayList;
import java.util.List;

/** Group norm, alone and fused with SiLU, forward (statistics + apply) and backward (MODEL: 32 groups); PixelNorm and its backward. */
final class NormCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 6 : 64, h = small ? 15 : 64, w = small ? 17 : 64, g = small ? 3 : 32;
        float eps = 1e-5f;
        String shape = n + "x" + c + "x" + h + "x" + w + " G" + g;
        int len = n * c * h * w;
        List<KernelCase> out = new ArrayList<>();
        for (boolean silu : new boolean[] {false, true}) {
            String name = silu ? "norm.group.silu" : "norm.group";
            out.add(new KernelCase(name, shape, seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(len), gamma = r.uniform(c, 0.5f, 1.5f), beta = r.gaussian(c, 0.5f);
                float[] stats = Rand.poisoned(2 * n * g), y = Rand.poisoned(len);
                return Plan.builder(name).addAll(Norm.groupNorm(x, gamma, beta, stats, y, n, c, h, w, g, eps, silu))
                        .constants(gamma, beta).inputs(x).outputs(stats, y).build();
            }));
            out.add(new KernelCase(name + ".backward", shape, seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(len), gy = r.gaussian(len);
                float[] gamma = r.uniform(c, 0.5f, 1.5f), beta = r.gaussian(c, 0.5f);
                float[] stats = new float[2 * n * g];
                // the statistics the forward pass would have left behind
                NormKernels.groupStats(x, stats, n, c, h * w, g, eps);
                float[] partials = Rand.poisoned(2 * n * c), gx = Rand.poisoned(len);
                float[] gGamma = Rand.poisoned(c), gBeta = Rand.poisoned(c);
                return Plan.builder(name + ".backward")
                        .addAll(Norm.groupNormBackward(x, gy, stats, gamma, beta, partials, gx, gGamma, gBeta,
                                n, c, h, w, g, silu))
                        .constants(gamma, beta).inputs(x, gy, stats).outputs(gx, gGamma, gBeta).build();
            }));
        }
        // StyleGAN's PixelNorm of WaveDiff's latent z, over rows of the softmax cases' shape.
        int rows = small ? 85 : 4096, m = small ? 38 : 64;
        float pixelEps = 1e-8f;
        out.add(new KernelCase("norm.pixelNorm", rows + "x" + m, seed -> {
            float[] x = new Rand(seed).gaussian(rows * m), y = Rand.poisoned(rows * m);
            return Plan.builder("norm.pixelNorm").add(Norm.pixelNorm(x, y, rows, m, pixelEps)).inputs(x).outputs(y).build();
        }));
        out.add(new KernelCase("norm.pixelNorm.backward", rows + "x" + m, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(rows * m), gy = r.gaussian(rows * m), gx = Rand.poisoned(rows * m);
            return Plan.builder("norm.pixelNorm.backward").add(Norm.pixelNormBackward(x, gy, gx, rows, m, pixelEps))
                    .inputs(x, gy).outputs(gx).build();
        }));
        return out;
    }
}
