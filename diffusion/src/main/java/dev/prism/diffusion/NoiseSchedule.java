package dev.prism.diffusion;

import java.util.Arrays;
import java.util.Objects;

/**
 * A discrete variance schedule of T steps, computed in double on the host: {@code β_t}, {@code α_t = 1 − β_t}
 * and {@code ᾱ_t = Π_{s≤t} α_s} (DDPM, Ho et al. 2020, §2; the forward marginal of eq. (4) is
 * {@code q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I)}).
 *
 * <p>Indexing: step {@code t} runs from 0 to {@code T − 1}, as in the authors' code; index {@code t} is
 * the papers' step {@code t + 1}. {@link #alphaBarPrev(int)} is {@code ᾱ_{t−1}} with {@code ᾱ_{−1} = 1}.
 * The timestep a model is conditioned on is this index.
 *
 * <p>Use the factories; the canonical constructor checks that {@code alpha} and {@code alphaBar} are
 * exactly what {@code beta} implies. The arrays are copied in and out; {@link #beta(int)},
 * {@link #alpha(int)}, {@link #alphaBar(int)} read one step without a copy.
 *
 * @param name     what the factory made, with its parameters, e.g. {@code linear(T=1000, 1.0E-4..0.02)}
 * @param beta     {@code β_t}, each in (0, 1)
 * @param alpha    {@code 1 − β_t}
 * @param alphaBar {@code Π_{s≤t} α_s}, computed in that order
 */
public record NoiseSchedule(String name, double[] beta, double[] alpha, double[] alphaBar) {
    /** DDPM's linear schedule: β from 1e-4 to 0.02. */
    public static final double LINEAR_BETA_START = 1e-4;
    /** DDPM's linear schedule: β from 1e-4 to 0.02. */
    public static final double LINEAR_BETA_END = 0.02;
    /** The number of steps of DDPM and of improved DDPM's experiments. */
    public static final int DEFAULT_TIMESTEPS = 1000;
    /**
     * The most steps a factory makes: a schedule holds 24 bytes per step, and published schedules have 1000
     * to 4000 (DDPM sampling visits every one).
     */
    public static final int MAX_TIMESTEPS = 1_000_000;
    /** Improved DDPM's offset {@code s} of the cosine schedule. */
    public static final double COSINE_S = 0.008;
    /** Improved DDPM's bound on β of the cosine schedule. */
    public static final double COSINE_MAX_BETA = 0.999;
    /** DDGAN's β_min of the continuous VP schedule. */
    public static final double VP_BETA_MIN = 0.1;
    /** DDGAN's β_max of the continuous VP schedule. */
    public static final double VP_BETA_MAX = 20.0;
    /** DDGAN's smallest time ε of the continuous VP schedule ({@code eps_small}). */
    public static final double VP_EPS = 1e-3;

    /**
     * Checks and copies the arrays.
     *
     * @throws IllegalArgumentException if there is no step, the lengths differ, a β is outside (0, 1), or
     *                                  α or ᾱ is not exactly what β implies
     */
    public NoiseSchedule {
        Objects.requireNonNull(name, "name");
        String where = "noise schedule '" + name + "'";
        if (beta == null || alpha == null || alphaBar == null) {
            throw new IllegalArgumentException(where + ": expected beta, alpha and alphaBar arrays, found null");
        }
        if (beta.length < 1) {
            throw bad(where, "T", ">= 1", beta.length);
        }
        if (alpha.length != beta.length || alphaBar.length != beta.length) {
            throw new IllegalArgumentException(where + ": expected alpha and alphaBar of length T = " + beta.length
                    + ", found " + alpha.length + " and " + alphaBar.length);
        }
        beta = beta.clone();
        alpha = alpha.clone();
        alphaBar = alphaBar.clone();
        double product = 1;
        for (int t = 0; t < beta.length; t++) {
            if (!(beta[t] > 0 && beta[t] < 1)) {
                throw bad(where, "beta[" + t + "]", "in (0, 1)", beta[t]);
            }
            product *= 1 - beta[t];
            if (alpha[t] != 1 - beta[t] || alphaBar[t] != product) {
                throw new IllegalArgumentException(where + ": alpha[" + t + "] and alphaBar[" + t + "] expected "
                        + (1 - beta[t]) + " and " + product + " (from beta), found " + alpha[t] + " and " + alphaBar[t]);
            }
        }
    }

    /**
     * The schedule with these β (copied), α and ᾱ derived from them in double.
     *
     * @throws IllegalArgumentException if there is no β or one is outside (0, 1)
     */
    public static NoiseSchedule ofBetas(String name, double[] beta) {
        Objects.requireNonNull(beta, "beta");
        double[] alpha = new double[beta.length];
        double[] alphaBar = new double[beta.length];
        double product = 1;
        for (int t = 0; t < beta.length; t++) {
            alpha[t] = 1 - beta[t];
            product *= alpha[t];
            alphaBar[t] = product;
        }
        return new NoiseSchedule(name, beta, alpha, alphaBar);
    }

