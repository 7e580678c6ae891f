package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Conv2d;

import java.util.ArrayList;
import java.util.List;

/**
 * 2-D convolutions: 3×3 padding 1 (direct kernels) and 1×1 (routed to the matrix product), forward and
 * backward (MODEL: 64→64 channels on 1×64×64×64), the backward of a model's one-channel first and last 3×3 layers
 * (MODEL: 64×1×32×32 → 32 and 64×32×32×32 → 1), and the forward of a batch of narrow planes, which runs side by
 * side (MODEL: 16×64×8×8).
 */
final class Conv2dCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, cin = small ? 5 : 64, h = small ? 11 : 64, w = small ? 13 : 64, cout = small ? 7 : 64;
        List<KernelCase> cases = new ArrayList<>();
        for (int k : new int[] {3, 1}) {
            Conv2d.Geometry g = Conv2d.Geometry.of(n, cin, h, w, cout, k, 1, k / 2, 1, 1);
            String suffix = k == 3 ? "" : ".1x1";
            String shape = n + "x" + cin + "x" + h + "x" + w + " -> " + cout + " " + k + "x" + k + " bias";
            cases.add(new KernelCase("conv2d.forward" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(g.xSize()), wt = r.gaussian(g.wSize(), 0.1f), b = r.gaussian(g.cout());
                float[] y = Rand.poisoned(g.ySize());
                return Plan.builder("conv2d.forward" + suffix).addAll(Conv2d.forward(x, wt, b, y, g))
                        .constants(wt, b).inputs(x).outputs(y).build();
            }));
            cases.add(backward("conv2d.backward" + suffix, shape, g));
        }
        // The one-channel ends of an image model (the DDPM UNet's first and last layers at batch 64), whose 3×3 layers the
        // JVM backend runs on other paths than the wide ones (docs/KERNELS.md)
        int en = small ? 2 : 64, eh = small ? 11 : 32, ew = small ? 13 : 32, ec = small ? 5 : 32;
        for (boolean first : new boolean[] {true, false}) {
            Conv2d.Geometry g = first ? Conv2d.Geometry.of(en, 1, eh, ew, ec, 3, 1, 1, 1, 1) : Conv2d.Geometry.of(en, ec, eh, ew, 1, 3, 1, 1, 1, 1);
            cases.add(backward("conv2d.backward." + (first ? "first" : "last"),
                    en + "x" + g.cin() + "x" + eh + "x" + ew + " -> " + g.cout() + " 3x3 bias", g));
        }
        // A batch of planes at most Conv2d.TILED_MAX_WIDTH wide: laid side by side, convolved as one wide image, and
        // taken back apart (WaveDiff's 8×8 and 4×4 levels).
        int nn = small ? 3 : 16, nc = small ? 5 : 64, nh = small ? 4 : 8, nw = small ? 5 : 8, nco = small ? 7 : 64;
        Conv2d.Geometry narrow = Conv2d.Geometry.of(nn, nc, nh, nw, nco, 3, 1, 1, 1, 1);
        cases.add(new KernelCase("conv2d.forward.narrow", nn + "x" + nc + "x" + nh + "x" + nw + " -> " + nco + " 3x3 bias side by side",
                seed -> {
                    Rand r = new Rand(seed);
                    float[] x = r.gaussian(narrow.xSize()), wt = r.gaussian(narrow.wSize(), 0.1f), b = r.gaussian(narrow.cout());
                    float[] y = Rand.poisoned(narrow.ySize());
                    return Plan.builder("conv2d.forward.narrow").addAll(Conv2d.forwardSideBySide(x, wt, b, y, narrow))
                            .constants(wt, b).inputs(x).outputs(y).build();
                }));
        return cases;
    }

    /** The backward of {@code g}'s layer with bias: gx, gw and gb from a random x, weights and output gradient. */
    private static KernelCase backward(String name, String shape, Conv2d.Geometry g) {
        return new KernelCase(name, shape, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(g.xSize()), wt = r.gaussian(g.wSize(), 0.1f), gy = r.gaussian(g.ySize());
            float[] gx = Rand.poisoned(g.xSize()), gw = Rand.poisoned(g.wSize()), gb = Rand.poisoned(g.cout());
            return Plan.builder(name).addAll(Conv2d.backward(x, wt, gy, gx, gw, gb, g))
                    .constants(wt).inputs(x, gy).outputs(gx, gw, gb).build();
        });
    }
}
