package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.Haar;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.WaveDiffDiscriminator;
import dev.prism.nn.models.WaveDiffGenerator;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.TrainingStep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * WaveDiff's training (Phung et al. 2023, §3–4; the official {@code train_wddgan.py}): DDGAN's adversarial denoising in
 * the Haar wavelet space. Each iteration, on the batch's coefficients {@code y_0 = DWT(x_0)/2} (bands cA, cH, cV, cD):
 * <pre>
 * discriminator step:   t ~ U{0..T−1},  (y_t, y_{t+1}) ~ q,  z ~ N(0, I)
 *   y'_0 = G(y_{t+1}, t, z),   y'_t ~ q(y_t | y_{t+1}, y'_0)                  (the generator is not trained here)
 *   L_D = softplus(−D(y_t, t, y_{t+1})).mean + softplus(D(y'_t, t, y_{t+1})).mean + (γ/2)·mean_i ‖∇_{y_t} D(y_t, t, y_{t+1})_i‖²
 * generator step:       fresh t, (y_t, y_{t+1}), z
 *   L_G = softplus(−D(y'_t, t, y_{t+1})).mean + λ·mean |y'_0 − y_0|           (the discriminator is not trained here)
 * </pre>
 * each followed by Adam on its own network ({@link TrainingStep}: the official β = (0.5, 0.9), no weight decay, cosine
 * decay to a floor; the generator's EMA). {@code q(y_t | y_0)} and the pair's second step use DDGAN's coefficients
 * ({@code a_s_cum}, {@code sigmas_cum}, {@code a_s}, {@code sigmas} of its VP schedule), the posterior is
 * {@link NoiseSchedule#vp}'s (as sampling), without noise at t = 0.
 *
 * <p>The R1 penalty is differentiated as the official code does it ({@code autograd.grad(..., create_graph=True)}):
 * {@link WaveDiffDiscriminator#forwardWithInputGradient} builds {@code ∇_y Σ D} as ops of the step's graph, so the
 * graph's backward pass reaches the discriminator's weights through it (LeakyReLU's derivative taken as constant, as
 * PyTorch does). Its value is logged as the term {@code r1}. With {@code lazyReg} k > 1 (the official {@code --lazy_reg}) it
 * is computed only at iterations 1, k+1, 2k+1, ... (the official {@code global_step % k == 0}, counting from 0), at the same
 * γ: the other iterations run a second plan of the discriminator's step without it (no double back-propagation), which
 * updates the same Adam moments, and log {@code r1} as 0.
 *
 * <p>Runs on the JVM backend only: the two steps are two plans that read each other's weights, which on the JVM backend
 * are the same arrays (a device backend would keep a copy per plan). Reproducible by construction as
 * {@link DdpmTrainer}: everything drawn at step s is a function of (seed, s).
 */
public final class WaveDiffTrainer implements Trainer {
    /** DDGAN's placeholder first β ({@code get_sigma_schedule}). */
    private static final double FIRST_BETA = 1e-8;

    /**
     * @param batch     images per iteration
     * @param seed      the seed of t, the noise and the latents
     * @param timesteps T of the VP schedule (the official 2 or 4)
     * @param r1Gamma   γ of the R1 penalty (the official {@code --r1_gamma}; 0: none)
     * @param recWeight λ of the reconstruction term (the official {@code --rec_loss} is λ = 1; 0: none)
     * @param generator the generator's Adam (β = (0.5, 0.9) officially), schedule, clipping and EMA
     * @param critic    the discriminator's; its EMA is kept but not used
     * @param lazyReg   the R1 penalty every {@code lazyReg} iterations (the official {@code --lazy_reg}; 1: every iteration)
     */
    public record Config(int batch, long seed, int timesteps, double r1Gamma, double recWeight,
                         TrainingStep.Settings generator, TrainingStep.Settings critic, int lazyReg) {
        /** R1 at every iteration. */
        public Config(int batch, long seed, int timesteps, double r1Gamma, double recWeight, TrainingStep.Settings generator,
                      TrainingStep.Settings critic) {
            this(batch, seed, timesteps, r1Gamma, recWeight, generator, critic, 1);
        }

        public Config {
            if (lazyReg < 1) {
                throw new ArgumentException("lazyReg", "expected >= 1 (R1 every that many iterations), found " + lazyReg);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch expected >= 1, found " + batch);
            }
            if (timesteps < 1) {
                throw new IllegalArgumentException("timesteps expected >= 1, found " + timesteps);
            }
            if (!(r1Gamma >= 0) || !Double.isFinite(r1Gamma)) {
                throw new ArgumentException("r1Gamma", "expected a finite number >= 0, found " + r1Gamma);
            }
            if (!(recWeight >= 0) || !Double.isFinite(recWeight)) {
                throw new ArgumentException("recWeight", "expected a finite number >= 0, found " + recWeight);
            }
            Objects.requireNonNull(generator, "generator");
            Objects.requireNonNull(critic, "critic");
        }
    }

    private final WaveDiffGenerator generator;
    private final WaveDiffDiscriminator critic;
    private final DdpmTrainer.ImageSource data;
    private final Config config;
    private final NoiseSchedule schedule;
    private final int n;
    private final int colours;
    private final int side;
    private final int size;
    private final int len;
    private final double[] aCum;
    private final double[] sigmaCum;
    private final float[] images;
    private final float[] real;
    // the discriminator step's inputs
    private final float[] dT;
    private final float[] dXt;
    private final float[] dXtp1;
    private final float[] dZ;
    private final float[] dC1;
    private final float[] dRest;
    // the generator step's inputs
    private final float[] gT;
    private final float[] gXtp1;
    private final float[] gZ;
    private final float[] gC1;
    private final float[] gRest;
    private final float[] noise;
    private final TrainingStep dStep;
    /** The discriminator's step without R1, for the iterations lazy regularisation skips; null when there are none. */
    private final TrainingStep dStepPlain;
    private final TrainingStep gStep;
    private final JvmBackend host = JvmBackend.sequential();
    /** The discriminator's step the last {@link #step} ran (with R1, or {@link #dStepPlain}). */
    private TrainingStep lastCritic;

    /**
     * Builds both steps' plans and compiles them on {@code backend}.
     *
     * @throws IllegalArgumentException if the backend is not the JVM's, or the data or the discriminator does not fit
     *                                  the generator
     */
    public WaveDiffTrainer(Backend backend, WaveDiffGenerator generator, WaveDiffDiscriminator critic, DdpmTrainer.ImageSource data,
                           Config config) {
        this(generator, critic, data, config);
        if (!backend.id().startsWith("jvm")) {
            throw new IllegalArgumentException("--backend " + backend.id() + ": WaveDiff training runs on the JVM backend only (its two steps"
                    + " read each other's weights, which a device backend would keep apart); expected jvm, jvm-plain or jvm-seq");
        }
        dStep.compile(backend);
        if (dStepPlain != null) {
            dStepPlain.compile(backend);
        }
        gStep.compile(backend);
    }

    /** The same trainer, built but not compiled. */
    public WaveDiffTrainer(WaveDiffGenerator generator, WaveDiffDiscriminator critic, DdpmTrainer.ImageSource data, Config config) {
        this.generator = Objects.requireNonNull(generator, "generator");
        this.critic = Objects.requireNonNull(critic, "critic");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        WaveDiffGenerator.Config gc = generator.config();
        WaveDiffDiscriminator.Config dc = critic.config();
        colours = data.channels();
        side = data.height();
        if (data.width() != side || side != 2 * gc.size() || 4 * colours != gc.channels()) {
            throw new IllegalArgumentException("training data: images " + colours + "x" + side + "x" + data.width() + " do not fit the"
                    + " generator: expected " + gc.channels() / 4 + " channel(s) of " + 2 * gc.size() + "x" + 2 * gc.size()
                    + " (Haar coefficients " + gc.channels() + "x" + gc.size() + "x" + gc.size() + ")");
        }
        if (dc.channels() != gc.channels() || dc.size() != gc.size()) {
            throw new IllegalArgumentException("discriminator: expected inputs of " + gc.channels() + "x" + gc.size() + "x" + gc.size()
                    + " (the generator's), found " + dc.channels() + "x" + dc.size() + "x" + dc.size());
        }
        schedule = NoiseSchedule.vp(config.timesteps());
        n = config.batch();
        size = gc.size();
        len = gc.channels() * size * size;
        int nz = gc.nz();
        int total = n * len;
        // DDGAN's a_s_cum[t] = Π_{k≤t} a_s[k] with a_s[0] = √(1 − 1e-8) and a_s[k] = √α_{k−1}: √(1 − 1e-8)·√ᾱ_{t−1}
        aCum = new double[config.timesteps()];
        sigmaCum = new double[config.timesteps()];
        for (int t = 0; t < aCum.length; t++) {
            aCum[t] = Math.sqrt(1 - FIRST_BETA) * Math.sqrt(schedule.alphaBarPrev(t));
            sigmaCum[t] = Math.sqrt(1 - aCum[t] * aCum[t]);
        }
        images = new float[n * colours * side * side];
        real = new float[total];
        dT = new float[n];
        dXt = new float[total];
        dXtp1 = new float[total];
        dZ = new float[n * nz];
        dC1 = new float[total];
        dRest = new float[total];
        gT = new float[n];
        gXtp1 = new float[total];
        gZ = new float[n * nz];
        gC1 = new float[total];
        gRest = new float[total];
        noise = new float[total];

        int c = gc.channels();
        // ---- the discriminator's step, and without R1 for the iterations lazy regularisation skips
        boolean r1 = config.r1Gamma() > 0;
        dStep = criticStep("wavediff-d", r1, null);
        dStepPlain = r1 && config.lazyReg() > 1 ? criticStep("wavediff-d-plain", false, dStep) : null;
        lastCritic = dStep;

        // ---- the generator's step
        Graph g = new Graph("wavediff-g");
        g.freeze(critic.parameters());
        Tensor x0 = generator.forward(g, Tensor.of(gXtp1, n, c, size, size), Tensor.of(gT, n), Tensor.of(gZ, n, nz));
        Tensor pos = g.add(g.multiply(x0, Tensor.of(gC1, n, c, size, size)), Tensor.of(gRest, n, c, size, size));
        Tensor adv = g.softplusMean(critic.forward(g, pos, Tensor.of(gT, n), Tensor.of(gXtp1, n, c, size, size)), -1f);
        Tensor lossG = adv;
        Tensor rec = null;
        if (config.recWeight() > 0) {
            rec = g.meanAbsoluteError(x0, Tensor.of(real, n, c, size, size));
            lossG = g.add(adv, g.scale(rec, (float) config.recWeight()));
        }
        List<Tensor> terms = new ArrayList<>(List.of(adv));
        if (rec != null) {
            terms.add(rec);
        }
        gStep = new TrainingStep(g, lossG, terms, generator.parameters(), config.generator(), gT, gXtp1, gZ, gC1, gRest, real);
    }

    /** The discriminator's step: softplus losses on a real and a fake pair, R1 when {@code r1}; the state {@code shared}'s. */
    private TrainingStep criticStep(String name, boolean r1, TrainingStep shared) {
        int c = generator.config().channels(), nz = generator.config().nz();
        Graph d = new Graph(name);
        d.freeze(generator.parameters());
        Tensor fake0 = generator.forward(d, Tensor.of(dXtp1, n, c, size, size), Tensor.of(dT, n), Tensor.of(dZ, n, nz));
        Tensor fake = d.add(d.multiply(fake0, Tensor.of(dC1, n, c, size, size)), Tensor.of(dRest, n, c, size, size));
        Tensor xt = Tensor.of(dXt, n, c, size, size), xtp1 = Tensor.of(dXtp1, n, c, size, size), td = Tensor.of(dT, n);
        Tensor[] scored = r1 ? critic.forwardWithInputGradient(d, xt, td, xtp1) : new Tensor[] {critic.forward(d, xt, td, xtp1)};
        Tensor errReal = d.softplusMean(scored[0], -1f);
        Tensor errFake = d.softplusMean(critic.forward(d, fake, td, xtp1), 1f);
        Tensor lossD = d.add(errReal, errFake);
        List<Tensor> dTerms = new ArrayList<>(List.of(errReal, errFake));
        if (r1) {
            Tensor penalty = r1Penalty(d, scored[1], config.r1Gamma());
            lossD = d.add(lossD, penalty);
            dTerms.add(penalty);
        }
        return new TrainingStep(d, lossD, dTerms, critic.parameters(), config.critic(), shared, dT, dXt, dXtp1, dZ, dC1, dRest);
    }

    /** Whether iteration {@code s} (from 1) computes the R1 penalty: the official {@code global_step % lazy_reg == 0}. */
    boolean regularises(long s) {
        return config.r1Gamma() > 0 && (s - 1) % config.lazyReg() == 0;
    }

    /**
     * The R1 penalty {@code (γ/2)·mean_n ‖grad_n‖²} of the input gradient {@code grad [N, ...]}, as a tensor [1] of {@code d}
     * (the official {@code grad_penalty_call}).
     */
    static Tensor r1Penalty(Graph d, Tensor grad, double gamma) {
        int n = grad.dim(0);
        Tensor zeros = Tensor.of(d.table(new float[grad.numel()]), grad.shape());
        // mean squared error · numel = Σ grad²
        return d.scale(d.meanSquaredError(grad, zeros), (float) (gamma * grad.numel() / (2.0 * n)));
    }

    public Config config() {
        return config;
    }

    public WaveDiffGenerator generator() {
        return generator;
    }

    public WaveDiffDiscriminator critic() {
        return critic;
    }

    /** The generator's step: the learning rate, gradient norm and EMA that {@code prism train} reports and exports. */
    @Override
    public TrainingStep training() {
        return gStep;
    }

    /** The discriminator's step. */
    public TrainingStep criticStep() {
        return dStep;
    }

    @Override
    public List<String> termNames() {
        List<String> t = new ArrayList<>(List.of("d_real", "d_fake", "r1", "g_adv"));
        if (config.recWeight() > 0) {
            t.add("rec");
        }
        return t;
    }

    @Override
    public float term(int i) {
        return switch (i) {
            case 0 -> lastCritic.term(0);
            case 1 -> lastCritic.term(1);
            case 2 -> config.r1Gamma() > 0 && lastCritic == dStep ? dStep.term(2) : 0f;
            default -> gStep.term(i - 3);
        };
    }

    /**
     * Runs iteration {@code s} (from 1): the discriminator's step, then the generator's, on the batch of step s.
     *
     * @return the sum of both losses (the discriminator's with its R1 penalty, the generator's)
     */
    @Override
    public float step(long s) {
        prepare(s);
        lastCritic = dStepPlain == null || regularises(s) ? dStep : dStepPlain;
        float ld = lastCritic.run(s);
        float lg = gStep.run(s);
        return ld + lg;
    }

    /** Writes every input of iteration {@code s} without running the plans. */
    public void prepare(long s) {
        data.fill(s, images);
        host.run(Haar.dwt2(images, real, n, colours, side, side));
        for (int i = 0; i < real.length; i++) {
            real[i] *= 0.5f;
        }
        SplittableRandom r = Noise.stream(config.seed(), s);
        pairs(r, dT, dXt, dXtp1);
        Noise.gaussian(r, dZ);
        posterior(r, dT, dXtp1, dC1, dRest);
        pairs(r, gT, null, gXtp1);
        Noise.gaussian(r, gZ);
        posterior(r, gT, gXtp1, gC1, gRest);
    }

    /** DDGAN's {@code q_sample_pairs}: t uniform, y_t = a_cum[t]·y_0 + σ_cum[t]·ε, y_{t+1} = a[t+1]·y_t + σ[t+1]·ε'. */
    private void pairs(SplittableRandom r, float[] t, float[] xt, float[] xtp1) {
        float[] yt = xt != null ? xt : xtp1;
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(config.timesteps());
        }
        Noise.gaussian(r, noise);
        for (int i = 0; i < n; i++) {
            int ti = (int) t[i];
            float a = (float) aCum[ti], sg = (float) sigmaCum[ti];
            for (int k = i * len; k < (i + 1) * len; k++) {
                yt[k] = a * real[k] + sg * noise[k];
            }
        }
        Noise.gaussian(r, noise);
        for (int i = 0; i < n; i++) {
            int ti = (int) t[i];
            float a = (float) Math.sqrt(schedule.alpha(ti)), sg = (float) Math.sqrt(schedule.beta(ti));
            for (int k = i * len; k < (i + 1) * len; k++) {
                xtp1[k] = a * yt[k] + sg * noise[k];
            }
        }
    }

    /**
     * The posterior {@code q(y_t | y_{t+1}, y'_0)} as {@code c1·y'_0 + rest}: c1 broadcast over each sample,
     * {@code rest = c2·y_{t+1} + σ·ε} (no noise at t = 0), DDPM eq. (7) on {@link NoiseSchedule#vp}.
     */
    private void posterior(SplittableRandom r, float[] t, float[] xtp1, float[] c1, float[] rest) {
        Noise.gaussian(r, noise);
        for (int i = 0; i < n; i++) {
            int ti = (int) t[i];
            double ab = schedule.alphaBar(ti), abPrev = schedule.alphaBarPrev(ti), beta = schedule.beta(ti);
            float cx0 = (float) (Math.sqrt(abPrev) * beta / (1 - ab));
            float cx = (float) (Math.sqrt(schedule.alpha(ti)) * (1 - abPrev) / (1 - ab));
            float sd = ti == 0 ? 0f : (float) Math.sqrt((1 - abPrev) / (1 - ab) * beta);
            for (int k = i * len; k < (i + 1) * len; k++) {
                c1[k] = cx0;
                rest[k] = cx * xtp1[k] + sd * noise[k];
            }
        }
    }

    /** The run's state for a checkpoint: the step, the seeds and every setting that makes the next steps the same. */
    @Override
    public Map<String, String> state(long completedSteps) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("step", Long.toString(completedSteps));
        m.put("seed", Long.toString(config.seed()));
        m.put("batch", Integer.toString(n));
        m.put("noise_schedule", schedule.name());
        m.put("timesteps", Integer.toString(config.timesteps()));
        m.put("r1_gamma", Double.toString(config.r1Gamma()));
        m.put("rec_weight", Double.toString(config.recWeight()));
        m.put("lazy_reg", Integer.toString(config.lazyReg()));
        m.putAll(config.generator().state());
        for (var e : config.critic().state().entrySet()) {
            m.put("d_" + e.getKey(), e.getValue());
        }
        return m;
    }

    /** Both networks' weights, moments and EMA: the generator's, then the discriminator's. */
    @Override
    public List<TrainingStep.State> states() {
        List<TrainingStep.State> all = new ArrayList<>(gStep.states().values());
        all.addAll(dStep.states().values());
        return all;
    }

    @Override
    public void restore(Checkpoint.Contents c) {
        Checkpoint.restore(c, gStep);
        Checkpoint.restore(c, dStep);
    }

    @Override
    public void copyEmaInto(Module target) {
        gStep.copyEmaInto(target);
    }

    @Override
    public void close() {
        dStep.close();
        if (dStepPlain != null) {
            dStepPlain.close();
        }
        gStep.close();
        host.close();
    }
}
