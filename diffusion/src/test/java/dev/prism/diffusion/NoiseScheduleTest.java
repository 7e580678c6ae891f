package dev.prism.diffusion;

import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NoiseScheduleTest {

    static NoiseSchedule of(String key) {
        String[] p = key.split("_");
        int T = Integer.parseInt(p[1]);
        return switch (p[0]) {
            case "linear" -> NoiseSchedule.linear(T);
            case "cosine" -> NoiseSchedule.cosine(T);
            case "vp" -> NoiseSchedule.vp(T);
            default -> throw new IllegalArgumentException(key);
        };
    }

    static float[] floats(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"linear_1", "linear_10", "linear_1000", "cosine_10", "cosine_1000", "vp_2", "vp_4", "vp_1000"})
    void schedulesMatchThePapersCode(String key) {
        // The reference is float64 rounded to float32: 1e-6 relative is 16 float ulps, far below any
        // formula difference (a wrong ε, s or clip moves β by 1e-3 or more).
        Npz r = Npz.resource("samplers/schedules");
        NoiseSchedule s = of(key);
        assertEquals(r.f(key + "_beta").length, s.timesteps());
        assertClose(key + " beta", r.f(key + "_beta"), floats(s.beta()), 1e-6, 0);
        assertClose(key + " alphaBar", r.f(key + "_abar"), floats(s.alphaBar()), 1e-6, 0);
    }

    @Test
    void alphaAndAlphaBarFollowFromBeta() {
        for (NoiseSchedule s : new NoiseSchedule[] {NoiseSchedule.linear(), NoiseSchedule.cosine(), NoiseSchedule.vp(4)}) {
            double product = 1;
            for (int t = 0; t < s.timesteps(); t++) {
                assertEquals(1 - s.beta(t), s.alpha(t));
                product *= s.alpha(t);
                assertEquals(product, s.alphaBar(t));
                assertEquals(t == 0 ? 1.0 : s.alphaBar(t - 1), s.alphaBarPrev(t));
            }
        }
    }

    @Test
    void defaultsAreThePapers() {
        NoiseSchedule lin = NoiseSchedule.linear();
        assertEquals(1000, lin.timesteps());
        assertEquals(1e-4, lin.beta(0));
        assertEquals(0.02, lin.beta(999), 1e-17);
        assertEquals(NoiseSchedule.linear(1000, 1e-4, 0.02), lin);
        NoiseSchedule cos = NoiseSchedule.cosine();
        assertEquals(0.999, cos.beta(999), "the cosine schedule's last beta is clipped");
        assertTrue(cos.beta(998) < 0.999);
        // DDGAN's VP schedule: ᾱ_T = ā(1)/ā(ε), ā(u) = exp(−½u²(βmax−βmin) − u·βmin).
        NoiseSchedule vp = NoiseSchedule.vp(4);
        double abarEps = Math.exp(-0.5 * 1e-6 * 19.9 - 1e-3 * 0.1);
        assertEquals(Math.exp(-0.5 * 19.9 - 0.1) / abarEps, vp.alphaBar(3), 1e-12);
        assertEquals("vp(T=4, betaMin=0.1, betaMax=20.0, eps=0.001)", vp.name());
    }

    @Test
    void arraysAreCopiedInAndOut() {
        double[] beta = {0.1, 0.2};
        NoiseSchedule s = NoiseSchedule.ofBetas("custom", beta);
        beta[0] = 0.5;
        s.beta()[1] = 0.9;
        assertEquals(0.1, s.beta(0));
        assertEquals(0.2, s.beta(1));
        assertEquals(NoiseSchedule.ofBetas("custom", new double[] {0.1, 0.2}), s);
        assertNotEquals(NoiseSchedule.ofBetas("custom", new double[] {0.1, 0.3}), s);
    }

    @Test
    void badParametersAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(0));
        assertEquals("noise schedule 'linear': argument 'timesteps' expected 1 to 1000000, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(10, 0.0, 0.02));
        assertEquals("noise schedule 'linear': argument 'betaStart' expected in (0, 1), found 0.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.linear(10, 0.1, 0.01));
        assertEquals("noise schedule 'linear': argument 'betaEnd' expected in [betaStart, 1) = [0.1, 1), found 0.01", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.cosine(10, -0.008, 0.999));
        assertEquals("noise schedule 'cosine': argument 's' expected a finite number > 0, found -0.008", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.cosine(10, 0.008, 1.0));
        assertEquals("noise schedule 'cosine': argument 'maxBeta' expected in (0, 1), found 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.vp(4, 0.1, Double.NaN, 1e-3));
        assertEquals("noise schedule 'vp': argument 'betaMax' expected a finite number >= betaMin = 0.1, found NaN", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.vp(4, 0.1, 20, 1.0));
        assertEquals("noise schedule 'vp': argument 'eps' expected in (0, 1), found 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.vp(-3));
        assertEquals("noise schedule 'vp': argument 'timesteps' expected 1 to 1000000, found -3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.cosine(Integer.MAX_VALUE));
        assertEquals("noise schedule 'cosine': argument 'timesteps' expected 1 to 1000000, found 2147483647", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NoiseSchedule.ofBetas("custom", new double[] {0.1, 1.0}));
        assertEquals("noise schedule 'custom': argument 'beta[1]' expected in (0, 1), found 1.0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new NoiseSchedule("forged", new double[] {0.1}, new double[] {0.9}, new double[] {0.8}));
        assertEquals("noise schedule 'forged': alpha[0] and alphaBar[0] expected 0.9 and 0.9 (from beta), found 0.9 and 0.8", e.getMessage());
    }
}
