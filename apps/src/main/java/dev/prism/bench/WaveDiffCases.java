package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
import dev.prism.diffusion.Ddpm;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SamplingProgress;
import dev.prism.diffusion.WaveDiffDenoiser;
import dev.prism.diffusion.WaveDiffSampling;
import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Rand;
import dev.prism.nn.Heap;
import dev.prism.nn.Parameter;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.WaveDiffGenerator;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * WaveDiff's generator for the benchmarks, at a preset of the official code (cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun) or that
 * preset with options changed: a whole sampling run (T steps of DDGAN's posterior sampling in Haar space, then
 * the image, as {@code prism sample --model wavediff} computes it) and one forward of the generator as a plan.
 * The weights are the seeded initialisation: the time of a run does not depend on their values. The PyTorch
 * peer is the official code itself ({@code tools/refgen/wavediff.py --time}), for the presets unchanged.
 */
public final class WaveDiffCases {
    /** The sampling run's name. */
    public static final String SAMPLE = "model.wavediff.sample";
    /** The forward plan's name (for {@code --breakdown}). */
    public static final String FORWARD = "model.wavediff.forward";
    /** The seed of the generator's initialisation. */
    private static final long WEIGHT_SEED = 11;

    private WaveDiffCases() {
    }

    /**
     * A configuration, a batch and the steps, checked.
     *
     * @param given   the options as given (a preset and the options changed over it)
     * @param options every option of the model, the preset's values with {@code given} over them
     * @param batch   images per run
     * @param steps   the model's T: WaveDiff's generator is trained for exactly those steps
     */
    public record Setup(Map<String, String> given, Map<String, String> options, int batch, int steps) {
        /** The preset, when the options are exactly the preset's (the only configurations the official timing covers), else null. */
        public String officialPreset() {
            return given.size() == 1 && Models.WAVEDIFF_OFFICIAL.contains(given.get("preset")) ? given.get("preset") : null;
        }

        public int colours() {
            return Integer.parseInt(options.get("in")) / 4;
        }

        /** The image side: twice the coefficients' size. */
        public int side() {
            return 2 * Integer.parseInt(options.get("size"));
        }

        public String shape() {
            return batch + "x" + colours() + "x" + side() + "x" + side() + " " + options.get("preset")
                    + (officialPreset() == null ? "*" : "") + " T" + steps;
        }
    }

    /**
     * Checks a configuration before anything is allocated: the options (as {@code prism info --model wavediff}
     * checks them), {@code steps} against the model's timesteps (null: the model's), and the weights and the
     * sampling loop's arrays for {@code batch} images against the heap.
     *
     * @throws ArgumentException naming {@code options}, {@code steps} or {@code batch}, with the expected and the found value
     */
    public static Setup setup(Map<String, String> given, int batch, Integer steps) {
        if (batch < 1) {
            throw ArgumentException.expected("batch", ">= 1", batch);
        }
        Map<String, String> g = new TreeMap<>(given);
        g.putIfAbsent("preset", Models.WAVEDIFF_PRESETS.get(0));
        Models.Built built;
        try {
            built = Models.structure("wavediff", g);
        } catch (ArgumentException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ArgumentException("options", e.getMessage());
        }
        int t = Integer.parseInt(built.options().get("timesteps"));
        if (steps != null && steps != t) {
            throw ArgumentException.expected("steps", t + " (the timesteps option of preset " + built.options().get("preset")
                    + ": its generator is trained for those steps)", steps);
        }
        Models.checkHeap(built, g);
        SamplingLoop.checkHeap(new WaveDiffDenoiser(built.wavediff()), batch, 0);
        return new Setup(Collections.unmodifiableMap(g), Collections.unmodifiableMap(new TreeMap<>(built.options())), batch, t);
    }

    static WaveDiffGenerator generator(Setup s) {
        return Models.build("wavediff", s.given(), WEIGHT_SEED).wavediff();
    }

