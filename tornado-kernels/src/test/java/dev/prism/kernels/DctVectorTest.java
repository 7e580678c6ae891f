package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.Stream;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link DctVector}, the Vector API variant of the DCT pass that the parallel JVM backend runs, against
 * the plain loop of {@link DctKernels} that the sequential backend runs: bit-identical for the DCT-II
 * and its inverse on every shape of {@link DctTest} and on sizes around the vector width (one and two
 * blocks of frequencies, scalar leftovers, planes of fewer than four rows, rows split between threads).
 */
class DctVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    @ParameterizedTest
    @ValueSource(strings = {"n1_c1_1x1", "n1_c2_1x4", "n2_c3_5x7", "n1_c3_4x1", "n2_c5_9x6", "n1_c2_8x8"})
    void bitIdenticalToThePlainLoopOnEveryTestShape(String name) {
        Npz r = Npz.resource("dct/" + name);
        long[] d = r.get("dims").ints();
        compare(name, r.f("x"), (int) d[0], (int) d[1], (int) d[2], (int) d[3]);
    }

    /** n, c, h, w. */
    static Stream<int[]> shapes() {
        return Stream.of(new int[] {1, 64, 64, 64}, new int[] {2, 3, 16, 16}, new int[] {1, 2, 17, 15},
                new int[] {1, 3, 8, 8}, new int[] {2, 2, 32, 33}, new int[] {1, 2, 3, 40}, new int[] {1, 2, 40, 3},
                new int[] {3, 1, 5, 24}, new int[] {1, 1, 1, 64}, new int[] {1, 2, 64, 1}, new int[] {2, 3, 7, 31},
                // around the lane counts 4, 8 and 16: one block, a pair and a single block, masked tails
                new int[] {1, 2, 12, 12}, new int[] {1, 2, 20, 4}, new int[] {1, 2, 5, 48}, new int[] {1, 1, 6, 2},
                new int[] {2, 1, 9, 80}, new int[] {1, 1, 16, 16});
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void bitIdenticalToThePlainLoopOnEverySize(int[] s) {
        int n = s[0], c = s[1], h = s[2], w = s[3];
        compare(n + "x" + c + "x" + h + "x" + w, Inputs.gaussian(n * c * h * w, 101), n, c, h, w);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void lowpassKeepsTheLoopsBits(int[] s) {
        int n = s[0], c = s[1], h = s[2], w = s[3], len = n * c * h * w;
        float[] x = Inputs.gaussian(len, 57);
        for (int k = 0; k <= Math.min(h, w); k += Math.max(1, Math.min(h, w) / 3)) {
            float[] loop = Inputs.poisoned(len), vec = Inputs.poisoned(len), seven = Inputs.poisoned(len);
            Launch l = Dct.lowpass(x, vec, n, c, h, w, k);
            assertNotNull(l.vector(), "lowpass carries a vector variant");
            Backends.seq(Dct.lowpass(x, loop, n, c, h, w, k));
            Backends.par(l);
            JvmBackend seven7 = JvmBackend.parallel(7);
            try {
                seven7.run(Dct.lowpass(x, seven, n, c, h, w, k));
            } finally {
                seven7.close();
            }
            assertIdentical("lowpass k=" + k, loop, vec);
            assertIdentical("lowpass k=" + k + " on 7 threads", loop, seven);
        }
    }

    private static void compare(String what, float[] x, int n, int c, int h, int w) {
        float[] th = Dct.cosineTable(h), tw = Dct.cosineTable(w);
        for (boolean inverse : new boolean[] {false, true}) {
            float[] plain = Inputs.poisoned(x.length), vector = Inputs.poisoned(x.length), seven = Inputs.poisoned(x.length);
            List<Launch> v = make(inverse, x, th, tw, vector, n, c, h, w);
            v.forEach(l -> assertNotNull(l.vector(), l.kernel() + " carries a vector variant"));
            make(inverse, x, th, tw, plain, n, c, h, w).forEach(Backends::seq);
            v.forEach(Backends::par);
            make(inverse, x, th, tw, seven, n, c, h, w).forEach(SEVEN::run);
            String tag = what + (inverse ? " idct2" : " dct2");
            assertIdentical(tag, plain, vector);
            assertIdentical(tag + " on 7 threads", plain, seven);
        }
    }

    private static List<Launch> make(boolean inverse, float[] x, float[] th, float[] tw, float[] out, int n, int c, int h, int w) {
        float[] scratch = Inputs.poisoned(x.length);
        return inverse ? Dct.idct2(x, th, tw, scratch, out, n, c, h, w) : Dct.dct2(x, th, tw, scratch, out, n, c, h, w);
    }
}
