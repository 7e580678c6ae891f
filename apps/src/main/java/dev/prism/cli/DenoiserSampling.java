package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.DiffusionSampler;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.DvdpSampling;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.SamplingLoop;
import dev.prism.diffusion.SamplingProgress;
import dev.prism.diffusion.SeededNoise;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Sampling a loaded denoiser with the process it was trained for: the fixed-dimension process (one
 * {@link SamplingLoop}) or DVDP ({@link DvdpSampling}), behind one call for prism sample, prism eval and the
 * training grids.
 */
interface DenoiserSampling extends AutoCloseable {

    /**
     * The next batch of images of a run whose generator is {@code root}: image n draws from its n-th split, so
     * {@code new SplittableRandom(seed)} gives the images of {@code --seed}.
     */
    float[] sample(DiffusionSampler sampler, SplittableRandom root, SamplingProgress progress);

    /** Floating-point operations per image of a run of {@code sampler}, as the plans count them (a multiply-add is two). */
    double flopsPerImage(DiffusionSampler sampler);

    /** Model evaluations of a run of {@code sampler}. */
    int evaluations(DiffusionSampler sampler);

    @Override
    void close();

    /** One line on the cost of a run: model evaluations, and flops and multiply-adds per image. */
    default String cost(DiffusionSampler sampler) {
        double f = flopsPerImage(sampler);
        return String.format(Locale.ROOT, "cost: %d model evaluations, %.3f GFLOP per image (the plans' counts; %.3f G multiply-adds)",
                evaluations(sampler), f / 1e9, f / 2e9);
    }

    /** The fixed-dimension process. */
    static DenoiserSampling of(SamplingLoop loop) {
        int per = loop.model().channels() * loop.model().height() * loop.model().width();
        return new DenoiserSampling() {
            public float[] sample(DiffusionSampler sampler, SplittableRandom root, SamplingProgress progress) {
                return loop.sample(sampler, new SeededNoise(root, loop.batch(), per), progress);
            }

            public double flopsPerImage(DiffusionSampler sampler) {
                return (double) loop.plan().flops() * sampler.steps() / loop.batch();
            }

            public int evaluations(DiffusionSampler sampler) {
                return sampler.steps();
            }

            public void close() {
                loop.close();
            }
        };
    }

    /** DVDP. */
    static DenoiserSampling of(DvdpSampling dvdp) {
        return new DenoiserSampling() {
            public float[] sample(DiffusionSampler sampler, SplittableRandom root, SamplingProgress progress) {
                return dvdp.sample(sampler, root, progress);
            }

            public double flopsPerImage(DiffusionSampler sampler) {
                return dvdp.flopsPerImage(sampler);
            }

            public int evaluations(DiffusionSampler sampler) {
                return dvdp.evaluations(sampler);
            }

            public void close() {
                dvdp.close();
            }
        };
    }

    /**
     * The DVDP process that weights' metadata (what prism train writes: {@code process}, {@code stages},
     * {@code switches}) records, or null for the fixed-dimension process.
     *
     * @param option  --process, or null to follow the metadata
     * @param weights how messages name the weights
     * @throws IllegalArgumentException naming --process or the metadata entry
     */
    static Dvdp process(String option, Map<String, String> meta, String weights, NoiseSchedule schedule, int channels, int size) {
        String recorded = meta.getOrDefault("process", "ddpm");
        String p = option != null ? option.toLowerCase(Locale.ROOT) : recorded;
        if (!p.equals("ddpm") && !p.equals("dvdp")) {
            throw new IllegalArgumentException((option != null ? "--process" : "process metadata of " + weights) + " expected ddpm or dvdp, found '"
                    + p + "'");
        }
        if (option != null && !p.equals(recorded)) {
            throw new IllegalArgumentException("--process " + p + ": " + weights + " was trained with the " + recorded
                    + " process (its process metadata), which is the one it samples");
        }
        if (p.equals("ddpm")) {
            return null;
        }
        String stages = meta.get("stages"), switches = meta.get("switches");
        if (stages == null || switches == null) {
            throw new IllegalArgumentException("--process dvdp: " + weights + " lacks the stages and switches metadata that prism train "
                    + "--process dvdp records");
        }
        int[] k = Dvdp.parse("stages metadata of " + weights, stages);
        if (k.length == 0 || k[0] != size) {
            throw new IllegalArgumentException("stages metadata of " + weights + " expected the image size " + size + " first, found '" + stages + "'");
        }
        try {
            return new Dvdp(schedule, channels, k, Dvdp.parse("switches metadata of " + weights, switches));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("stages and switches metadata of " + weights + ": " + e.getMessage(), e);
        }
    }
}
