package dev.prism.diffusion;

/** What a denoiser's output {@code e = model(x_t, t)} estimates. */
public enum Prediction {
    /**
     * The noise ε of {@code x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε} (DDPM eq. (4) reparameterised, the ε_θ of
     * eq. (11)); the clean image is then {@code x̂0 = (x_t − √(1−ᾱ_t)·e)/√ᾱ_t} (DDPM eq. (15)).
     */
    EPSILON,
    /** The clean image {@code x̂0} itself, as DDGAN's and WaveDiff's generators output it. */
    SAMPLE
}
