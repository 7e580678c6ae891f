package dev.prism.diffusion;

import dev.prism.backend.Backend;
import dev.prism.nn.models.UNet;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The reverse process of a {@link Dvdp}: one resolution-agnostic {@link UNet} (the same weights at every
 * side) run by one {@link SamplingLoop} per stage, each compiled once at its side; the state is handed from
 * stage to stage on the host, where the dropped coefficients are re-inserted ({@link Dvdp#lift}).
 *
 * <p><b>Why one UNet for all stages.</b> The UNet is convolutional: its weights do not depend on the side, only
 * its plan does, so one set of weights runs at 32, 16 and 8 with the parameter count of the fixed-dimension
 * model, and the comparison with it is like for like. It needs no stage embedding: the stage is a function of
 * the timestep ({@link Dvdp#stageAt}), which the UNet already embeds. The side must still be a multiple of the
 * UNet's divisor (2^(levels − 1)).
 *
 * <p><b>The steps.</b> The base sampler's timesteps ({@link Ddpm}: all; {@link Ddim}: its sub-sequence) together
 * with every switch step {@code r_j} below the first of them, so that each re-insertion happens exactly at a
 * switch step, where the divergence bound of {@link Dvdp} holds; a switch step that the sub-sequence lacks costs
 * one more model evaluation. An update from t to s uses the base sampler's coefficients (for DDIM, eq. (12) from t
 * to s, {@link Ddim#update(int, int)}) in the dimension of t. Clipping x̂0 to [−1, 1] applies in the first stage
 * only: a smaller stage's image is the DCT resize of the data, whose range is not [−1, 1] (the DC coefficient of
 * an {@code N×N} plane seen at side k scales the mean by {@code N/k}).
 *
 * <p><b>Noise.</b> Image n of a batch draws from the n-th split {@code g_n} of the run's generator, as in
 * {@link SeededNoise}; stage after stage in the order they run, each takes the next split of {@code g_n} as a
 * one-image {@link SeededNoise}: the first stage's x_T, every later stage's re-inserted coefficients (its first
 * block, read outside the kept block), then the noise of that stage's updates. An image therefore does not depend
 * on the batch it was drawn in.
 *
 * <p>Not thread-safe; one run at a time. {@link #close()} releases the stages' loops, not the backend.
 */
public final class DvdpSampling implements AutoCloseable {
    private final Dvdp process;
    private final int batch;
    private final int channels;
    private final List<SamplingLoop> loops = new ArrayList<>();

    /**
     * Compiles one sampling loop per stage of {@code process} for {@code batch} images.
     *
     * @throws IllegalArgumentException if the UNet's channels differ from the process's or a side is not a
     *                                  multiple of the UNet's divisor (naming {@code stages}), or as {@link SamplingLoop}
     */
    public DvdpSampling(Backend backend, UNet unet, Dvdp process, int batch) {
        this.process = Objects.requireNonNull(process, "process");
        this.batch = batch;
        this.channels = process.channels();
        checkFits(unet, process);
        try {
            for (int k : process.stages()) {
                loops.add(new SamplingLoop(backend, new UNetDenoiser(unet, k, k), batch));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Fails unless every stage of {@code process} fits {@code unet}.
     *
     * @throws IllegalArgumentException naming {@code stages}
     */
    public static void checkFits(UNet unet, Dvdp process) {
        UNet.Config c = unet.config();
        if (c.inChannels() != process.channels()) {
            throw new IllegalArgumentException("dvdp: the UNet takes " + c.inChannels() + " channel(s), the process " + process.channels());
        }
        for (int k : process.stages()) {
            if (k % c.divisor() != 0) {
                throw new IllegalArgumentException("dvdp: argument 'stages' expected sides divisible by " + c.divisor()
                        + " (the UNet downsamples " + (c.levels() - 1) + " times), found " + Dvdp.join(process.stages()));
            }
        }
    }

    /** The process this sampler runs. */
    public Dvdp process() {
        return process;
    }

    /** The loop of stage j (for inspection: its plan). */
    public SamplingLoop loop(int j) {
        return loops.get(j);
    }

    /** One stage's part of a run: the stage, and its steps ending at the switch step below it (or −1). */
    public record Segment(int stage, StepList steps) {
    }

    /**
     * The run of {@code base} under {@code process}, stage by stage in the order they run (smallest side first); see
     * the class comment for the steps and their coefficients.
     *
     * @throws IllegalArgumentException if {@code base} is not a {@link Ddpm} or {@link Ddim}, or is on another schedule
     */
    public static List<Segment> segments(Dvdp process, DiffusionSampler base) {
        if (!(base instanceof Ddpm || base instanceof Ddim)) {
            throw new IllegalArgumentException("dvdp: argument 'base' expected a ddpm or ddim sampler, found " + base.describe());
        }
        NoiseSchedule sched = process.schedule();
        if (!base.schedule().name().equals(sched.name()) || base.schedule().timesteps() != sched.timesteps()) {
            throw new IllegalArgumentException("dvdp: the sampler's schedule " + base.schedule().name() + " (T=" + base.schedule().timesteps()
                    + ") expected the process's, " + sched.name() + " (T=" + sched.timesteps() + ")");
        }
        TreeSet<Integer> steps = new TreeSet<>();
        for (int t : base.timesteps()) {
            steps.add(t);
        }
        int top = base.timestep(0);
        for (int r : process.switches()) {
            if (r < top) {
                steps.add(r);
            }
        }
        int[] all = steps.descendingSet().stream().mapToInt(Integer::intValue).toArray();
        List<Segment> out = new ArrayList<>();
        int from = 0;
        while (from < all.length) {
            int stage = process.stageAt(all[from]);
            int to = from;
            while (to < all.length && process.stageAt(all[to]) == stage) {
                to++;
            }
            int[] ts = java.util.Arrays.copyOfRange(all, from, to);
            int end = to < all.length ? all[to] : -1;
            List<UpdateCoefficients> updates = new ArrayList<>();
            for (int i = 0; i < ts.length; i++) {
                int s = i + 1 < ts.length ? ts[i + 1] : end;
                UpdateCoefficients u = update(base, ts[i], s);
                updates.add(stage == 0 ? u : new UpdateCoefficients(u.px(), u.pe(), false, u.cx0(), u.cx(), u.ce(), u.sigma()));
            }
            out.add(new Segment(stage, new StepList(sched, ts, end, updates,
                    base.describe() + " under " + process.describe() + ", stage " + process.stages()[stage])));
            from = to;
        }
        return out;
    }

    private static UpdateCoefficients update(DiffusionSampler base, int t, int s) {
        return switch (base) {
            case Ddim d -> d.update(t, s);
            // every step of DDPM is in the list, so its pairs are its own
            case Ddpm d -> d.update(d.schedule().timesteps() - 1 - t);
            case StepList l -> throw new IllegalArgumentException("dvdp: a step list is not a base sampler");
        };
    }

    /** The model evaluations of a run of {@code base}: its own steps and the switch steps it adds. */
    public int evaluations(DiffusionSampler base) {
        return segments(process, base).stream().mapToInt(s -> s.steps().steps()).sum();
    }

    /**
     * Floating-point operations per image of a run of {@code base}: per stage, its loop's plan (the UNet at that
     * side and the update; {@link dev.prism.backend.Plan#flops}, which counts a multiply-add as two) times the
     * stage's steps, over the batch. The host's re-insertions (a few DCTs per switch) are not counted.
     */
    public double flopsPerImage(DiffusionSampler base) {
        double f = 0;
        for (Segment s : segments(process, base)) {
            f += (double) loops.get(s.stage()).plan().flops() * s.steps().steps();
        }
        return f / batch;
    }

    /** Samples a batch with noise from {@code seed}: {@code sample(base, new SplittableRandom(seed), progress)}. */
    public float[] sample(DiffusionSampler base, long seed, SamplingProgress progress) {
        return sample(base, new SplittableRandom(seed), progress);
    }

    /**
     * Samples the next {@code batch} images of a run whose generator is {@code root} (advanced by {@code batch}
     * splits), so that successive batches make the images one batch would (class comment).
     *
     * @return a new array {@code [N, C, size, size]}
     */
    public float[] sample(DiffusionSampler base, SplittableRandom root, SamplingProgress progress) {
        Objects.requireNonNull(progress, "progress");
        List<Segment> segments = segments(process, base);
        SplittableRandom[] images = new SplittableRandom[batch];
        for (int n = 0; n < batch; n++) {
            images[n] = root.split();
        }
        int total = segments.stream().mapToInt(s -> s.steps().steps()).sum();
        int done = 0;
        long start = System.nanoTime();
        float[] x = null;
        int side = 0;
        for (Segment seg : segments) {
            int k = process.stages()[seg.stage()];
            StageNoise noise = new StageNoise(images, channels * k * k);
            if (x != null) {
                float[] fresh = new float[batch * channels * k * k];
                noise.draw(fresh);
                // the previous stage ended at this stage's first step, a switch step: the re-inserted coefficients get its variance
                int r = seg.steps().timestep(0);
                x = Dvdp.lift(x, batch, channels, side, k, fresh, Math.sqrt(1 - process.schedule().alphaBar(r)));
                noise.start(x);
            }
            int offset = done;
            x = loops.get(seg.stage()).sample(seg.steps(), noise, step -> progress.onStep(shifted(step, offset, total, start)));
            done += seg.steps().steps();
            side = k;
        }
        return x;
    }

    private static SamplingProgress.Step shifted(SamplingProgress.Step step, int offset, int total, long start) {
        long elapsed = System.nanoTime() - start;
        return new SamplingProgress.Step() {
            @Override
            public int index() {
                return offset + step.index();
            }

            @Override
            public int steps() {
                return total;
            }

            @Override
            public int timestep() {
                return step.timestep();
            }

            @Override
            public long elapsedNanos() {
                return elapsed;
            }

            @Override
            public float[] image() {
                return step.image();
            }
        };
    }

    /**
     * One stage's noise for the batch: a one-image {@link SeededNoise} per image, split from that image's generator;
     * the initial image is either that noise (the first stage) or the lifted state ({@link #start}).
     */
    private static final class StageNoise implements Noise {
        private final SeededNoise[] images;
        private final int per;
        private final float[] one;
        private float[] initial;

        StageNoise(SplittableRandom[] roots, int per) {
            this.images = new SeededNoise[roots.length];
            for (int n = 0; n < roots.length; n++) {
                images[n] = new SeededNoise(roots[n], 1, per);
            }
            this.per = per;
            this.one = new float[per];
        }

        void start(float[] x) {
            initial = x;
        }

        /** Fills {@code out} with each image's next block. */
        void draw(float[] out) {
            for (int n = 0; n < images.length; n++) {
                images[n].initial(one);
                System.arraycopy(one, 0, out, n * per, per);
            }
        }

        @Override
        public void initial(float[] out) {
            if (initial != null) {
                System.arraycopy(initial, 0, out, 0, out.length);
            } else {
                draw(out);
            }
        }

        @Override
        public void step(int step, float[] out) {
            for (int n = 0; n < images.length; n++) {
                images[n].step(step, one);
                System.arraycopy(one, 0, out, n * per, per);
            }
        }
    }

    @Override
    public void close() {
        for (SamplingLoop l : loops) {
            l.close();
        }
    }
}
