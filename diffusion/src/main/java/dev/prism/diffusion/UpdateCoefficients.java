package dev.prism.diffusion;

import dev.prism.kernels.Sampler;

/**
 * The coefficients of one sampler update, in double, as the kernel {@code sampler.update} applies them
 * (see {@link dev.prism.kernels.SamplerKernels}):
 * <pre>
 *   x̂0 = px·x + pe·e,  clamped to [−1, 1] if clip
 *   x' = cx0·x̂0 + cx·x + ce·e + σ·z
 * </pre>
 *
 * @param px    weight of the current image in the prediction x̂0
 * @param pe    weight of the model output in x̂0
 * @param clip  whether x̂0 is clamped to the data range [−1, 1]
 * @param cx0   weight of x̂0 in the next image
 * @param cx    weight of the current image in the next image
 * @param ce    weight of the model output in the next image
 * @param sigma the standard deviation of the fresh noise; 0 where the step adds none
 */
public record UpdateCoefficients(double px, double pe, boolean clip, double cx0, double cx, double ce, double sigma) {

    /**
     * Checks the coefficients.
     *
     * @throws IllegalArgumentException naming the first one that is not finite, or {@code sigma < 0}
     */
    public UpdateCoefficients {
        double[] v = {px, pe, cx0, cx, ce, sigma};
        String[] names = {"px", "pe", "cx0", "cx", "ce", "sigma"};
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException("update coefficients: argument '" + names[i] + "' expected a finite number, found " + v[i]);
            }
        }
        if (sigma < 0) {
            throw new IllegalArgumentException("update coefficients: argument 'sigma' expected >= 0, found " + sigma);
        }
    }

    /**
     * The prediction part for {@code prediction} at a step with {@code ᾱ_t = alphaBar}, and the
     * posterior weights given: for {@link Prediction#EPSILON}, DDPM eq. (15),
     * {@code px = 1/√ᾱ_t, pe = −√(1−ᾱ_t)/√ᾱ_t}; for {@link Prediction#SAMPLE}, {@code px = 0, pe = 1}.
     *
     * @param epsilonWeight the weight of ε in the next image (DDIM's direction term); for a
     *                      {@link Prediction#SAMPLE} model ε is recovered as
     *                      {@code (x_t − √ᾱ_t·x̂0)/√(1−ᾱ_t)} from the unclipped x̂0, which moves
     *                      {@code epsilonWeight/√(1−ᾱ_t)} onto x and {@code −epsilonWeight·√ᾱ_t/√(1−ᾱ_t)}
     *                      onto the model output
     */
    static UpdateCoefficients of(Prediction prediction, double alphaBar, boolean clip, double cx0, double cx,
                                 double epsilonWeight, double sigma) {
        double a = Math.sqrt(alphaBar);
        double b = Math.sqrt(1 - alphaBar);
        return switch (prediction) {
            case EPSILON -> new UpdateCoefficients(1 / a, -b / a, clip, cx0, cx, epsilonWeight, sigma);
            case SAMPLE -> new UpdateCoefficients(0, 1, clip, cx0,
                    epsilonWeight == 0 ? cx : cx + epsilonWeight / b,
                    epsilonWeight == 0 ? 0 : -epsilonWeight * a / b, sigma);
        };
    }

    /** Writes these coefficients into the kernel's array (layout {@link Sampler}), each rounded once to float. */
    public float[] writeTo(float[] c) {
        return Sampler.step(c, px, pe, clip, cx0, cx, ce, sigma);
    }
}
