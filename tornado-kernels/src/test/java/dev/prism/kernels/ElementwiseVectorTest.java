package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ElementwiseVector}, the variant of WaveDiff's adaptive-norm modulation that the parallel JVM backend runs,
 * against the plain loop of {@link ElementwiseKernels#modulatePlanes}: on the inputs of {@link WaveDiffOpsTest}, on
 * planes narrower and wider than a vector (rows of 1 to 33, planes that are no multiple of 4, 8 or 16), in place,
 * and across thread counts (the same bits).
 */
class ElementwiseVectorTest {
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }

    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    @ParameterizedTest
    @ValueSource(strings = {"modulate_silu0", "modulate_silu1"})
    void modulationMatchesThePlainLoopOnTheTestInputs(String name) {
        Npz r = Npz.resource("wavediff_ops/" + name);
        long[] d = r.get("dims").ints();
        check(name, r.f("x"), r.f("s"), (int) d[0], (int) d[1], (int) d[2], (int) d[3]);
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1", "2,3,4,4", "1,5,1,7", "3,2,5,3", "2,7,8,8", "1,4,16,16", "2,3,9,17", "1,2,33,31", "4,9,4,4", "100,3,2,2"})
    void modulationMatchesThePlainLoopOnEveryPlaneSize(int n, int c, int h, int w) {
        float[] x = Inputs.gaussian(n * c * h * w, 71);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 4;
        }
        float[] s = Inputs.gaussian(2 * n * c, 72);
        check(n + "x" + c + "x" + h + "x" + w, x, s, n, c, h, w);
    }

    private static void check(String what, float[] x, float[] s, int n, int c, int h, int w) {
        int size = n * c * h * w;
        for (boolean silu : new boolean[] {false, true}) {
            String name = what + (silu ? " with SiLU" : "");
            float[] plain = Inputs.poisoned(size), vector = Inputs.poisoned(size), seven = Inputs.poisoned(size);
            Launch l = Elementwise.modulatePlanes(x, s, vector, n, c, h, w, silu);
            assertNotNull(l.vector(), name + " carries a vector variant");
            Backends.seq(Elementwise.modulatePlanes(x, s, plain, n, c, h, w, silu));
            Backends.par(l);
            SEVEN.run(Elementwise.modulatePlanes(x, s, seven, n, c, h, w, silu));
            assertIdentical(name + " on 3 and 7 threads", vector, seven);
            if (silu) {
                assertClose(name, plain, vector);
            } else {
                assertIdentical(name + " keeps the loop's bits", plain, vector);
            }
            float[] inPlace = x.clone();
            Backends.par(Elementwise.modulatePlanes(inPlace, s, inPlace, n, c, h, w, silu));
            assertIdentical(name + " in place", vector, inPlace);
        }
    }
}
