package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;
import dev.prism.kernels.Norm;
import dev.prism.kernels.PrismConv;
import dev.prism.kernels.PrismConv.ChannelPadding;

import java.util.List;

/**
 * Whole plans, not single kernels: a stack of DeepPrism residual blocks,
 * {@code Res(x) = x + 2·(Norm-Act-Conv)(x)} (DeepPrism §4.1) with group norm, SiLU and a 3×3×3 Prism
 * convolution, four kernels per block. Run on a device backend, the weights go down once and the
 * activations between blocks never come back to the host.
 */
final class ChainCases implements CaseProvider {
    static final int BLOCKS = 3;

    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 8 : 64, h = small ? 9 : 64, w = small ? 11 : 64, groups = small ? 4 : 32;
        String shape = n + "x" + c + "x" + h + "x" + w + " " + BLOCKS + " blocks, " + 4 * BLOCKS + " kernels";
        return List.of(new KernelCase("chain.resblocks", shape, seed -> resblocks(seed, n, c, h, w, groups)));
    }

    /** The plan of {@link #BLOCKS} residual blocks on fresh weights drawn from {@code seed}. */
    static Plan resblocks(long seed, int n, int c, int h, int w, int groups) {
        Rand r = new Rand(seed);
        int len = n * c * h * w;
        float[] x = r.gaussian(len);
        float[] two = {2f};
        float[] stats = new float[2 * n * groups];
        float[] act = new float[len];
        float[] conv = new float[len];
        Plan.Builder p = Plan.builder("chain.resblocks").inputs(x).constants(two);
        float[] in = x;
        for (int b = 0; b < BLOCKS; b++) {
            float[] gamma = r.gaussian(c, 0.1f);
            float[] beta = r.gaussian(c, 0.1f);
            for (int i = 0; i < c; i++) {
                gamma[i] += 1f;
            }
            float[] f = r.gaussian(27, 0.2f);
            float[] bias = r.gaussian(1, 0.1f);
            float[] out = b == BLOCKS - 1 ? Rand.poisoned(len) : new float[len];
            p.constants(gamma, beta, f, bias)
                    .addAll(Norm.groupNorm(in, gamma, beta, stats, act, n, c, h, w, groups, 1e-5f, true))
                    .add(PrismConv.forward(act, f, bias, conv, n, c, h, w, ChannelPadding.ZEROS))
                    .add(Elementwise.axpy(in, conv, two, out, len));
            in = out;
        }
        return p.outputs(in).build();
    }
}
