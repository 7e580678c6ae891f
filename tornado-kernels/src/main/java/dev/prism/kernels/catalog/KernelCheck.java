package dev.prism.kernels.catalog;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs catalog cases on a backend and compares every output with the sequential reference.
 *
 * <p>Each case is built twice from one seed: once for the reference backend, once for the backend
 * under test, so both see equal inputs and write distinct buffers, poisoned with NaN beforehand.
 */
public final class KernelCheck {

    /**
     * One row of the check.
     *
     * @param millis      time of one execution on the backend under test, after one warm-up run
     * @param maxAbsError largest |test − reference| over all outputs
     * @param maxRelError {@code maxAbsError} over the largest |reference|
     * @param problem     null when every output is finite and within tolerance, else what is wrong
     */
    public record Row(String kernel, String shape, double millis, double maxAbsError, double maxRelError, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    private KernelCheck() {
    }

    /**
     * @param relTolerance largest allowed {@code maxRelError}; 0 demands bit-identical results
     */
    public static List<Row> run(List<KernelCase> cases, Backend reference, Backend test, double relTolerance, long seed) {
        List<Row> rows = new ArrayList<>();
        for (KernelCase c : cases) {
            rows.add(run(c, reference, test, relTolerance, seed));
        }
        return rows;
    }

    public static Row run(KernelCase c, Backend reference, Backend test, double relTolerance, long seed) {
        Plan ref = c.build().apply(seed);
        Plan cand = c.build().apply(seed);
        try (Executable e = reference.compile(ref)) {
            e.execute();
        }
        double millis;
        try (Executable e = test.compile(cand)) {
            e.execute();
            long t0 = System.nanoTime();
            e.execute();
            millis = (System.nanoTime() - t0) / 1e6;
        }
        List<float[]> a = outputsInOrder(ref);
        List<float[]> b = outputsInOrder(cand);
        double maxAbs = 0, maxRef = 0;
        String problem = null;
        for (int k = 0; k < a.size(); k++) {
            float[] x = a.get(k), y = b.get(k);
            for (int i = 0; i < x.length; i++) {
                if (!Float.isFinite(x[i]) || !Float.isFinite(y[i])) {
                    if (problem == null) {
                        problem = "output " + k + " [" + i + "] is not finite: reference " + x[i] + ", found " + y[i];
                    }
                    continue;
                }
                maxAbs = Math.max(maxAbs, Math.abs((double) x[i] - y[i]));
                maxRef = Math.max(maxRef, Math.abs(x[i]));
            }
        }
        double rel = maxRef == 0 ? maxAbs : maxAbs / maxRef;
        if (problem == null && rel > relTolerance) {
            problem = String.format("max relative error %.3g exceeds %.3g", rel, relTolerance);
        }
        return new Row(c.name(), c.shape(), millis, maxAbs, rel, problem);
    }

    /** The plan's outputs in launch order, so two builds of one case line up. */
    static List<float[]> outputsInOrder(Plan p) {
        List<float[]> out = new ArrayList<>();
        p.launches().forEach(l -> {
            for (float[] o : l.outputs()) {
                if (p.outputs().contains(o) && out.stream().noneMatch(x -> x == o)) {
                    out.add(o);
                }
            }
        });
        return out;
    }
}
