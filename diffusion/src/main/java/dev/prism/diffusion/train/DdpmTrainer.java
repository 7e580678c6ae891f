package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.TrainingStep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * DDPM training of an ε-predicting {@link UNet} (Ho et al. 2020, Algorithm 1): for a batch of clean
 * images x0, timesteps t drawn uniformly from {0 … T−1} and noise ε ~ N(0, I),
 * <pre>
 *   x_t  = √ᾱ_t·x0 + √(1−ᾱ_t)·ε                  (eq. 4, reparametrised)
 *   loss = mean (ε − ε_θ(x_t, t))²                (the simplified objective, eq. 14)
 * </pre>
 * then one {@link TrainingStep} (backward, clipping, AdamW, EMA), all in one plan.
 *
 * <p>Reproducible by construction: the batch, the timesteps and the noise of step {@code s} are
 * functions of (seed, s) alone ({@link ImageSource#fill}, {@link #draw}), and the optimiser's scalars of
 * s; so a run resumed from the checkpoint of step N continues exactly as the run that never stopped.
 */
public final class DdpmTrainer implements Trainer {
    /** The training images: the batch of each step, the same for the same step every time. */
    public interface ImageSource {
        int channels();

        int height();

        int width();

        /** Fills {@code x0 [batch, C, H, W]} with the images of step {@code step} (from 1), in [−1, 1]. */
        void fill(long step, float[] x0);
    }

    /**
     * @param batch    images per step
     * @param seed     the seed of the timesteps and the noise (the data order has its own, in the {@link ImageSource})
     * @param schedule the forward process's noise schedule
     * @param settings the optimiser, learning-rate schedule, clipping and EMA
     */
    public record Config(int batch, long seed, NoiseSchedule schedule, TrainingStep.Settings settings) {
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch expected >= 1, found " + batch);
            }
            Objects.requireNonNull(schedule, "schedule");
            Objects.requireNonNull(settings, "settings");
        }
    }

    private final UNet model;
    private final ImageSource data;
    private final Config config;
    private final float[] x0;
    private final float[] eps;
    private final float[] t;
    private final float[] coef;
    private final TrainingStep step;

    /**
     * Builds the training plan for {@code model} on batches of {@code data} and compiles it on
     * {@code backend}.
     *
     * @throws IllegalArgumentException if the data's image does not fit the model
     */
    public DdpmTrainer(Backend backend, UNet model, ImageSource data, Config config) {
        this(model, data, config);
        step.compile(backend);
    }

    /** The same trainer, built but not compiled (for inspecting or benchmarking its {@link #plan}). */
    public DdpmTrainer(UNet model, ImageSource data, Config config) {
        this.model = Objects.requireNonNull(model, "model");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        int c = data.channels(), h = data.height(), w = data.width();
        checkFits(model, c, h, w);
        int n = config.batch();
        long len = (long) n * c * h * w;
        footprint(model, c, h, w).requireHeap(n, 0, "training on batches of %s of " + c + "x" + h + "x" + w, h + "x" + w);
        x0 = new float[(int) len];
        eps = new float[(int) len];
        t = new float[n];
        coef = new float[2 * n];
        Graph g = new Graph("ddpm");
        Tensor xt = g.qSample(Tensor.of(x0, n, c, h, w), Tensor.of(eps, n, c, h, w), Tensor.of(coef, 2 * n));
        Tensor loss = g.meanSquaredError(model.forward(g, xt, Tensor.of(t, n)), Tensor.of(eps, n, c, h, w));
        step = new TrainingStep(g, loss, model.parameters(), config.settings(), x0, eps, t, coef);
    }

    /**
     * Fails unless {@code c × h × w} images fit the model: its channels, and a height and width divisible by
     * its divisor.
     */
    static void checkFits(UNet model, int c, int h, int w) {
        UNet.Config mc = model.config();
        if (c != mc.inChannels() || h % mc.divisor() != 0 || w % mc.divisor() != 0) {
            throw new IllegalArgumentException("training data: images " + c + "x" + h + "x" + w + " do not fit the model: expected "
                    + mc.inChannels() + " channel(s) and a height and width divisible by " + mc.divisor());
        }
    }

    /**
     * Every array of the training plan for images of {@code c × h × w}, at any batch, known before any is
     * allocated: the batch, noise, timesteps and coefficients, the graph's weights, activations and gradients
     * ({@link Footprint#extrapolate} over small graphs of the same step), and the optimiser's state
     * ({@link TrainingStep#stateFootprint}).
     *
     * @throws IllegalArgumentException if the images do not fit the model
     */
    public static Footprint footprint(UNet model, int c, int h, int w) {
        checkFits(model, c, h, w);
        int d = model.config().divisor();
        Footprint graph = Footprint.extrapolate((n, a, b) -> {
            Graph g = new Graph("ddpm");
            Tensor x0 = Tensor.zeros(n, c, d * a, d * b), eps = Tensor.zeros(n, c, d * a, d * b);
            Tensor xt = g.qSample(x0, eps, Tensor.zeros(2 * n));
            Tensor loss = g.meanSquaredError(model.forward(g, xt, Tensor.zeros(n)), eps);
            g.backward(loss, Tensor.of(new float[] {1f}, 1));
            return Footprint.arrays(java.util.stream.Stream.concat(g.forwardLaunches().stream(), g.backwardLaunches().stream()).toList());
        }, h / d, w / d);
        return graph.plus(TrainingStep.stateFootprint(model.parameters()));
    }

    /** The plan of one training step. */
    public dev.prism.backend.Plan plan() {
        return step.plan();
    }

    /** Writes the inputs of step {@code s} (batch, timesteps, noise, scalars) without running the plan. */
    public void prepare(long s) {
        data.fill(s, x0);
        draw(s);
        step.prepare(s);
    }

    public Config config() {
        return config;
    }

    /** The optimiser state of every parameter (weights, moments, EMA). */
    @Override
    public TrainingStep training() {
        return step;
    }

    /**
     * The timesteps and noise of step {@code s}: {@code t[i]} uniform in {0 … T−1}, then ε standard
     * normal by the polar method in double ({@link Noise#gaussian}), from a generator seeded by a hash of
     * (seed, s); and the forward process's coefficients of each t.
     */
    void draw(long s) {
        draw(config.seed(), config.schedule(), s, t, coef, eps);
    }

    /** {@link #draw(long)} into given arrays: {@code t [N]}, {@code coef [2N]}, {@code eps}. */
    static void draw(long seed, NoiseSchedule sch, long s, float[] t, float[] coef, float[] eps) {
        SplittableRandom r = Noise.stream(seed, s);
        for (int i = 0; i < t.length; i++) {
            int ti = r.nextInt(sch.timesteps());
            t[i] = ti;
            double ab = sch.alphaBar(ti);
            coef[2 * i] = (float) Math.sqrt(ab);
            coef[2 * i + 1] = (float) Math.sqrt(1 - ab);
        }
        Noise.gaussian(r, eps);
    }

    /** Runs training step {@code s} (from 1): its batch, timesteps and noise, then the plan. Returns the loss. */
    @Override
    public float step(long s) {
        data.fill(s, x0);
        draw(s);
        return step.run(s);
    }

    /** The run's state for a checkpoint: the step and what makes the next steps the same. */
    @Override
    public Map<String, String> state(long completedSteps) {
        return state(completedSteps, config.seed(), config.batch(), config.schedule(), config.settings());
    }

    /** The state of a run that draws its steps as DDPM training does. */
    static Map<String, String> state(long completedSteps, long seed, int batch, NoiseSchedule schedule, TrainingStep.Settings settings) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("step", Long.toString(completedSteps));
        m.put("seed", Long.toString(seed));
        m.put("batch", Integer.toString(batch));
        m.put("noise_schedule", schedule.name());
        m.put("timesteps", Integer.toString(schedule.timesteps()));
        m.putAll(settings.state());
        return m;
    }

    /** The state of a run of {@code config} after {@code completedSteps}: the step, seed, batch, schedule and settings. */
    static Map<String, String> state(Config config, long completedSteps) {
        return state(completedSteps, config.seed(), config.batch(), config.schedule(), config.settings());
    }

    public UNet model() {
        return model;
    }
}
