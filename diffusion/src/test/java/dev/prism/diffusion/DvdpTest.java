package dev.prism.diffusion;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.kernels.Dct;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DVDP process: its forward chain has the closed-form per-coefficient mean and variance at every step, across
 * the switches; the re-insertion has the forward variance; the switch steps are where the divergence bound first holds.
 */
class DvdpTest {
    /** T = 60, stages 8 → 4 → 2 with switches after steps 19 and 39: every stage has 20 steps. */
    static final Dvdp PROCESS = new Dvdp(NoiseSchedule.linear(60), 1, new int[] {8, 4, 2}, new int[] {19, 39});

    /** The DCT coefficients [count, k, k] of images [count, 1, k, k]. */
    static float[] dct(float[] x, int count, int k) {
        float[] table = Dct.cosineTable(k), y = new float[x.length];
        try (JvmBackend host = JvmBackend.sequential()) {
            for (Launch l : Dct.dct2(x, table, table, new float[x.length], y, count, 1, k, k)) {
                host.run(l);
            }
        }
        return y;
    }

    static float[] gaussian(Random r, int n) {
        float[] z = new float[n];
        for (int i = 0; i < n; i++) {
            z[i] = (float) r.nextGaussian();
        }
        return z;
    }

    /**
     * Checks the sample mean and variance of every coefficient of {@code y [m, k, k]} against N(mean[c], var):
     * the mean within 5 standard errors, the variance ratio within 5 standard deviations of χ²/(m−1).
     */
    static void assertMoments(String where, float[] y, int m, int k, double[] mean, double var) {
        int per = k * k;
        for (int c = 0; c < per; c++) {
            double s = 0, ss = 0;
            for (int i = 0; i < m; i++) {
                s += y[i * per + c];
            }
            double mu = s / m;
            for (int i = 0; i < m; i++) {
                double d = y[i * per + c] - mu;
                ss += d * d;
            }
            double v = ss / (m - 1);
            assertTrue(Math.abs(mu - mean[c]) <= 5 * Math.sqrt(var / m),
                    where + ", coefficient " + c + ": mean " + mu + ", expected " + mean[c] + " (variance " + var + ", " + m + " samples)");
            assertTrue(Math.abs(v / var - 1) <= 5 * Math.sqrt(2.0 / (m - 1)),
                    where + ", coefficient " + c + ": variance " + v + ", expected " + var + " (" + m + " samples)");
        }
    }

