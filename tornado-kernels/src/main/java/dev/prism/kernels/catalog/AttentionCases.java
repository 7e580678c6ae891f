package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Attention;

import java.util.ArrayList;
import java.util.List;

/**
 * Multi-head attention on channel-major maps, forward and backward, with one head of d = C and with
 * four heads of d = C/4. MODEL: C = 64 channels over P = 32×32 = 1024 positions, batch 1.
 */
final class AttentionCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int batch = small ? 2 : 1, channels = small ? 12 : 64, positions = small ? 3 * 7 : 32 * 32;
        List<KernelCase> cases = new ArrayList<>();
        for (int heads : new int[] {1, 4}) {
            int dim = channels / heads, len = batch * channels * positions, pp = batch * heads * positions * positions;
            String suffix = heads == 1 ? "" : ".heads4";
            String shape = "B" + batch + " heads" + heads + " d" + dim + " P" + positions;
            cases.add(new KernelCase("attention.forward" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] q = r.gaussian(len), k = r.gaussian(len), v = r.gaussian(len);
                float[] out = Rand.poisoned(len), probs = Rand.poisoned(pp);
                return Plan.builder("attention.forward" + suffix)
                        .addAll(Attention.forward(q, k, v, out, probs, batch, heads, dim, positions))
                        .inputs(q, k, v).outputs(out, probs).build();
            }));
            cases.add(new KernelCase("attention.backward" + suffix, shape, seed -> {
                Rand r = new Rand(seed);
                float[] q = r.gaussian(len), k = r.gaussian(len), v = r.gaussian(len), gout = r.gaussian(len);
                float[] probs = rowStochastic(r.uniform(pp, 0.01f, 1f), positions);
                float[] gq = Rand.poisoned(len), gk = Rand.poisoned(len), gv = Rand.poisoned(len), scratch = Rand.poisoned(pp);
                return Plan.builder("attention.backward" + suffix)
                        .addAll(Attention.backward(q, k, v, probs, gout, gq, gk, gv, scratch, batch, heads, dim, positions))
                        .inputs(q, k, v, probs, gout).outputs(gq, gk, gv).build();
            }));
        }
        return cases;
    }

    /** Scales each row of {@code cols} values to sum to one, so the backward sees valid probabilities. */
    private static float[] rowStochastic(float[] a, int cols) {
        for (int base = 0; base < a.length; base += cols) {
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += a[base + j];
            }
            for (int j = 0; j < cols; j++) {
                a[base + j] = (float) (a[base + j] / s);
            }
        }
        return a;
    }
}
