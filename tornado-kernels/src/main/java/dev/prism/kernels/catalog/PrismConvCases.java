package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.PrismConv;
import dev.prism.kernels.PrismConv.ChannelPadding;

import java.util.ArrayList;
import java.util.List;

/**
 * DeepPrism channel convolution: forward per channel padding with a 3×3×3 filter and with a 5×3×3
 * one, backward (data, and filter + bias) per padding, separable forward and backward. SMALL is
 * 2×5×7×9, MODEL 1×64×64×64.
 */
final class PrismConvCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 7 : 64, w = small ? 9 : 64;
        String dims = n + "x" + c + "x" + h + "x" + w;
        int len = n * c * h * w;
        List<KernelCase> out = new ArrayList<>();
        for (ChannelPadding pad : ChannelPadding.values()) {
            String mode = pad.torchName();
            out.add(new KernelCase("prismconv.forward." + mode, dims + " k3x3x3", seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(len), f = r.gaussian(27, 0.3f), b = r.gaussian(1), y = Rand.poisoned(len);
                return Plan.builder("prismconv.forward." + mode).add(PrismConv.forward(x, f, b, y, n, c, h, w, pad))
                        .constants(f, b).inputs(x).outputs(y).build();
            }));
            out.add(new KernelCase("prismconv.forward.k5x3x3." + mode, dims + " k5x3x3", seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(len), f = r.gaussian(45, 0.3f), y = Rand.poisoned(len);
                return Plan.builder("prismconv.forward.k5x3x3." + mode)
                        .add(PrismConv.forward(x, f, null, y, n, c, h, w, 5, 3, 3, pad))
                        .constants(f).inputs(x).outputs(y).build();
            }));
            out.add(new KernelCase("prismconv.backward.data." + mode, dims + " k3x3x3", seed -> {
                Rand r = new Rand(seed);
                float[] gy = r.gaussian(len), f = r.gaussian(27, 0.3f), gx = Rand.poisoned(len);
                return Plan.builder("prismconv.backward.data." + mode)
                        .add(PrismConv.backwardData(gy, f, gx, n, c, h, w, 3, 3, 3, pad))
                        .constants(f).inputs(gy).outputs(gx).build();
            }));
            out.add(new KernelCase("prismconv.backward.weight." + mode, dims + " k3x3x3", seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(len), gy = r.gaussian(len);
                float[] partials = Rand.poisoned(PrismConv.partialsLength(n, c, 3, 3, 3));
                float[] gf = Rand.poisoned(27), gb = Rand.poisoned(1);
                return Plan.builder("prismconv.backward.weight." + mode)
                        .addAll(PrismConv.backwardWeight(x, gy, partials, gf, gb, n, c, h, w, 3, 3, 3, pad))
                        .inputs(x, gy).outputs(gf, gb).build();
            }));
        }
        ChannelPadding pad = ChannelPadding.REPLICATE;
        out.add(new KernelCase("prismconv.separable.forward.replicate", dims + " k3", seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(len), fs = r.gaussian(9, 0.3f), fc = r.gaussian(3, 0.5f), b = r.gaussian(1);
            float[] t = new float[len], y = Rand.poisoned(len);
            return Plan.builder("prismconv.separable.forward.replicate")
                    .addAll(PrismConv.separableForward(x, fs, fc, b, t, y, n, c, h, w, 3, pad))
                    .constants(fs, fc, b).inputs(x).outputs(y).build();
        }));
        out.add(new KernelCase("prismconv.separable.backward.replicate", dims + " k3", seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(len), gy = r.gaussian(len), fs = r.gaussian(9, 0.3f), fc = r.gaussian(3, 0.5f);
            float[] t = new float[len], partials = new float[PrismConv.separablePartialsLength(n, c, 3)];
            float[] gx = Rand.poisoned(len), gfs = Rand.poisoned(9), gfc = Rand.poisoned(3), gb = Rand.poisoned(1);
            return Plan.builder("prismconv.separable.backward.replicate")
                    .addAll(PrismConv.separableBackward(x, gy, fs, fc, t, partials, gx, gfs, gfc, gb, n, c, h, w, 3, pad))
                    .constants(fs, fc).inputs(x, gy).outputs(gx, gfs, gfc, gb).build();
        }));
        return out;
    }
}
