package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.backend.Plan;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.train.TrainingStep;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Supervised training of a {@link Classifier}: for a batch of labelled images,
 * <pre>
 *   loss = mean_i −log softmax(classifier(x_i))[y_i]          (F.cross_entropy)
 * </pre>
 * then one {@link TrainingStep} (backward, clipping, AdamW, EMA), all in one plan. The batch of step s
 * is the {@link LabelledImages}' batch of s, so a resumed run sees the same batches.
 */
public final class ClassifierTrainer implements Trainer {
    /** The training images with their classes: the batch of each step, the same for the same step every time. */
    public interface LabelledImages {
        int channels();

        int height();

        int width();

        /**
         * Fills {@code images [batch, C, H, W]} (values in [−1, 1]) and {@code labels [batch]} (class indices
         * as floats) with the batch of step {@code step} (from 1).
         */
        void fill(long step, float[] images, float[] labels);
    }

    /**
     * @param batch    images per step
     * @param settings the optimiser, learning-rate schedule, clipping and EMA
     */
    public record Config(int batch, TrainingStep.Settings settings) {
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch expected >= 1, found " + batch);
            }
            Objects.requireNonNull(settings, "settings");
        }
    }

    private final Classifier model;
    private final LabelledImages data;
    private final Config config;
    private final float[] images;
    private final float[] labels;
    private final TrainingStep step;

    /**
     * Builds the training plan for {@code model} on batches of {@code data} and compiles it on {@code backend}.
     *
     * @throws IllegalArgumentException if the data's images do not fit the model
     */
    public ClassifierTrainer(Backend backend, Classifier model, LabelledImages data, Config config) {
        this(model, data, config);
        step.compile(backend);
    }

    /** The same trainer, built but not compiled (for inspecting or benchmarking its {@link #plan}). */
    public ClassifierTrainer(Classifier model, LabelledImages data, Config config) {
        this.model = Objects.requireNonNull(model, "model");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        int c = data.channels(), h = data.height(), w = data.width();
        checkFits(model, c, h, w);
        int n = config.batch();
        long len = (long) n * c * h * w;
        footprint(model, c, h, w).requireHeap(n, 0, "training on batches of %s of " + c + "x" + h + "x" + w, h + "x" + w);
        images = new float[(int) len];
        labels = new float[n];
        Graph g = new Graph("classifier");
        Classifier.Outputs out = model.forward(g, Tensor.of(images, n, c, h, w));
        Tensor loss = g.crossEntropy(out.logits(), Tensor.of(labels, n));
        step = new TrainingStep(g, loss, model.parameters(), config.settings(), images, labels);
    }

    /** Fails unless {@code c × h × w} images fit the classifier: its channels, and sides divisible by its divisor. */
    static void checkFits(Classifier model, int c, int h, int w) {
        Classifier.Config mc = model.config();
        int d = mc.divisor();
        if (c != mc.inChannels() || h % d != 0 || w % d != 0) {
            throw new IllegalArgumentException("training data: images " + c + "x" + h + "x" + w + " do not fit the classifier: expected "
                    + mc.inChannels() + " channel(s) and a height and width divisible by " + d);
        }
    }

    /**
     * Every array of the training plan for images of {@code c × h × w}, at any batch, known before any is
     * allocated (as {@link DdpmTrainer#footprint}).
     *
     * @throws IllegalArgumentException if the images do not fit the classifier
     */
    public static Footprint footprint(Classifier model, int c, int h, int w) {
        checkFits(model, c, h, w);
        int d = model.config().divisor();
        Footprint graph = Footprint.extrapolate((n, a, b) -> {
            Graph g = new Graph("classifier");
            Tensor x = Tensor.zeros(n, c, d * a, d * b), labels = Tensor.zeros(n);
            Tensor loss = g.crossEntropy(model.forward(g, x).logits(), labels);
            g.backward(loss, Tensor.of(new float[] {1f}, 1));
            return Footprint.arrays(java.util.stream.Stream.concat(g.forwardLaunches().stream(), g.backwardLaunches().stream()).toList());
        }, h / d, w / d);
        return graph.plus(TrainingStep.stateFootprint(model.parameters()));
    }

    /** The plan of one training step. */
    public Plan plan() {
        return step.plan();
    }

    public Config config() {
        return config;
    }

    public Classifier model() {
        return model;
    }

    @Override
    public TrainingStep training() {
        return step;
    }

    /** Writes the inputs of step {@code s} (batch, labels, scalars) without running the plan. */
    public void prepare(long s) {
        data.fill(s, images, labels);
        step.prepare(s);
    }

    /** Runs training step {@code s} (from 1) on its batch; returns the mean cross-entropy of the batch. */
    @Override
    public float step(long s) {
        data.fill(s, images, labels);
        return step.run(s);
    }

    @Override
    public Map<String, String> state(long completedSteps) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("step", Long.toString(completedSteps));
        m.put("batch", Integer.toString(config.batch()));
        m.putAll(config.settings().state());
        return m;
    }
}
