package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.backend.Plan;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.DeepPrismVae;
import dev.prism.nn.train.TrainingStep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Training of the {@link DeepPrismVae} autoencoder with its own objective ({@link DeepPrismVae#objective}):
 * for a batch of images x and latent noise ε ~ N(0, I),
 * <pre>
 *   z = mean(x) + exp(½·logvar(x))·ε;   loss = ½·mean (x − G(z))² + klWeight · KL(N(mean, exp(logvar)) ‖ N(0, I)) per image
 * </pre>
 * then one {@link TrainingStep} (backward, clipping, AdamW, EMA), all in one plan. The batch of step s is
 * the {@link DdpmTrainer.ImageSource}'s batch of s and ε a function of (seed, s), so a resumed run
 * continues exactly as the run that never stopped. The loss's terms (the reconstruction's mean squared
 * error and the KL per image) come back after every step ({@link #termNames}).
 */
public final class VaeTrainer implements Trainer {
    /**
     * @param batch    images per step
     * @param seed     the seed of the latent noise (the data order has its own, in the image source)
     * @param klWeight the KL term's weight λ₂ (DeepPrism and LDM: 1e-6)
     * @param settings the optimiser, learning-rate schedule, clipping and EMA
     */
    public record Config(int batch, long seed, double klWeight, TrainingStep.Settings settings) {
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch expected >= 1, found " + batch);
            }
            if (!(klWeight >= 0) || !Double.isFinite(klWeight)) {
                throw new IllegalArgumentException("klWeight expected a finite number >= 0, found " + klWeight);
            }
            Objects.requireNonNull(settings, "settings");
        }
    }

    /** The names of the loss's terms, in {@link #term}'s order: the reconstruction's mean squared error, the KL per image. */
    public static final List<String> TERMS = List.of("reconstruction", "kl");

    private final DeepPrismVae model;
    private final DdpmTrainer.ImageSource data;
    private final Config config;
    private final float[] x;
    private final float[] eps;
    private final TrainingStep step;

    /**
     * Builds the training plan for {@code model} on batches of {@code data} and compiles it on {@code backend}.
     *
     * @throws IllegalArgumentException if the data's images do not fit the model
     */
    public VaeTrainer(Backend backend, DeepPrismVae model, DdpmTrainer.ImageSource data, Config config) {
        this(model, data, config);
        step.compile(backend);
    }

    /** The same trainer, built but not compiled (for inspecting or benchmarking its {@link #plan}). */
    public VaeTrainer(DeepPrismVae model, DdpmTrainer.ImageSource data, Config config) {
        this.model = Objects.requireNonNull(model, "model");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        int c = data.channels(), h = data.height(), w = data.width();
        DeepPrismVae.Config mc = model.config();
        int n = config.batch();
        footprint(model, c, h, w).requireHeap(n, 0, "training on batches of %s of " + c + "x" + h + "x" + w, h + "x" + w);
        int f = DeepPrismVae.FACTOR;
        x = new float[n * c * h * w];
        int z = mc.latent(), lh = h / f, lw = w / f;
        eps = new float[n * z * lh * lw];
        Graph g = new Graph("vae");
        DeepPrismVae.Objective o = model.objective(g, Tensor.of(x, n, c, h, w), Tensor.of(eps, n, z, lh, lw), (float) config.klWeight());
        step = new TrainingStep(g, o.loss(), List.of(o.reconstruction(), o.kl()), model.parameters(), config.settings(), x, eps);
    }

    /** Fails unless {@code c × h × w} images fit the autoencoder: its channels, and sides divisible by {@link DeepPrismVae#FACTOR}. */
    static void checkFits(DeepPrismVae model, int c, int h, int w) {
        int f = DeepPrismVae.FACTOR;
        if (c != model.config().inChannels() || h % f != 0 || w % f != 0) {
            throw new IllegalArgumentException("training data: images " + c + "x" + h + "x" + w + " do not fit the autoencoder: expected "
                    + model.config().inChannels() + " channel(s) and a height and width divisible by " + f);
        }
    }

    /**
     * Every array of the training plan for images of {@code c × h × w}, at any batch, known before any is
     * allocated (as {@link DdpmTrainer#footprint}).
     *
     * @throws IllegalArgumentException if the images do not fit the autoencoder
     */
    public static Footprint footprint(DeepPrismVae model, int c, int h, int w) {
        checkFits(model, c, h, w);
        int f = DeepPrismVae.FACTOR, z = model.config().latent();
        Footprint graph = Footprint.extrapolate((n, a, b) -> {
            Graph g = new Graph("vae");
            DeepPrismVae.Objective o = model.objective(g, Tensor.zeros(n, c, f * a, f * b), Tensor.zeros(n, z, a, b), 1e-6f);
            g.backward(o.loss(), Tensor.of(new float[] {1f}, 1));
            return Footprint.arrays(java.util.stream.Stream.concat(g.forwardLaunches().stream(), g.backwardLaunches().stream()).toList());
        }, h / f, w / f);
        return graph.plus(TrainingStep.stateFootprint(model.parameters()));
    }

    /** The plan of one training step. */
    public Plan plan() {
        return step.plan();
    }

    public Config config() {
        return config;
    }

    public DeepPrismVae model() {
        return model;
    }

    /** Writes the inputs of step {@code s} (batch, latent noise, scalars) without running the plan. */
    public void prepare(long s) {
        data.fill(s, x);
        Noise.gaussian(Noise.stream(config.seed(), s), eps);
        step.prepare(s);
    }

    /** Runs training step {@code s} (from 1) on its batch and noise; returns the loss. */
    @Override
    public float step(long s) {
        data.fill(s, x);
        Noise.gaussian(Noise.stream(config.seed(), s), eps);
        return step.run(s);
    }

    @Override
    public List<String> termNames() {
        return TERMS;
    }

    @Override
    public TrainingStep training() {
        return step;
    }

    @Override
    public Map<String, String> state(long completedSteps) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("step", Long.toString(completedSteps));
        m.put("seed", Long.toString(config.seed()));
        m.put("batch", Integer.toString(config.batch()));
        m.put("kl_weight", Double.toString(config.klWeight()));
        m.putAll(config.settings().state());
        return m;
    }
}