    /** DDPM's linear schedule of {@link #DEFAULT_TIMESTEPS} steps, β from 1e-4 to 0.02. */
    public static NoiseSchedule linear() {
        return linear(DEFAULT_TIMESTEPS);
    }

    /** DDPM's linear schedule of {@code timesteps} steps, β from 1e-4 to 0.02. */
    public static NoiseSchedule linear(int timesteps) {
        return linear(timesteps, LINEAR_BETA_START, LINEAR_BETA_END);
    }

    /**
     * The linear schedule of DDPM (Ho et al. 2020, §4: "β_1 = 10⁻⁴ to β_T = 0.02"):
     * {@code β_t = start + (end − start)·t/(T − 1)}, {@code t = 0 .. T−1}, which is
     * {@code numpy.linspace(start, end, T)}; for {@code T = 1}, {@code β_0 = start}. The values are not
     * rescaled with T (improved DDPM's code multiplies both ends by 1000/T; this does not).
     *
     * @throws IllegalArgumentException naming {@code timesteps}, {@code betaStart} or {@code betaEnd}
     *                                  unless {@code T >= 1} and {@code 0 < start <= end < 1}
     */
    public static NoiseSchedule linear(int timesteps, double betaStart, double betaEnd) {
        String where = "noise schedule 'linear'";
        if (timesteps < 1 || timesteps > MAX_TIMESTEPS) {
            throw bad(where, "timesteps", "1 to " + MAX_TIMESTEPS, timesteps);
        }
        if (!(betaStart > 0 && betaStart < 1)) {
            throw bad(where, "betaStart", "in (0, 1)", betaStart);
        }
        if (!(betaEnd >= betaStart && betaEnd < 1)) {
            throw bad(where, "betaEnd", "in [betaStart, 1) = [" + betaStart + ", 1)", betaEnd);
        }
        double[] beta = new double[timesteps];
        for (int t = 0; t < timesteps; t++) {
            beta[t] = timesteps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * t / (timesteps - 1);
        }
        return ofBetas("linear(T=" + timesteps + ", " + betaStart + ".." + betaEnd + ")", beta);
    }

    /** Improved DDPM's cosine schedule of {@link #DEFAULT_TIMESTEPS} steps, s = 0.008, β ≤ 0.999. */
    public static NoiseSchedule cosine() {
        return cosine(DEFAULT_TIMESTEPS);
    }

    /** Improved DDPM's cosine schedule of {@code timesteps} steps, s = 0.008, β ≤ 0.999. */
    public static NoiseSchedule cosine(int timesteps) {
        return cosine(timesteps, COSINE_S, COSINE_MAX_BETA);
    }

    /**
     * The cosine schedule of improved DDPM (Nichol &amp; Dhariwal 2021, eq. (17) and the clipping below it):
     * <pre>
     *   f(u) = cos²((u + s)/(1 + s) · π/2),   ᾱ(u) = f(u)/f(0)
     *   β_t  = min(1 − ᾱ((t+1)/T) / ᾱ(t/T), maxBeta),   t = 0 .. T−1
     * </pre>
     * as their code's {@code betas_for_alpha_bar} computes it; ᾱ is then the product of the clipped
     * {@code 1 − β}, so the last steps differ slightly from {@code f(t/T)/f(0)} where the clip acts.
     *
     * @throws IllegalArgumentException naming {@code timesteps}, {@code s} or {@code maxBeta} unless
     *                                  {@code T >= 1}, {@code s > 0} finite and {@code 0 < maxBeta < 1}
     */
    public static NoiseSchedule cosine(int timesteps, double s, double maxBeta) {
        String where = "noise schedule 'cosine'";
        if (timesteps < 1 || timesteps > MAX_TIMESTEPS) {
            throw bad(where, "timesteps", "1 to " + MAX_TIMESTEPS, timesteps);
        }
        if (!(s > 0 && s < Double.POSITIVE_INFINITY)) {
            throw bad(where, "s", "a finite number > 0", s);
        }
        if (!(maxBeta > 0 && maxBeta < 1)) {
            throw bad(where, "maxBeta", "in (0, 1)", maxBeta);
        }
        double[] beta = new double[timesteps];
        for (int t = 0; t < timesteps; t++) {
            // Improved DDPM eq. (17): the ratio of consecutive ᾱ; f(0) cancels.
            double ratio = cosineF((double) (t + 1) / timesteps, s) / cosineF((double) t / timesteps, s);
            beta[t] = Math.min(1 - ratio, maxBeta);
        }
        return ofBetas("cosine(T=" + timesteps + ", s=" + s + ", maxBeta=" + maxBeta + ")", beta);
    }

