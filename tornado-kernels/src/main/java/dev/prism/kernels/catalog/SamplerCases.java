package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Sampler;

import java.util.List;

/**
 * The sampler update at the coefficients of a DDIM step without clipping, of a DDPM step with the
 * prediction clipped to [−1, 1], and of the loading step. Written out of place here so that running a
 * case twice gives the same output; a sampling loop runs it in place.
 */
final class SamplerCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 17 : 64, w = small ? 19 : 64;
        int len = n * c * h * w;
        String shape = n + "x" + c + "x" + h + "x" + w;
        // DDIM, linear schedule, t = 500 -> 400 of T = 1000, eta = 0.5 (rounded): every weight but cx is used.
        float[] ddim = Sampler.step(new float[Sampler.COEFFICIENTS], 3.59, -3.45, false, 0.448, 0.0, 0.888, 0.097);
        // DDPM, linear schedule, t = 300 of T = 1000, x0 clipped: cx0, cx and sigma.
        float[] ddpm = Sampler.step(new float[Sampler.COEFFICIENTS], 1.61, -1.26, true, 0.0114, 0.989, 0.0, 0.0836);
        return List.of(
                update("sampler.update", shape, len, ddim),
                update("sampler.update.clip", shape, len, ddpm),
                update("sampler.update.init", shape, len, Sampler.init(new float[Sampler.COEFFICIENTS])));
    }

    private static KernelCase update(String name, String shape, int len, float[] coefficients) {
        return new KernelCase(name, shape, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(len), e = r.gaussian(len), z = r.gaussian(len), out = Rand.poisoned(len);
            float[] c = coefficients.clone();
            return Plan.builder(name).add(Sampler.update(x, e, z, c, out, len)).inputs(x, e, z, c).outputs(out).build();
        });
    }
}
