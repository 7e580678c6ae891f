package dev.prism.diffusion.eval;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.data.DataSet;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.UNet;

import java.util.SplittableRandom;

/**
 * How much of a denoiser's ε-prediction error lies at high frequencies (Spectral Diffusion §4.2 and Table 5's
 * ablation: small models recover the high frequencies worst). For images x0 of a data set, timesteps t uniform in
 * {0 … T−1} and noise ε drawn from a seed, with {@code x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε} and the prediction error
 * {@code e = ε_θ(x_t, t) − ε}, its 2-D DFT E (unnormalised) splits the mean squared error by frequency
 * (Parseval: mean e² = Σ|E|² / (HW)² per plane):
 * <pre>
 *   total = 1/(M·C) Σ_planes Σ_{u,v} |E[u,v]|² / (HW)²            = mean e²
 *   high  = the same sum over the frequencies above half the Nyquist frequency: max(|f_u|, |f_v|) > 1/4 cycle per
 *           pixel, f_u = u/H for u ≤ H/2 and (u − H)/H above (the outer ring of the centred spectrum)
 * </pre>
 * Same seed, same images, timesteps and noise for every model, so the numbers of two models compare directly.
 */
public final class SpectralError {
    private SpectralError() {
    }

    /**
     * @param total mean squared ε-prediction error
     * @param high  the part of it above half the Nyquist frequency
     */
    public record Result(double total, double high) {
        /** high / total. */
        public double highShare() {
            return total == 0 ? 0 : high / total;
        }
    }

    /** Whether frequency index k of a length-n axis is above half the Nyquist frequency: |f| > 1/4 cycle per pixel. */
    static boolean high(int k, int n) {
        int folded = Math.min(k, n - k);
        return 4L * folded > n;
    }

    /**
     * Measures {@code model} on the first {@code count} images of {@code set} in batches of {@code batch}.
     *
     * @throws IllegalArgumentException when count or batch is below 1, or count exceeds the data set
     */
    public static Result measure(Backend backend, UNet model, DataSet set, int count, int batch, NoiseSchedule schedule, long seed) {
        if (count < 1 || count > set.size() || batch < 1) {
            throw new IllegalArgumentException("count expected 1 to " + set.size() + " and batch >= 1, found count " + count + ", batch " + batch);
        }
        int c = set.channels(), h = set.height(), w = set.width(), len = set.imageLength();
        int n = Math.min(batch, count);
        float[] x0 = new float[n * len], eps = new float[n * len], t = new float[n], coef = new float[2 * n];
        Graph g = new Graph("spectral-error");
        Tensor e = model.forward(g, g.qSample(Tensor.of(x0, n, c, h, w), Tensor.of(eps, n, c, h, w), Tensor.of(coef, 2 * n)), Tensor.of(t, n));
        Tensor spectrum = g.fft2(e);
        Tensor noiseSpectrum = g.fft2(Tensor.of(eps, n, c, h, w));
        SplittableRandom r = new SplittableRandom(seed);
        double total = 0, high = 0;
        try (Executable plan = backend.compile(g.addForwardTo(Plan.builder("spectral-error")).inputs(x0, eps, t, coef)
                .outputs(spectrum.data(), noiseSpectrum.data()).build())) {
            for (int start = 0; start < count; start += n) {
                int m = Math.min(n, count - start);
                java.util.Arrays.fill(x0, 0f);
                for (int i = 0; i < n; i++) {
                    if (i < m) {
                        set.image(start + i, x0, i * len);
                    }
                    int ti = r.nextInt(schedule.timesteps());
                    t[i] = ti;
                    double ab = schedule.alphaBar(ti);
                    coef[2 * i] = (float) Math.sqrt(ab);
                    coef[2 * i + 1] = (float) Math.sqrt(1 - ab);
                }
                for (int i = 0; i < eps.length; i++) {
                    eps[i] = (float) r.nextGaussian();
                }
                plan.execute();
                float[] s = spectrum.data(), z = noiseSpectrum.data();
                for (int p = 0; p < m * c; p++) {
                    for (int u = 0; u < h; u++) {
                        boolean hu = high(u, h);
                        for (int v = 0; v < w; v++) {
                            int at = 2 * ((p * h + u) * w + v);
                            double re = s[at] - z[at], im = s[at + 1] - z[at + 1];
                            double energy = re * re + im * im;
                            total += energy;
                            if (hu || high(v, w)) {
                                high += energy;
                            }
                        }
                    }
                }
            }
        }
        double norm = (double) count * c * ((double) h * w) * ((double) h * w);
        return new Result(total / norm, high / norm);
    }
}