    private static double cosineF(double u, double s) {
        double c = StrictMath.cos((u + s) / (1 + s) * Math.PI / 2);
        return c * c;
    }

    /** DDGAN's discretised VP schedule of {@code timesteps} steps with β_min 0.1, β_max 20, ε = 1e-3. */
    public static NoiseSchedule vp(int timesteps) {
        return vp(timesteps, VP_BETA_MIN, VP_BETA_MAX, VP_EPS);
    }

    /**
     * The continuous variance-preserving schedule of score SDEs, discretised to T steps the way DDGAN's
     * code does it (Xiao et al. 2022, {@code get_sigma_schedule} with {@code var_func_vp}, which
     * WaveDiff reuses; its paper's T is 2 or 4):
     * <pre>
     *   u_k   = k/T · (1 − ε) + ε,                                   k = 0 .. T
     *   var(u) = 1 − exp(−½u²(β_max − β_min) − u·β_min)
     *   ā_k   = 1 − var(u_k)
     *   β_t   = 1 − ā_{t+1}/ā_t,                                     t = 0 .. T−1
     * </pre>
     * and then, as DDGAN's {@code Posterior_Coefficients} does with those β (it drops the placeholder
     * first β), {@code ᾱ_t = Π_{s≤t}(1 − β_s) = ā_{t+1}/ā_0}: the product starts from 1, not from
     * {@code ā_0 = 1 − var(ε) ≈ 0.9999}. (DDGAN rounds its β to float32; this keeps double.)
     *
     * @throws IllegalArgumentException naming {@code timesteps}, {@code betaMin}, {@code betaMax} or
     *                                  {@code eps} unless {@code T >= 1}, {@code 0 < betaMin <= betaMax}
     *                                  finite and {@code 0 < eps < 1}
     */
    public static NoiseSchedule vp(int timesteps, double betaMin, double betaMax, double eps) {
        String where = "noise schedule 'vp'";
        if (timesteps < 1 || timesteps > MAX_TIMESTEPS) {
            throw bad(where, "timesteps", "1 to " + MAX_TIMESTEPS, timesteps);
        }
        if (!(betaMin > 0 && betaMin < Double.POSITIVE_INFINITY)) {
            throw bad(where, "betaMin", "a finite number > 0", betaMin);
        }
        if (!(betaMax >= betaMin && betaMax < Double.POSITIVE_INFINITY)) {
            throw bad(where, "betaMax", "a finite number >= betaMin = " + betaMin, betaMax);
        }
        if (!(eps > 0 && eps < 1)) {
            throw bad(where, "eps", "in (0, 1)", eps);
        }
        double[] abar = new double[timesteps + 1];
        for (int k = 0; k <= timesteps; k++) {
            double u = (double) k / timesteps * (1 - eps) + eps;
            // ā = 1 − var(u) = exp(2·log_mean_coeff), DDGAN's var_func_vp.
            abar[k] = StrictMath.exp(-0.5 * u * u * (betaMax - betaMin) - u * betaMin);
        }
        double[] beta = new double[timesteps];
        for (int t = 0; t < timesteps; t++) {
            beta[t] = 1 - abar[t + 1] / abar[t];
        }
        return ofBetas("vp(T=" + timesteps + ", betaMin=" + betaMin + ", betaMax=" + betaMax + ", eps=" + eps + ")", beta);
    }

    /** T, the number of steps. */
    public int timesteps() {
        return beta.length;
    }

    /** {@code β_t}, {@code 0 <= t < T}. */
    public double beta(int t) {
        return beta[t];
    }

    /** {@code α_t = 1 − β_t}. */
    public double alpha(int t) {
        return alpha[t];
    }

    /** {@code ᾱ_t = Π_{s≤t} α_s}. */
    public double alphaBar(int t) {
        return alphaBar[t];
    }

    /** {@code ᾱ_{t−1}}, and 1 for {@code t = 0} (no noise before the first step). */
    public double alphaBarPrev(int t) {
        return t == 0 ? 1.0 : alphaBar[t - 1];
    }

    /** A copy of all β. */
    @Override
    public double[] beta() {
        return beta.clone();
    }

    /** A copy of all α. */
    @Override
    public double[] alpha() {
        return alpha.clone();
    }

    /** A copy of all ᾱ. */
    @Override
    public double[] alphaBar() {
        return alphaBar.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoiseSchedule s && name.equals(s.name) && Arrays.equals(beta, s.beta);
    }

    @Override
    public int hashCode() {
        return 31 * name.hashCode() + Arrays.hashCode(beta);
    }

    @Override
    public String toString() {
        return name;
    }

    static IllegalArgumentException bad(String where, String argument, String expected, Object found) {
        return new IllegalArgumentException(where + ": argument '" + argument + "' expected " + expected + ", found " + found);
    }
}
