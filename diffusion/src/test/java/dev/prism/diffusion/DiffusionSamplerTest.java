package dev.prism.diffusion;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiffusionSamplerTest {
    private static final NoiseSchedule LINEAR = NoiseSchedule.linear();

    @Test
    void ddpmVisitsEveryStepFromTheLast() {
        Ddpm s = new Ddpm(NoiseSchedule.linear(5));
        assertArrayEquals(new int[] {4, 3, 2, 1, 0}, s.timesteps());
        assertEquals(3, s.target(0));
        assertEquals(-1, s.target(4));
    }

    @Test
    void ddimUsesTheLeadingEvenlySpacedSubSequence() {
        assertArrayEquals(IntStream.iterate(960, t -> t >= 0, t -> t - 40).toArray(), new Ddim(LINEAR, 25, 0).timesteps());
        assertArrayEquals(new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0}, new Ddim(LINEAR, 10, 0).timesteps());
        // S does not divide T: still S steps, spaced ⌊T/S⌋.
        assertArrayEquals(new int[] {666, 333, 0}, new Ddim(LINEAR, 3, 0).timesteps());
        assertArrayEquals(new Ddpm(LINEAR).timesteps(), new Ddim(LINEAR, 1000, 0).timesteps());
        assertArrayEquals(new int[] {0}, new Ddim(LINEAR, 1, 0).timesteps());
        Ddim d = new Ddim(LINEAR, 10, 0);
        assertEquals(800, d.target(0));
        assertEquals(-1, d.target(9));
    }

    @Test
    void ddpmCoefficientsAreThePosteriorOfEquationSeven() {
        NoiseSchedule sch = NoiseSchedule.linear(100);
        Ddpm s = new Ddpm(sch);
        int t = 40;
        UpdateCoefficients u = s.update(100 - 1 - t);
        double ab = sch.alphaBar(t), abPrev = sch.alphaBar(t - 1), beta = sch.beta(t);
        assertEquals(1 / Math.sqrt(ab), u.px(), 1e-12);
        assertEquals(-Math.sqrt(1 - ab) / Math.sqrt(ab), u.pe(), 1e-12);
        assertEquals(Math.sqrt(abPrev) * beta / (1 - ab), u.cx0(), 1e-12);
        assertEquals(Math.sqrt(1 - beta) * (1 - abPrev) / (1 - ab), u.cx(), 1e-12);
        assertEquals(0, u.ce());
        assertEquals(Math.sqrt((1 - abPrev) / (1 - ab) * beta), u.sigma(), 1e-12);
        // Unclipped, eq. (7) with x̂0 of eq. (15) is eq. (11): weight of x is 1/√α_t, of ε −β_t/(√(1−ᾱ_t)·√α_t).
        assertEquals(1 / Math.sqrt(1 - beta), u.cx0() * u.px() + u.cx(), 1e-12);
        assertEquals(-beta / Math.sqrt(1 - ab) / Math.sqrt(1 - beta), u.cx0() * u.pe() + u.ce(), 1e-12);
        // The last step (t = 0) adds no noise and returns x̂0.
        UpdateCoefficients last = s.update(99);
        assertEquals(0, last.sigma());
        assertEquals(1, last.cx0(), 1e-12);
        assertEquals(0, last.cx(), 1e-12);
    }

    @Test
    void ddimCoefficientsAreEquationTwelve() {
        Ddim s = new Ddim(LINEAR, 10, 0.5);
        UpdateCoefficients u = s.update(2);   // 700 -> 600
        double at = LINEAR.alphaBar(700), as = LINEAR.alphaBar(600);
        double sigma = 0.5 * Math.sqrt((1 - as) / (1 - at)) * Math.sqrt(1 - at / as);
        assertEquals(Math.sqrt(as), u.cx0(), 1e-12);
        assertEquals(0, u.cx());
        assertEquals(Math.sqrt(1 - as - sigma * sigma), u.ce(), 1e-12);
        assertEquals(sigma, u.sigma(), 1e-12);
        assertTrue(IntStream.range(0, 10).allMatch(i -> new Ddim(LINEAR, 10, 0).update(i).sigma() == 0), "eta = 0 is deterministic");
        UpdateCoefficients last = s.update(9);
        assertEquals(0, last.sigma());
        assertEquals(1, last.cx0());
        assertEquals(0, last.ce());
    }

    @Test
    void ddimAtEtaOneOnEveryStepHasDdpmsVariance() {
        NoiseSchedule sch = NoiseSchedule.cosine(50);
        Ddpm p = new Ddpm(sch);
        Ddim d = new Ddim(sch, 50, 1.0);
        for (int i = 0; i < 50; i++) {
            assertEquals(p.update(i).sigma(), d.update(i).sigma(), 1e-12, "step " + i);
        }
    }

    /** x' of the update in double, element by element, as the kernel computes it. */
    static double apply(UpdateCoefficients u, double x, double e, double z) {
        double x0 = u.px() * x + u.pe() * e;
        if (u.clip()) {
            x0 = Math.max(-1, Math.min(1, x0));
        }
        return u.cx0() * x0 + u.cx() * x + u.ce() * e + u.sigma() * z;
    }

    @Test
    void anX0ModelAndTheEquivalentEpsilonModelGiveTheSameStep() {
        // e = x̂0 for SAMPLE; ε = (x − √ᾱ_t·x̂0)/√(1−ᾱ_t) for EPSILON: one step, two parameterisations.
        double x = 0.7, x0 = -0.3, z = 1.1;
        for (DiffusionSampler[] pair : new DiffusionSampler[][] {
                {new Ddim(LINEAR, 20, 0.4, false, Prediction.EPSILON), new Ddim(LINEAR, 20, 0.4, false, Prediction.SAMPLE)},
                {new Ddpm(LINEAR, false, Prediction.EPSILON), new Ddpm(LINEAR, false, Prediction.SAMPLE)}}) {
            for (int i : new int[] {0, 3, pair[0].steps() - 1}) {
                double ab = LINEAR.alphaBar(pair[0].timestep(i));
                double eps = (x - Math.sqrt(ab) * x0) / Math.sqrt(1 - ab);
                assertEquals(apply(pair[0].update(i), x, eps, z), apply(pair[1].update(i), x, x0, z), 1e-9,
                        pair[0].describe() + " step " + i);
            }
        }
    }

    @Test
    void badOptionsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Ddim(LINEAR, 1001, 0));
        assertEquals("ddim: argument 'steps' expected in [1, 1000] (T of linear(T=1000, 1.0E-4..0.02)), found 1001", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Ddim(LINEAR, 0, 0));
        assertEquals("ddim: argument 'steps' expected in [1, 1000] (T of linear(T=1000, 1.0E-4..0.02)), found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Ddim(LINEAR, 10, -0.1));
        assertEquals("ddim: argument 'eta' expected a finite number >= 0, found -0.1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Ddim(LINEAR, 10, Double.NaN));
        assertEquals("ddim: argument 'eta' expected a finite number >= 0, found NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Ddim(LINEAR, 10, 3.0));
        assertTrue(e.getMessage().startsWith("ddim: argument 'eta' expected small enough that sigma^2 <= 1 - alphaBar_prev on every step"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith(", found 3.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new UpdateCoefficients(1, 0, false, 1, 0, 0, -1));
        assertEquals("update coefficients: argument 'sigma' expected >= 0, found -1.0", e.getMessage());
    }

    @Test
    void descriptionsNameTheOptions() {
        assertEquals("ddim(steps=25, eta=0.0, leading)", new Ddim(LINEAR, 25, 0).describe());
        assertEquals("ddpm(steps=1000, variance=posterior, clip)", new Ddpm(LINEAR, true, Prediction.EPSILON).describe());
        assertEquals("ddpm(steps=4, variance=posterior, x0-prediction)", new Ddpm(NoiseSchedule.vp(4), false, Prediction.SAMPLE).describe());
    }
}
