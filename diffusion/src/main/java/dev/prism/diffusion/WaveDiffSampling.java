package dev.prism.diffusion;

import dev.prism.backend.JvmBackend;
import dev.prism.kernels.Haar;
import dev.prism.kernels.Sampler;

/**
 * WaveDiff's sampling (Phung et al. 2023, §3; the official {@code sample_from_model} and
 * {@code test_wddgan.py}): DDGAN's posterior sampling over T steps of the discretised VP schedule in the
 * Haar wavelet space, then the image.
 *
 * <pre>
 *   x_{T} ~ N(0, I)  [N, 4C, S, S]
 *   for t = T−1 .. 0:   z ~ N(0, I) [N, nz];   x'_0 = G(x_{t+1}, t, z);   x_t ~ q(x_t | x_{t+1}, x'_0)   (no clipping)
 *   image = clamp(IDWT(2·x_0), −1, 1)   [N, C, 2S, 2S]
 * </pre>
 * The posterior is DDPM's (eq. 6–7) with {@link NoiseSchedule#vp}: {@link Ddpm} with {@link Prediction#SAMPLE}
 * and no clipping; the last step adds no noise. The ×2 undoes the halving with which the official training
 * stores its coefficients ({@code x / 2} after the DWT), so that the LL band stays in [−1, 1].
 */
public final class WaveDiffSampling {
    private WaveDiffSampling() {
    }

    /** The posterior sampler over {@code timesteps} steps of DDGAN's VP schedule (β_min 0.1, β_max 20). */
    public static Ddpm sampler(int timesteps) {
        return new Ddpm(NoiseSchedule.vp(timesteps), false, Prediction.SAMPLE);
    }

    /** {@link #toImage(float[], int, int, int, boolean)} for bands in the order cA, cH, cV, cD. */
    public static float[] toImage(float[] wavelet, int batch, int channels, int size) {
        return toImage(wavelet, batch, channels, size, false);
    }

    /**
     * The image of the sampled coefficients: {@code clamp(IDWT(2·w), −1, 1)}, computed on the host.
     *
     * @param wavelet  {@code [N, 4C, S, S]}, bands cA, cH, cV, cD (each C channels), or cA, cV, cH, cD when
     *                 {@code vh}; read only
     * @param channels C, the image's colours
     * @param vh       the middle bands in the order of the official DWT_IDWT module (LH = cV, then HL = cH), which
     *                 the WaveletNCSNpp configurations were trained on; else that of pytorch_wavelets (cH, cV)
     * @return a new {@code [N, C, 2S, 2S]}
     */
    public static float[] toImage(float[] wavelet, int batch, int channels, int size, boolean vh) {
        int len = batch * channels * 4 * size * size;
        if (wavelet.length != len) {
            throw new IllegalArgumentException("wavediff image: argument 'wavelet' expected " + batch + "x" + 4 * channels + "x" + size + "x"
                    + size + " = " + len + " values, found " + wavelet.length);
        }
        if (vh) {
            // swap the two middle bands of each image: PyWavelets' order is what the Haar kernel inverts
            float[] swapped = wavelet.clone();
            int band = channels * size * size;
            for (int n = 0; n < batch; n++) {
                System.arraycopy(wavelet, (4 * n + 1) * band, swapped, (4 * n + 2) * band, band);
                System.arraycopy(wavelet, (4 * n + 2) * band, swapped, (4 * n + 1) * band, band);
            }
            wavelet = swapped;
        }
        float[] image = new float[len];
        float[] out = new float[len];
        float[] zero = new float[len];
        // The update kernel as a scale-and-clamp: x̂0 = clamp(2·image, −1, 1), out = 1·x̂0. IDWT is linear and
        // doubling is exact in binary floating point, so doubling after the IDWT gives the same bits as before it.
        float[] c = Sampler.step(new float[Sampler.COEFFICIENTS], 2, 0, true, 1, 0, 0, 0);
        try (JvmBackend host = JvmBackend.sequential()) {
            host.run(Haar.idwt2(wavelet, image, batch, channels, 2 * size, 2 * size));
            host.run(Sampler.update(image, zero, zero, c, out, len));
        }
        return out;
    }
}
