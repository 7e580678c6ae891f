package dev.prism.diffusion.eval;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.diffusion.data.DataSet;
import dev.prism.kernels.Check;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Classifier;

import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Runs a {@link Classifier} over many images, a batch at a time, as ONE compiled forward plan: the
 * input batch goes down, the penultimate features and the logits come back. The quality metric's feature
 * extractor, and the classifier's accuracy check.
 *
 * <p>A last batch with fewer images than the plan's batch is padded with copies of its last image; every
 * layer works on each image alone (group norm normalises within an image), so the padding changes no
 * result, and is dropped. Not thread-safe; {@link #close()} releases the plan, not the backend.
 */
public final class ClassifierFeatures implements AutoCloseable {
    /** Images by index, for {@link #extract}. */
    @FunctionalInterface
    public interface Images {
        /** Writes images {@code first .. first + count − 1}, each {@code [C,H,W]}, to {@code dst} from index 0. */
        void fill(int first, int count, float[] dst);
    }

    /**
     * The classifier's outputs for {@code count} images.
     *
     * @param features {@code [count, dim]}: the penultimate features
     * @param logits   {@code [count, classes]}
     */
    public record Result(int count, int dim, int classes, float[] features, float[] logits) {
        /** The class with the largest logit for image {@code i} (the first on a tie). */
        public int predicted(int i) {
            int best = 0;
            for (int k = 1; k < classes; k++) {
                if (logits[i * classes + k] > logits[i * classes + best]) {
                    best = k;
                }
            }
            return best;
        }

        /** The mean and covariance of the features. */
        public FeatureStatistics statistics() {
            return FeatureStatistics.of(features, count, dim);
        }
    }

    private final Classifier model;
    private final int batch;
    private final int imageLength;
    private final float[] x;
    private final float[] features;
    private final float[] logits;
    private final Executable executable;

    /**
     * Builds and compiles the forward plan for batches of {@code batch} images of {@code height × width}.
     *
     * @throws IllegalArgumentException if the batch is below 1
     * @throws dev.prism.nn.ModelShapeException if the classifier cannot take images of that size
     */
    public ClassifierFeatures(Backend backend, Classifier model, int batch, int height, int width) {
        Objects.requireNonNull(backend, "backend");
        this.model = Objects.requireNonNull(model, "model");
        if (batch < 1) {
            throw new IllegalArgumentException("classifier features: argument 'batch' expected >= 1, found " + batch);
        }
        int c = model.config().inChannels();
        this.batch = batch;
        this.x = new float[Check.of("classifier features").size("x", batch, c, height, width)];
        this.imageLength = x.length / batch;
        Graph g = new Graph("classifier");
        Classifier.Outputs out = model.forward(g, Tensor.of(x, batch, c, height, width));
        this.features = out.features().data();
        this.logits = out.logits().data();
        Plan plan = g.addForwardTo(Plan.builder("classifier-features")).inputs(x).outputs(features, logits).build();
        this.executable = backend.compile(plan);
    }

    /** Images per execution of the plan. */
    public int batch() {
        return batch;
    }

    /**
     * The features and logits of images {@code 0 .. count − 1} of {@code images}.
     *
     * @param progress told the number of images done after each batch (may be null)
     * @throws IllegalArgumentException if {@code count < 1}
     */
    public Result extract(Images images, int count, IntConsumer progress) {
        Objects.requireNonNull(images, "images");
        if (count < 1) {
            throw new IllegalArgumentException("classifier features: argument 'count' expected >= 1, found " + count);
        }
        int dim = model.config().hidden(), classes = model.config().classes();
        Check k = Check.of("classifier features");
        float[] f = new float[k.size("features", count, dim)];
        float[] z = new float[k.size("logits", count, classes)];
        for (int first = 0; first < count; first += batch) {
            int n = Math.min(batch, count - first);
            images.fill(first, n, x);
            for (int i = n; i < batch; i++) {
                System.arraycopy(x, (n - 1) * imageLength, x, i * imageLength, imageLength);
            }
            executable.execute();
            System.arraycopy(features, 0, f, first * dim, n * dim);
            System.arraycopy(logits, 0, z, first * classes, n * classes);
            if (progress != null) {
                progress.accept(first + n);
            }
        }
        return new Result(count, dim, classes, f, z);
    }

    /** The images of a data set, in its order. */
    public static Images of(DataSet set) {
        int len = set.imageLength();
        return (first, count, dst) -> {
            for (int i = 0; i < count; i++) {
                set.image(first + i, dst, i * len);
            }
        };
    }

    /**
     * The fraction of the first {@code result.count()} images of {@code set} whose predicted class is
     * their label.
     *
     * @throws IllegalArgumentException if the set has no labels or fewer images
     */
    public static double accuracy(Result result, DataSet set) {
        if (!set.hasLabels() || set.size() < result.count()) {
            throw new IllegalArgumentException("accuracy: expected a labelled data set of at least " + result.count() + " images, found "
                    + (set.hasLabels() ? set.size() + " images" : "no labels"));
        }
        int right = 0;
        for (int i = 0; i < result.count(); i++) {
            if (result.predicted(i) == set.label(i)) {
                right++;
            }
        }
        return (double) right / result.count();
    }

    @Override
    public void close() {
        executable.close();
    }
}