    @Test
    void theForwardChainHasTheClosedFormVarianceOfEveryCoefficientAtEveryStepAcrossTheSwitches() {
        int m = 3000, n = 8;
        Random r = new Random(11);
        float[] image = gaussian(r, n * n);
        float[] x = new float[m * n * n];
        for (int i = 0; i < m; i++) {
            System.arraycopy(image, 0, x, i * n * n, n * n);
        }
        double[] y0 = toDouble(dct(image, 1, n));
        NoiseSchedule s = PROCESS.schedule();
        int side = n;
        for (int t = 0; t < s.timesteps(); t++) {
            // DDPM's Markov step in the current dimension, then the projection onto the block of step t
            float[] z = gaussian(r, x.length);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (Math.sqrt(s.alpha(t)) * x[i] + Math.sqrt(s.beta(t)) * z[i]);
            }
            int k = PROCESS.sideAt(t);
            if (k != side) {
                x = Dvdp.resize(x, m, 1, side, k);
                side = k;
            }
            assertEquals(m * k * k, x.length, "state size at step " + t);
            double[] mean = new double[k * k];
            for (int u = 0; u < k; u++) {
                for (int v = 0; v < k; v++) {
                    mean[u * k + v] = Math.sqrt(s.alphaBar(t)) * y0[u * n + v];
                }
            }
            assertMoments("chain at step " + t + " (side " + k + ")", dct(x, m, k), m, k, mean, 1 - s.alphaBar(t));
            if (t % 10 == 9) {
                // the closed form the trainer samples from directly: the same law
                float[] direct = PROCESS.forward(repeat(image, m), m, gaussian(r, m * k * k), t);
                assertMoments("closed form at step " + t, dct(direct, m, k), m, k, mean, 1 - s.alphaBar(t));
            }
        }
        assertEquals(2, side);
    }

    @Test
    void liftKeepsTheStateAndReinsertsTheDroppedCoefficientsWithTheGivenVariance() {
        int m = 3000, from = 2, to = 4;
        Random r = new Random(5);
        float[] small = gaussian(r, from * from);
        float[] x = repeat(small, m);
        double sigma = 0.9;
        float[] lifted = Dvdp.lift(x, m, 1, from, to, gaussian(r, m * to * to), sigma);
        float[] y = dct(lifted, m, to), ySmall = dct(small, 1, from);
        int per = to * to;
        float[] kept = new float[m * from * from], want = new float[m * from * from];
        float[] fresh = new float[m * (per - from * from)];
        for (int i = 0, f = 0; i < m; i++) {
            for (int u = 0; u < to; u++) {
                for (int v = 0; v < to; v++) {
                    if (u < from && v < from) {
                        kept[(i * from + u) * from + v] = y[i * per + u * to + v];
                        want[(i * from + u) * from + v] = ySmall[u * from + v];
                    } else {
                        fresh[f++] = y[i * per + u * to + v];
                    }
                }
            }
        }
        for (int i = 0; i < kept.length; i++) {
            assertEquals(want[i], kept[i], 1e-5, "kept coefficient " + i);
        }
        // the 12 new coefficients per image, one column each
        int cols = per - from * from;
        for (int c = 0; c < cols; c++) {
            float[] col = new float[m];
            for (int i = 0; i < m; i++) {
                col[i] = fresh[i * cols + c];
            }
            assertMoments("re-inserted coefficient " + c, col, m, 1, new double[1], sigma * sigma);
        }
    }

    @Test
    void resizeIsTheOrthonormalTruncationAndLiftWithoutNoiseUndoesNothingOfIt() {
        Random r = new Random(2);
        float[] x = gaussian(r, 3 * 2 * 8 * 8);
        float[] down = Dvdp.resize(x, 3, 2, 8, 4);
        float[] y = dct(x, 6, 8), yd = dct(down, 6, 4);
        for (int p = 0; p < 6; p++) {
            for (int u = 0; u < 4; u++) {
                for (int v = 0; v < 4; v++) {
                    assertEquals(y[(p * 8 + u) * 8 + v], yd[(p * 4 + u) * 4 + v], 1e-5);
                }
            }
        }
        float[] back = Dvdp.resize(Dvdp.resize(down, 3, 2, 4, 8), 3, 2, 8, 4);
        assertArrayEquals(down, back, 1e-5f);
    }

    @Test
    void switchStepsAreTheFirstStepsWhereTheDivergenceBoundHolds() {
        NoiseSchedule s = NoiseSchedule.linear(1000);
        double[] power = new double[8 * 8];
        Random r = new Random(3);
        for (int u = 0; u < 8; u++) {
            for (int v = 0; v < 8; v++) {
                power[u * 8 + v] = 40.0 / (1 + u * u + v * v) * (0.5 + r.nextDouble());
            }
        }
        Dvdp d = Dvdp.fromPower(s, 1, new int[] {8, 4, 2}, power, 0.1);
        int[] sw = d.switches();
        for (int j = 0; j < 2; j++) {
            int k = d.stages()[j + 1];
            assertTrue(Dvdp.klBound(s, power, 1, 8, k, sw[j]) <= 0.1, "bound at the switch");
            assertTrue(Dvdp.klBound(s, power, 1, 8, k, sw[j] - 1) > 0.1, "bound one step before the switch");
        }
        assertTrue(sw[0] < sw[1]);
        assertEquals(1, d.stageAt(sw[0] + 1));
        assertEquals(0, d.stageAt(sw[0]));
        // a tighter bound drops later
        assertTrue(Dvdp.fromPower(s, 1, new int[] {8, 4, 2}, power, 0.01).switches()[0] > sw[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dvdp.fromPower(NoiseSchedule.linear(10), 1, new int[] {8, 4, 2}, power, 0.1));
        assertTrue(e.getMessage().contains("'stages'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dvdp(s, 1, new int[] {8, 8}, new int[] {3}));
        assertTrue(e.getMessage().contains("'stages'") && e.getMessage().contains("[8, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Dvdp(s, 1, new int[] {8, 4, 2}, new int[] {30, 30}));
        assertTrue(e.getMessage().contains("'switches'"), e.getMessage());
    }

    @Test
    void powerIsTheMeanSquareOfEachCoefficient() {
        Random r = new Random(4);
        float[] x = gaussian(r, 5 * 16);
        double[] p = Dvdp.power(x, 5, 1, 4);
        float[] y = dct(x, 5, 4);
        for (int c = 0; c < 16; c++) {
            double want = 0;
            for (int i = 0; i < 5; i++) {
                want += (double) y[i * 16 + c] * y[i * 16 + c];
            }
            assertEquals(want / 5, p[c], 1e-5 * (1 + want));
        }
    }

    static float[] repeat(float[] one, int m) {
        float[] x = new float[m * one.length];
        for (int i = 0; i < m; i++) {
            System.arraycopy(one, 0, x, i * one.length, one.length);
        }
        return x;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
