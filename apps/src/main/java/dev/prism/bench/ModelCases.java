package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.Plan;
import dev.prism.diffusion.Ddim;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.Prediction;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.UNetDenoiser;
import dev.prism.diffusion.train.ClassifierTrainer;
import dev.prism.diffusion.train.DdpmTrainer;
import dev.prism.nn.models.Classifier;
import dev.prism.nn.train.AdamW;
import dev.prism.nn.train.LrSchedule;
import dev.prism.nn.train.TrainingStep;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Rand;
import dev.prism.kernels.catalog.Size;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;

import java.util.List;
import java.util.Map;

/**
 * Whole models for the benchmarks: the DeepPrism UNet (DeepPrism convolutions, PrismAttn) as one forward
 * plan, and a full DDIM sampling run with it. No trained model is bundled, so the weights are the seeded
 * initialisation; the PyTorch peer (tools/peers/torch_peer.py) builds the same architecture from
 * tools/refgen/models.py. The configurations here and there must stay equal.
 */
public final class ModelCases {
    /** The forward case's name. */
    public static final String FORWARD = "model.unet-deepprism.forward";
    /** The sampling case's name. */
    public static final String SAMPLE = "model.unet-deepprism.sample";
    /** The training step cases' suffix: {@code model.<name>.train}. */
    public static final String TRAIN = ".train";

    private ModelCases() {
    }

    /** The DeepPrism UNet's options, its image size, the batch, and the DDIM steps at {@code size}. */
    public record Setup(Map<String, String> options, int image, int batch, int steps) {
        public String shape() {
            return batch + "x" + options.get("in") + "x" + image + "x" + image + " width " + options.get("width");
        }
    }

    public static Setup setup(Size size) {
        boolean small = size == Size.SMALL;
        Map<String, String> o = Map.of("in", "1", "width", small ? "16" : "64", "levels", "3", "res", "1", "attn", "2",
                "conv", "deepprism", "attention", "prism", "heads", "1", "groups", small ? "8" : "32");
        return new Setup(o, small ? 16 : 32, small ? 2 : 4, small ? 5 : 25);
    }

    static UNet unet(Setup s) {
        return Models.build("unet", s.options(), 11).unet();
    }

    /** The forward pass as a plan case: ε = UNet(x, t) for a random batch at timestep 500. */
    public static List<KernelCase> cases(Size size) {
        Setup s = setup(size);
        return List.of(new KernelCase(FORWARD, s.shape(), seed -> {
            UNet u = unet(s);
            int c = u.config().inChannels();
            Graph g = new Graph(FORWARD);
            Tensor x = Tensor.of(new Rand(seed).gaussian(s.batch() * c * s.image() * s.image()), s.batch(), c, s.image(), s.image());
            float[] t = new float[s.batch()];
            java.util.Arrays.fill(t, 500f);
            Tensor eps = u.forward(g, x, Tensor.of(t, s.batch()));
            return g.addForwardTo(Plan.builder(FORWARD)).inputs(x.data(), t).outputs(eps.data()).build();
        }));
    }

    /**
     * Whole DDPM training steps (forward, loss, backward, clipping, AdamW, EMA) as plan cases, with the
     * settings of the PyTorch peer's {@code model.ddpm-unet.train} (tools/peers/torch_peer.py): lr 2e-4,
     * weight decay 0.01, clipping at 1.0, EMA 0.9999, a batch of uniform images in [−1, 1] at step 1's
     * scalars. Models: {@code ddpm-unet} (the plain UNet of issue 14, 1.11M parameters) and the DeepPrism
     * UNet of {@link #setup}. And a training step of the quality metric's classifier (the default
     * {@code classifier}, cross-entropy on a batch of 128 random images and labels).
     */
    public static List<KernelCase> trainingCases(Size size) {
        boolean small = size == Size.SMALL;
        int batch = small ? 2 : 64;
        int image = small ? 16 : 32;
        Map<String, String> ddpm = small ? Map.of("width", "8", "groups", "4") : Map.of();
        return List.of(training("ddpm-unet", ddpm, batch, image), training("unet", setup(size).options(), batch, image),
                classifierTraining(small ? 4 : 128, image));
    }