    /** One forward of the generator as a plan case: {@code x'_0 = G(x_t, t, z)} on a random batch at the last time index. */
    public static KernelCase forward(Setup s) {
        return new KernelCase(FORWARD, s.shape(), seed -> {
            WaveDiffDenoiser d = new WaveDiffDenoiser(generator(s));
            int image = d.channels() * d.height() * d.width();
            Rand r = new Rand(seed);
            float[] x = r.gaussian(s.batch() * image), z = r.gaussian(s.batch() * d.latentSize());
            float[] t = new float[s.batch()];
            java.util.Arrays.fill(t, s.steps() - 1);
            float[] e = Rand.poisoned(s.batch() * image);
            Plan.Builder b = Plan.builder(FORWARD);
            d.addTo(b, s.batch(), x, t, z, e);
            return b.inputs(x, t, z).outputs(e).build();
        });
    }

    /** A sampling run on a backend, the images included: what {@code prism sample --model wavediff} times as its sampling. */
    public static final class SamplingRun implements AutoCloseable {
        private final Setup setup;
        private final WaveDiffGenerator generator;
        private final SamplingLoop loop;
        private final Ddpm sampler;

        public SamplingRun(Backend backend, Setup setup) {
            this.setup = setup;
            this.generator = generator(setup);
            this.loop = new SamplingLoop(backend, new WaveDiffDenoiser(generator), setup.batch());
            this.sampler = WaveDiffSampling.sampler(setup.steps());
        }

        /** One whole run: x_T, every step, the coefficients back on the host, and the images. */
        public float[] run(long seed) {
            float[] wavelet = loop.sample(sampler, seed, SamplingProgress.NONE);
            return WaveDiffSampling.toImage(wavelet, setup.batch(), setup.colours(), setup.side() / 2,
                    "vh".equals(setup.options().get("bands")));
        }

        public long flops() {
            return loop.plan().flops() * setup.steps();
        }

        public long bytes() {
            return loop.plan().bytes() * setup.steps();
        }

        /** The arrays the run holds, computed (see {@link Memory}). */
        public Memory memory() {
            Set<float[]> weights = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Parameter p : generator.parameters()) {
                weights.add(p.value().data());
            }
            Set<float[]> all = Collections.newSetFromMap(new IdentityHashMap<>());
            Plan plan = loop.plan();
            for (Launch l : plan.launches()) {
                for (Object a : l.args()) {
                    if (a instanceof float[] f) {
                        all.add(f);
                    }
                }
            }
            for (Set<float[]> roles : java.util.List.of(plan.constants(), plan.inputs(), plan.state(), plan.outputs(), plan.fetchable())) {
                all.addAll(roles);
            }
            long w = 0, rest = 0;
            for (float[] a : all) {
                if (weights.contains(a)) {
                    w += Heap.floatArrayBytes(a.length);
                } else {
                    rest += Heap.floatArrayBytes(a.length);
                }
            }
            // After the plan: the loop's result, the copy sample returns, and toImage's three arrays (with the band swap, four).
            long image = (long) setup.batch() * setup.colours() * 4 * (setup.side() / 2) * (setup.side() / 2);
            long after = 2 * Heap.floatArrayBytes(image) + 4 * Heap.floatArrayBytes(image);
            return new Memory(w, rest, after, all.size());
        }

        @Override
        public void close() {
            loop.close();
        }
    }

    /**
     * The bytes of the Java arrays a sampling run holds, computed from its plan rather than measured: every
     * distinct {@code float[]} that the step plan's launches and roles name, split into the generator's weights
     * and the rest (activations, scratch, the loop's image, noise and coefficients), and the arrays made after
     * the last step (the result, its copy, and the image's). Per-thread scratch of the JVM backend's vector
     * variants and the JVM's own memory are not included.
     *
     * @param weightBytes the generator's parameters
     * @param planBytes   every other array of the step plan
     * @param afterBytes  the arrays of the result and the image, made after the steps
     * @param arrays      distinct arrays in the plan
     */
    public record Memory(long weightBytes, long planBytes, long afterBytes, int arrays) {
        public long total() {
            return weightBytes + planBytes + afterBytes;
        }
    }
}
