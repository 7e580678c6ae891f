package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Approx;
import dev.prism.kernels.Approx.Basis;

import java.util.ArrayList;
import java.util.List;

final class ApproxCases implements CaseProvider {
    /** (n, k): a 3×3 kernel from 2 harmonics and a 7×7 kernel from 4, the paper's compression settings. */
    private static final int[][] ORDERS = {{2, 3}, {4, 7}};

    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int cout = small ? 5 : 64, cin = small ? 3 : 64;
        List<KernelCase> out = new ArrayList<>();
        for (Basis b : Basis.values()) {
            String name = "approx.basis." + b.name().toLowerCase();
            int n = 4, k = 7;
            out.add(new KernelCase(name, "n=" + n + " k=" + k, seed -> {
                float[] t = Rand.poisoned(Approx.tableLength(n, k));
                return Plan.builder(name).add(Approx.basis(t, b, n, k)).outputs(t).build();
            }));
        }
        for (int[] o : ORDERS) {
            int n = o[0], k = o[1];
            String shape = cout + "x" + cin + " n=" + n + " k=" + k, suffix = ".k" + k + "n" + n;
            out.add(new KernelCase("approx.synthesize" + suffix, shape, seed -> {
                float[] a = new Rand(seed).gaussian(cout * cin * n * n), w = Rand.poisoned(cout * cin * k * k);
                float[] t = Approx.basisTable(Basis.COSINE, n, k);
                return Plan.builder("approx.synthesize").add(Approx.synthesize(a, t, w, cout, cin, n, k))
                        .constants(t).inputs(a).outputs(w).build();
            }));
            out.add(new KernelCase("approx.synthesizeBackward" + suffix, shape, seed -> {
                float[] gw = new Rand(seed).gaussian(cout * cin * k * k), ga = Rand.poisoned(cout * cin * n * n);
                float[] t = Approx.basisTable(Basis.CHEBYSHEV, n, k);
                return Plan.builder("approx.synthesizeBackward").add(Approx.synthesizeBackward(gw, t, ga, cout, cin, n, k))
                        .constants(t).inputs(gw).outputs(ga).build();
            }));
        }
        return out;
    }
}