    private static KernelCase classifierTraining(int batch, int image) {
        return new KernelCase("model.classifier" + TRAIN, batch + "x1x" + image + "x" + image, seed -> {
            Classifier c = Models.build("classifier", Map.of(), 11).classifier();
            Rand r = new Rand(seed);
            float[] data = r.uniform(batch * image * image, -1f, 1f);
            float[] classes = new float[batch];
            for (int i = 0; i < batch; i++) {
                classes[i] = i % c.config().classes();
            }
            ClassifierTrainer.LabelledImages src = new ClassifierTrainer.LabelledImages() {
                public int channels() {
                    return 1;
                }

                public int height() {
                    return image;
                }

                public int width() {
                    return image;
                }

                public void fill(long step, float[] images, float[] labels) {
                    System.arraycopy(data, 0, images, 0, images.length);
                    System.arraycopy(classes, 0, labels, 0, labels.length);
                }
            };
            TrainingStep.Settings settings = new TrainingStep.Settings(AdamW.of(2e-3, 0), LrSchedule.constant(0), 1.0, 0.999);
            ClassifierTrainer trainer = new ClassifierTrainer(c, src, new ClassifierTrainer.Config(batch, settings));
            trainer.prepare(1);
            return trainer.plan();
        });
    }

    private static KernelCase training(String model, Map<String, String> options, int batch, int image) {
        String name = "model." + (model.equals("unet") ? "unet-deepprism" : model) + TRAIN;
        Models.Built built = Models.build(model, options, 11);
        String shape = batch + "x1x" + image + "x" + image + " " + built.module().parameterCount() + " params";
        return new KernelCase(name, shape, seed -> {
            UNet u = Models.build(model, options, 11).unet();
            Rand r = new Rand(seed);
            float[] data = r.uniform(batch * image * image, -1f, 1f);
            DdpmTrainer.ImageSource src = new DdpmTrainer.ImageSource() {
                public int channels() {
                    return 1;
                }

                public int height() {
                    return image;
                }

                public int width() {
                    return image;
                }

                public void fill(long step, float[] x0) {
                    System.arraycopy(data, 0, x0, 0, x0.length);
                }
            };
            TrainingStep.Settings settings = new TrainingStep.Settings(AdamW.of(2e-4, 0.01), LrSchedule.constant(0), 1.0, 0.9999);
            DdpmTrainer trainer = new DdpmTrainer(u, src, new DdpmTrainer.Config(batch, seed, NoiseSchedule.linear(1000), settings));
            trainer.prepare(1);
            return trainer.plan();
        });
    }

    /** A sampling run on {@code backend}: DDIM over the linear schedule with T = 1000, seeded noise. */
    public static final class SamplingRun implements AutoCloseable {
        private final SamplingLoop loop;
        private final Ddim ddim;

        public SamplingRun(Backend backend, Size size) {
            Setup s = setup(size);
            UNet u = unet(s);
            this.loop = new SamplingLoop(backend, new UNetDenoiser(u, s.image(), s.image()), s.batch());
            this.ddim = new Ddim(NoiseSchedule.linear(1000), s.steps(), 0.0, true, Prediction.EPSILON);
        }

        /** One whole run: every step, and the image back on the host. */
        public float[] run(long seed) {
            return loop.sample(ddim, seed, dev.prism.diffusion.SamplingProgress.NONE);
        }

        /** Floating-point operations of one run: the step plan's, times the steps. */
        public long flops() {
            return loop.plan().flops() * ddim.steps();
        }

        public long bytes() {
            return loop.plan().bytes() * ddim.steps();
        }

        @Override
        public void close() {
            loop.close();
        }
    }
}
