package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Gating;

import java.util.ArrayList;
import java.util.List;

final class GatingCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        // Sub-bands of a [N, C, 2h, 2w] feature: 1×64×32×32 at the model size.
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 7 : 32, w = small ? 9 : 32;
        int band = n * c * h * w, image = 4 * band;
        String bands = n + "x4x" + c + "x" + h + "x" + w, pooled = n + "x" + c + "x" + 2 * h + "x" + 2 * w;
        List<KernelCase> out = new ArrayList<>();
        out.add(new KernelCase("gating.avgPool", pooled, seed -> {
            float[] x = new Rand(seed).gaussian(image), m = Rand.poisoned(n * c);
            return Plan.builder("gating.avgPool").add(Gating.avgPool(x, m, n, c, 2 * h, 2 * w)).inputs(x).outputs(m).build();
        }));
        out.add(new KernelCase("gating.avgPoolBackward", pooled, seed -> {
            float[] gm = new Rand(seed).gaussian(n * c), gx = Rand.poisoned(image);
            return Plan.builder("gating.avgPoolBackward").add(Gating.avgPoolBackward(gm, gx, n, c, 2 * h, 2 * w))
                    .inputs(gm).outputs(gx).build();
        }));
        for (int gates : new int[] {1, c}) {
            String suffix = gates == 1 ? ".g1" : ".gc", shape = bands + " G=" + gates;
            int ng = 4 * n * gates;
            out.add(new KernelCase("gating.gatedSum" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] y = r.gaussian(image), g = r.uniform(ng, 0f, 1f), o = Rand.poisoned(band);
                return Plan.builder("gating.gatedSum").add(Gating.gatedSum(y, g, o, n, c, h, w, gates))
                        .inputs(y, g).outputs(o).build();
            }));
            out.add(new KernelCase("gating.gatedSumBackward" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] y = r.gaussian(image), g = r.uniform(ng, 0f, 1f), gout = r.gaussian(band);
                float[] gy = Rand.poisoned(image), gg = Rand.poisoned(ng), partial = Rand.poisoned(Gating.partialLength(n, c));
                return Plan.builder("gating.gatedSumBackward")
                        .addAll(Gating.gatedSumBackward(y, g, gout, gy, partial, gg, n, c, h, w, gates))
                        .inputs(y, g, gout).outputs(gy, gg).build();
            }));
            out.add(new KernelCase("gating.bandGate" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(image), g = r.uniform(ng, 0f, 1f), z = Rand.poisoned(image);
                return Plan.builder("gating.bandGate").add(Gating.bandGate(x, g, z, n, c, h, w, gates))
                        .inputs(x, g).outputs(z).build();
            }));
            out.add(new KernelCase("gating.bandGateBackward" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] x = r.gaussian(image), g = r.uniform(ng, 0f, 1f), gz = r.gaussian(image);
                float[] gx = Rand.poisoned(image), gg = Rand.poisoned(ng), partial = Rand.poisoned(Gating.partialLength(n, c));
                return Plan.builder("gating.bandGateBackward")
                        .addAll(Gating.bandGateBackward(x, g, gz, gx, partial, gg, n, c, h, w, gates))
                        .inputs(x, g, gz).outputs(gx, gg).build();
            }));
        }
        return out;
    }
}
