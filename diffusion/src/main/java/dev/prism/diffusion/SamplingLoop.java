package dev.prism.diffusion;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.backend.Launch;
import dev.prism.kernels.Sampler;
import dev.prism.nn.Footprint;
import dev.prism.nn.Heap;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Runs a {@link DiffusionSampler} with a {@link Denoiser} as ONE compiled plan executed once per step,
 * so that the image stays on the device for the whole run.
 *
 * <p>The plan, built and compiled once per (backend, model, batch):
 * <pre>
 *   x = sampler.update(x, e, z, c)        (in place; see {@link dev.prism.kernels.SamplerKernels})
 *   e = model(x, t)                       (the denoiser's launches)
 * </pre>
 * Buffers and roles: {@code x[N,C,H,W]} the image, state and fetchable; {@code e[N,C,H,W]} the model
 * output, state and fetchable (the update reads last execution's value before the model rewrites it,
 * so it is carried across executions like x); {@code z[N,C,H,W]} the noise, {@code t[N]} the timesteps
 * and {@code c[9]} the update's coefficients, inputs; for a model with a latent input (a GAN generator's
 * z, {@link Denoiser#latentSize}) also {@code latent[N, latentSize]}, an input. A device therefore receives,
 * per step, only z, t, c (and the latent), and returns nothing until the end.
 *
 * <p>A run of S steps is S executions. Execution 0 has {@code init} set, so its update is
 * {@code x = z = x_T}, then evaluates the model at {@code t_0}; execution {@code i >= 1} applies update
 * {@code i−1} with its noise and evaluates the model at {@code t_i}. After the last execution the host
 * fetches x and e and applies update {@code S−1} itself, with the same kernel on
 * {@link JvmBackend#sequential()}: the model runs exactly S times, nothing runs after it on the device,
 * and only x and e come back. Noise comes from {@link Noise} (seeded: {@link SeededNoise}); an update
 * with σ = 0 draws none and gets z = 0.
 *
 * <p>Not thread-safe; one run at a time. {@link #close()} releases the compiled plan, not the backend.
 */
public final class SamplingLoop implements AutoCloseable {
    private final Denoiser model;
    private final int batch;
    private final int perImage;
    private final float[] x, e, z, t, c;
    /** The model's latent input {@code [N, latentSize]}, or null for a model without one. */
    private final float[] latent;
    private final float[] hostCoefficients = Sampler.init(new float[Sampler.COEFFICIENTS]);
    private final float[] result;
    private final Plan plan;
    private final Executable executable;
    private final JvmBackend host = JvmBackend.sequential();
    private final Launch finalUpdate;

    /**
     * Builds the step plan for {@code batch} images and compiles it on {@code backend}.
     *
     * @throws IllegalArgumentException if {@code batch < 1}, the plan's arrays do not fit in the heap or an
     *                                  array ({@link #checkHeap}), or the model's launches break the
     *                                  {@link Denoiser} contract
     */
    public SamplingLoop(Backend backend, Denoiser model, int batch) {
        Objects.requireNonNull(backend, "backend");
        this.model = Objects.requireNonNull(model, "model");
        if (batch < 1) {
            throw new IllegalArgumentException("sampling loop: argument 'batch' expected >= 1, found " + batch);
        }
        int ch = model.channels(), h = model.height(), w = model.width();
        if (ch < 1 || h < 1 || w < 1) {
            throw new IllegalArgumentException("sampling loop: the model's image expected C, H, W >= 1, found "
                    + ch + "x" + h + "x" + w);
        }
        long n = (long) batch * ch * h * w;
        checkHeap(model, batch, 0);
        int len = (int) n;
        this.batch = batch;
        this.perImage = ch * h * w;
        this.x = new float[len];
        this.e = new float[len];
        this.z = new float[len];
        this.t = new float[batch];
        this.c = Sampler.init(new float[Sampler.COEFFICIENTS]);
        this.result = new float[len];

        int latentSize = model.latentSize();
        if (latentSize < 0 || (long) batch * latentSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("sampling loop: the model's latent size expected 0 or more, at most "
                    + (Integer.MAX_VALUE - 8) / batch + " for " + batch + " images, found " + latentSize);
        }
        this.latent = latentSize == 0 ? null : new float[batch * latentSize];

        Plan.Builder b = Plan.builder("sample").add(Sampler.update(x, e, z, c, x, len));
        if (latent == null) {
            model.addTo(b, batch, x, t, e);
        } else {
            model.addTo(b, batch, x, t, latent, e);
            b.inputs(latent);
        }
        this.plan = b.state(x, e).fetchable(x, e).inputs(z, t, c).build();
        checkModel(plan.launches().subList(1, plan.launches().size()));
        this.finalUpdate = Sampler.update(x, e, z, hostCoefficients, result, len);
        this.executable = backend.compile(plan);
    }

    /**
     * The arrays a loop of {@code model} holds besides the model's: x, e, z, the result and the copy
     * {@link #sample} returns (C·H·W per image each), t (one per image) and two sets of update coefficients.
     */
    public static Footprint ownFootprint(Denoiser model) {
        long image = (long) model.channels() * model.height() * model.width();
        return Footprint.of(new long[] {0, 0, 0, 0, 0, 0, Sampler.COEFFICIENTS, Sampler.COEFFICIENTS},
                new long[] {image, image, image, image, image, 1, 0, 0});
    }

    /**
     * Fails before anything is allocated unless a loop of {@code batch} images of {@code model} fits in the
     * heap ({@link Heap}): its own arrays ({@link #ownFootprint}), the model's ({@link Denoiser#footprint}) and
     * {@code extraBytes} more per image (a caller's outputs, such as an encoded grid).
     *
     * @throws dev.prism.kernels.ArgumentException naming {@code batch}, or {@code size} when one image is already too
     *                                large, when an array would exceed the largest Java array
     * @throws Heap.HeapException naming {@code batch}, or {@code size} when one image does not fit either
     */
    public static void checkHeap(Denoiser model, int batch, long extraBytes) {
        ownFootprint(model).plus(model.footprint()).requireHeap(batch, extraBytes,
                "sampling %s of " + model.channels() + "x" + model.height() + "x" + model.width(), model.height() + "x" + model.width());
    }

    private void checkModel(List<Launch> launches) {
        boolean writesE = false;
        for (Launch l : launches) {
            for (float[] out : l.outputs()) {
                if (out == x || out == t || (latent != null && out == latent)) {
                    throw new IllegalArgumentException("sampling loop: the model's launch " + l.kernel() + " writes "
                            + (out == x ? "the image x" : out == t ? "the timesteps t" : "the latent")
                            + ", which the loop owns; expected it to write only e and its own buffers");
                }
                writesE |= out == e;
            }
        }
        if (!writesE) {
            throw new IllegalArgumentException("sampling loop: the model added " + launches.size() + " launches, none of which writes e");
        }
    }

    /** The step plan (for inspection: its buffers and roles). */
    public Plan plan() {
        return plan;
    }

    /** N, the images per run. */
    public int batch() {
        return batch;
    }

    /** The model this loop evaluates. */
    public Denoiser model() {
        return model;
    }

    /**
     * Samples a batch with noise drawn from {@code seed} ({@link SeededNoise}).
     *
     * @return a new array {@code [N,C,H,W]} with the final images
     */
    public float[] sample(DiffusionSampler sampler, long seed, SamplingProgress progress) {
        SeededNoise noise = new SeededNoise(seed, batch, perImage);
        if (latent == null) {
            return sample(sampler, noise, progress);
        }
        return sample(sampler, noise, new SeededNoise(seed + LATENT_SEED_OFFSET, batch, latent.length / batch), progress);
    }

    /**
     * The latents of a model that takes them come from their own {@link SeededNoise}, seeded with the run's
     * seed plus this (the 64-bit golden ratio), so that x_T and the noise of each step stay the stream
     * {@link SeededNoise} describes, whether the model takes latents or not.
     */
    public static final long LATENT_SEED_OFFSET = 0x9E3779B97F4A7C15L;

    /**
     * Samples a batch with the given noise: {@link Noise#initial} once, {@link Noise#step} for each
     * update with σ ≠ 0 (see the class comment for the order of executions).
     *
     * @return a new array {@code [N,C,H,W]} with the final images
     */
    public float[] sample(DiffusionSampler sampler, Noise noise, SamplingProgress progress) {
        if (latent != null) {
            throw new IllegalArgumentException("sampling loop: the model takes a latent of " + latent.length / batch
                    + " per image; expected the latents' source too (sample(sampler, noise, latents, progress))");
        }
        return sample(sampler, noise, null, progress);
    }

    /**
     * Samples a batch with the given noise and, for a model with a latent input ({@link Denoiser#latentSize}),
     * the latents: {@link Noise#step latents.step(i, ·)} fills the latent the model sees at step {@code i},
     * before each evaluation ({@link Noise#initial} is not asked for).
     *
     * @param latents the latents' source, or null for a model without them
     * @return a new array {@code [N,C,H,W]} with the final images
     */
    public float[] sample(DiffusionSampler sampler, Noise noise, Noise latents, SamplingProgress progress) {
        if ((latent != null) != (latents != null)) {
            throw new IllegalArgumentException("sampling loop: argument 'latents' expected "
                    + (latent != null ? "a source of the model's latents" : "null (the model takes no latent)") + ", found "
                    + (latents == null ? "null" : "a source"));
        }
        Objects.requireNonNull(sampler, "sampler");
        Objects.requireNonNull(noise, "noise");
        Objects.requireNonNull(progress, "progress");
        long start = System.nanoTime();
        int steps = sampler.steps();
        noise.initial(z);
        Sampler.init(c);
        for (int i = 0; i < steps; i++) {
            if (i > 0) {
                prepare(sampler, i - 1, noise, c);
            }
            Arrays.fill(t, sampler.timestep(i));
            if (latents != null) {
                latents.step(i, latent);
            }
            executable.execute();
            report(progress, i, steps, sampler.timestep(i), start);
        }
        executable.fetch(x, e);
        prepare(sampler, steps - 1, noise, hostCoefficients);
        host.run(finalUpdate);
        return result.clone();
    }

    private void prepare(DiffusionSampler sampler, int step, Noise noise, float[] coefficients) {
        UpdateCoefficients u = sampler.update(step);
        u.writeTo(coefficients);
        if (u.sigma() != 0) {
            noise.step(step, z);
        } else {
            Arrays.fill(z, 0f);
        }
    }

    private void report(SamplingProgress progress, int index, int steps, int timestep, long start) {
        long elapsed = System.nanoTime() - start;
        progress.onStep(new SamplingProgress.Step() {
            @Override
            public int index() {
                return index;
            }

            @Override
            public int steps() {
                return steps;
            }

            @Override
            public int timestep() {
                return timestep;
            }

            @Override
            public long elapsedNanos() {
                return elapsed;
            }

            @Override
            public float[] image() {
                executable.fetch(x);
                return x.clone();
            }
        });
    }

    @Override
    public void close() {
        executable.close();
        host.close();
    }
}
