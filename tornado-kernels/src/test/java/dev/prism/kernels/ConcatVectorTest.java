package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link ConcatVector}, the JVM variants of the channel concatenation and its split, against the plain loops of
 * {@link ConcatKernels}: the same floats in the same places on 3 and 7 threads, whose lane ranges end inside planes,
 * inside an image's planes of {@code a} or {@code b} and across images; shapes from one row to the models' decoder
 * concatenations.
 */
class ConcatVectorTest {
    private static final JvmBackend SEVEN = JvmBackend.parallel(7);

    @AfterAll
    static void close() {
        SEVEN.close();
    }

    @ParameterizedTest
    @CsvSource({"1,1,1,1,1", "2,3,5,4,6", "3,8,2,5,7", "2,7,9,1,11", "5,1,3,3,2", "4,64,32,32,32", "3,64,64,8,8"})
    void theVariantsMoveEveryFloatAsTheLoopsDo(int n, int ca, int cb, int h, int w) {
        float[] a = Inputs.gaussian(n * ca * h * w, 81), b = Inputs.gaussian(n * cb * h * w, 82);
        int size = n * (ca + cb) * h * w;
        String what = n + "x(" + ca + "+" + cb + ")x" + h + "x" + w;

        float[] plain = Inputs.poisoned(size), par = Inputs.poisoned(size), seven = Inputs.poisoned(size);
        Launch cat = Concat.channels(a, b, par, n, ca, cb, h, w);
        assertNotNull(cat.vector(), what + ": concat.channels carries its variant");
        Backends.seq(Concat.channels(a, b, plain, n, ca, cb, h, w));
        Backends.par(cat);
        SEVEN.run(Concat.channels(a, b, seven, n, ca, cb, h, w));
        assertIdentical(what + " concat, 3 threads", plain, par);
        assertIdentical(what + " concat, 7 threads", plain, seven);

        float[] y = Inputs.gaussian(size, 83);
        JvmBackend[] backends = {Backends.SEQ, Backends.PAR, SEVEN};
        float[][] as = new float[3][], bs = new float[3][];
        for (int i = 0; i < 3; i++) {
            as[i] = Inputs.poisoned(n * ca * h * w);
            bs[i] = Inputs.poisoned(n * cb * h * w);
            Launch split = Concat.split(y, as[i], bs[i], n, ca, cb, h, w);
            assertNotNull(split.vector(), what + ": concat.split carries its variant");
            backends[i].run(split);
        }
        assertIdentical(what + " split a, 3 threads", as[0], as[1]);
        assertIdentical(what + " split b, 3 threads", bs[0], bs[1]);
        assertIdentical(what + " split a, 7 threads", as[0], as[2]);
        assertIdentical(what + " split b, 7 threads", bs[0], bs[2]);
    }
}
