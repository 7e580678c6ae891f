package dev.prism.kernels;

import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SamplerTest {
    private static final String[] CASES = {"ddpm_t300_clip", "ddpm_t999", "ddpm_t0_clip", "ddim_t500_s400_eta05",
            "ddim_t100_last_eta0", "ddgan_t2", "init"};

    @ParameterizedTest
    @ValueSource(strings = {"ddpm_t300_clip", "ddpm_t999", "ddpm_t0_clip", "ddim_t500_s400_eta05",
            "ddim_t100_last_eta0", "ddgan_t2", "init"})
    void updateMatchesThePapersStepInFloat64(String name) {
        Npz r = Npz.resource("sampler/" + name);
        float[] x = r.f("x"), out = Inputs.poisoned(x.length);
        Backends.seq(Sampler.update(x, r.f("e"), r.f("z"), r.f("c"), out, x.length));
        assertClose("update " + name, r.f("out"), out);
    }

    @Test
    void inPlaceUpdateEqualsTheOutOfPlaceOneOnBothBackends() {
        for (String name : CASES) {
            Npz r = Npz.resource("sampler/" + name);
            float[] x = r.f("x"), e = r.f("e"), z = r.f("z"), c = r.f("c");
            float[] out = Inputs.poisoned(x.length);
            Backends.seq(Sampler.update(x, e, z, c, out, x.length));
            float[] inPlace = x.clone();
            Backends.par(Sampler.update(inPlace, e, z, c, inPlace, x.length));
            assertIdentical("in place " + name, out, inPlace);
        }
    }

    @Test
    void theLoadingStepIgnoresNaNInTheImageAndTheModelOutput() {
        int len = 2 * 3 * 5 * 7;
        float[] x = Inputs.poisoned(len), e = Inputs.poisoned(len), z = Inputs.gaussian(len, 1);
        float[] c = Sampler.init(new float[Sampler.COEFFICIENTS]);
        Backends.seq(Sampler.update(x, e, z, c, x, len));
        assertIdentical("x = z", z, x);
    }

    @Test
    void clippingBoundsThePredictionOnly() {
        // px = 1, pe = 0: x̂0 = clamp(x); the result 1·x̂0 + 0.5·x shows both the clipped and the raw x.
        float[] x = {-3f, -1f, -0.25f, 0f, 0.5f, 1f, 7f};
        float[] zero = new float[x.length], out = Inputs.poisoned(x.length);
        float[] c = Sampler.step(new float[Sampler.COEFFICIENTS], 1, 0, true, 1, 0.5, 0, 0);
        Backends.seq(Sampler.update(x, zero, zero, c, out, x.length));
        assertArrayEquals(new float[] {-2.5f, -1.5f, -0.375f, 0f, 0.75f, 1.5f, 4.5f}, out);
        Sampler.step(c, 1, 0, false, 1, 0.5, 0, 0);
        Backends.seq(Sampler.update(x, zero, zero, c, out, x.length));
        assertArrayEquals(new float[] {-4.5f, -1.5f, -0.375f, 0f, 0.75f, 1.5f, 10.5f}, out);
    }

    @Test
    void coefficientsAreWrittenInTheDocumentedLayout() {
        float[] c = Sampler.step(new float[Sampler.COEFFICIENTS], 2, -3, true, 0.25, 0.5, 0.75, 0.1);
        assertArrayEquals(new float[] {0f, 2f, -3f, -1f, 1f, 0.25f, 0.5f, 0.75f, 0.1f}, c);
        Sampler.step(c, 2, -3, false, 0.25, 0.5, 0.75, 0.1);
        assertEquals(Float.NEGATIVE_INFINITY, c[Sampler.LO]);
        assertEquals(Float.POSITIVE_INFINITY, c[Sampler.HI]);
        Sampler.init(c);
        assertArrayEquals(new float[] {1f, 0f, 0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 0f, 0f, 0f, 0f}, c);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int len = 3 * 5 * 18 * 22;
        float[] x = Inputs.gaussian(len, 2), e = Inputs.gaussian(len, 3), z = Inputs.gaussian(len, 4);
        float[] c = Sampler.step(new float[Sampler.COEFFICIENTS], 3.59, -3.45, true, 0.448, 0.1, 0.888, 0.097);
        float[] a = Inputs.poisoned(len), b = Inputs.poisoned(len);
        Backends.seq(Sampler.update(x, e, z, c, a, len));
        Backends.par(Sampler.update(x, e, z, c, b, len));
        assertIdentical("update", a, b);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        float[] x = new float[10], c = new float[Sampler.COEFFICIENTS];
        var e = assertThrows(IllegalArgumentException.class, () -> Sampler.update(x, x.clone(), x.clone(), new float[8], x, 10));
        assertEquals("sampler.update: argument 'c' expected length 9, found 8", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sampler.update(x, x.clone(), new float[9], c, x, 10));
        assertEquals("sampler.update: argument 'z' expected length 10, found 9", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sampler.update(x, x.clone(), x.clone(), c, x, 0));
        assertEquals("sampler.update: argument 'len' expected > 0, found 0", e.getMessage());
        float[] eps = x.clone();
        e = assertThrows(IllegalArgumentException.class, () -> Sampler.update(x, eps, x.clone(), c, eps, 10));
        assertEquals("sampler.update: argument 'out' expected an array distinct from 'e' (the kernel reads one while writing the other), found the same array",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sampler.step(c, 1, Double.NaN, false, 0, 0, 0, 0));
        assertEquals("sampler.step: argument 'pe' expected a finite number, found NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sampler.init(new float[3]));
        assertEquals("sampler.init: argument 'c' expected length 9, found 3", e.getMessage());
    }
}
