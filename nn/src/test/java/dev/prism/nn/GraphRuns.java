package dev.prism.nn;

import dev.prism.backend.JvmBackend;
import dev.prism.testing.Inputs;

import java.util.function.Function;

import static dev.prism.testing.Arrays32.assertIdentical;

/** Helpers of the tests that run a {@link Graph}'s launches directly on a JVM backend. */
final class GraphRuns {
    private GraphRuns() {
    }

    /** A parameter over {@code data} (not copied) with the given shape. */
    static Parameter parameter(String name, float[] data, int... shape) {
        return data == null ? null : new Parameter(name, Tensor.of(data, shape));
    }

    /** Runs the forward launches, then the backward ones (none before {@link Graph#backward}). */
    static void run(Graph g, JvmBackend backend) {
        g.forwardLaunches().forEach(backend::run);
        g.backwardLaunches().forEach(backend::run);
    }

    /** Fills every array with NaN, so that an element no launch writes fails the comparison. */
    static void poison(float[]... arrays) {
        for (float[] a : arrays) {
            Inputs.poison(a);
        }
    }

    /**
     * Runs the graph, then again on the same buffers after poisoning {@code results}, and asserts that
     * both runs give the same bits: a plan executes any number of times, so no launch may accumulate
     * into a buffer or read one that a later launch overwrites.
     */
    static void runTwiceAlike(String what, Graph g, JvmBackend backend, float[]... results) {
        poison(results);
        run(g, backend);
        float[][] first = new float[results.length][];
        for (int i = 0; i < results.length; i++) {
            first[i] = results[i].clone();
        }
        poison(results);
        run(g, backend);
        for (int i = 0; i < results.length; i++) {
            assertIdentical(what + ": result " + i + " of a second run", first[i], results[i]);
        }
    }

    /** {@code a·s}, elementwise, in a new array. */
    static float[] times(float[] a, float s) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * s;
        }
        return out;
    }

    /** Gaussian values times {@code s}. */
    static float[] scaled(int len, float s, long stream) {
        return times(Inputs.gaussian(len, stream), s);
    }

    /** {@code FiniteDifference.check} in the variable {@code u = a / s} (see the tests' notes on scaling). */
    static void checkScaled(String what, Function<float[], float[]> f, float[] a, float[] gy, float[] ga, float s,
                            int directions, int coords) {
        dev.prism.testing.FiniteDifference.check(what, u -> f.apply(times(u, s)), times(a, 1f / s), gy, times(ga, s),
                directions, coords);
    }
}
