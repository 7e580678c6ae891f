package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.diffusion.Dvdp;
import dev.prism.diffusion.DvdpSampling;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.TrainingStep;

import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Training of an ε-predicting {@link UNet} for a {@link Dvdp} process: DDPM's objective, with each image's noised
 * state in the dimension of its timestep.
 *
 * <p>At stage j (side {@code k_j}, steps {@code r_j + 1 … r_{j+1}}) the state the model sees is the forward
 * marginal of {@link Dvdp}, {@code x_t = √ᾱ_t·x0_k + √(1−ᾱ_t)·ε} with {@code x0_k} the DCT resize of the clean
 * image to {@code k×k} ({@link Dvdp#resize}) and ε white noise of that size; the model predicts ε. The timestep
 * is uniform over {0 … T−1} as in DDPM, stratified by stage so that one plan serves a step: of the batch's B
 * images, {@code B_j ≈ B·n_j/T} go to stage j (n_j its steps; largest remainders, at least one each), with t
 * uniform inside the stage, and
 * <pre>
 *   loss = Σ_j (n_j / T) · mean over stage j's images and pixels of (ε − ε_θ(x_t, t))²
 * </pre>
 * whose expectation is DDPM's {@code E_t E (ε − ε_θ)²} per pixel of each image's own size. The one plan holds
 * the UNet's forward and backward at every side, with the weights shared (their gradients summed by
 * {@link Graph}), then one optimiser step: a step costs {@code Σ_j B_j·k_j²} pixels of UNet work instead of
 * {@code B·N²}.
 *
 * <p>Reproducible as {@link DdpmTrainer}: the batch is the source's batch of step s (the first {@code B_0} images
 * go to stage 0, the next {@code B_1} to stage 1, …), the timesteps and noise come from {@code Noise.stream(seed,
 * s)} (stage by stage: the timesteps, then the noise), and the resize runs on the host.
 */
public final class DvdpTrainer implements Trainer {
    private final UNet model;
    private final DdpmTrainer.ImageSource data;
    private final DdpmTrainer.Config config;
    private final Dvdp process;
    private final int[] counts;
    private final float[] full;
    private final float[][] x0, eps, t, coef;
    private final TrainingStep step;

    /**
     * Builds the training plan and compiles it on {@code backend}.
     *
     * @throws IllegalArgumentException if the data's images are not the process's first stage, a stage does not fit
     *                                  the model, the schedules differ, or the batch has fewer images than stages
     */
    public DvdpTrainer(Backend backend, UNet model, DdpmTrainer.ImageSource data, Dvdp process, DdpmTrainer.Config config) {
        this.model = Objects.requireNonNull(model, "model");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        this.process = Objects.requireNonNull(process, "process");
        int c = data.channels(), n = process.size();
        if (data.height() != n || data.width() != n || c != process.channels()) {
            throw new IllegalArgumentException("dvdp training: images " + c + "x" + data.height() + "x" + data.width() + " expected "
                    + process.channels() + "x" + n + "x" + n + " (the first stage of " + process.describe() + ")");
        }
        if (!config.schedule().name().equals(process.schedule().name()) || config.schedule().timesteps() != process.schedule().timesteps()) {
            throw new IllegalArgumentException("dvdp training: the schedule " + config.schedule().name() + " expected the process's, "
                    + process.schedule().name());
        }
        DvdpSampling.checkFits(model, process);
        this.counts = split(process, config.batch());
        int stages = counts.length;
        full = new float[config.batch() * c * n * n];
        x0 = new float[stages][];
        eps = new float[stages][];
        t = new float[stages][];
        coef = new float[stages][];
        Graph g = new Graph("dvdp");
        Tensor loss = null;
        float[][] inputs = new float[4 * stages][];
        int T = process.schedule().timesteps();
        for (int j = 0; j < stages; j++) {
            int k = process.stages()[j], b = counts[j];
            x0[j] = new float[b * c * k * k];
            eps[j] = new float[b * c * k * k];
            t[j] = new float[b];
            coef[j] = new float[2 * b];
            Tensor xt = g.qSample(Tensor.of(x0[j], b, c, k, k), Tensor.of(eps[j], b, c, k, k), Tensor.of(coef[j], 2 * b));
            Tensor mse = g.meanSquaredError(model.forward(g, xt, Tensor.of(t[j], b)), Tensor.of(eps[j], b, c, k, k));
            int steps = process.lastStep(j) - process.firstStep(j) + 1;
            Tensor term = g.scale(mse, (float) ((double) steps / T));
            loss = loss == null ? term : g.add(loss, term);
            inputs[4 * j] = x0[j];
            inputs[4 * j + 1] = eps[j];
            inputs[4 * j + 2] = t[j];
            inputs[4 * j + 3] = coef[j];
        }
        step = new TrainingStep(g, loss, model.parameters(), config.settings(), inputs);
        step.compile(backend);
    }

    /**
     * The images per stage of a batch of {@code batch}: proportional to the stages' steps, by largest remainder,
     * at least one each.
     *
     * @throws IllegalArgumentException naming {@code batch} when it has fewer images than the process has stages
     */
    public static int[] split(Dvdp process, int batch) {
        int stages = process.stageCount(), T = process.schedule().timesteps();
        if (batch < stages) {
            throw new IllegalArgumentException("dvdp training: argument 'batch' expected at least one image per stage (" + stages + "), found " + batch);
        }
        int[] b = new int[stages];
        double[] rest = new double[stages];
        int used = 0;
        for (int j = 0; j < stages; j++) {
            double share = (double) batch * (process.lastStep(j) - process.firstStep(j) + 1) / T;
            b[j] = Math.max(1, (int) Math.floor(share));
            rest[j] = share - Math.floor(share);
            used += b[j];
        }
        while (used < batch) {
            int best = 0;
            for (int j = 1; j < stages; j++) {
                if (rest[j] > rest[best]) {
                    best = j;
                }
            }
            b[best]++;
            rest[best] = -1;
            used++;
        }
        while (used > batch) {
            // the minimum of one image per stage overdrew: take from the largest share
            int big = 0;
            for (int j = 1; j < stages; j++) {
                if (b[j] > b[big]) {
                    big = j;
                }
            }
            b[big]--;
            used--;
        }
        return b;
    }

    /** The images each stage gets of a batch ({@link #split}). */
    public int[] counts() {
        return counts.clone();
    }

    /** The timesteps of stage j's images at the last step (a copy). */
    float[] timesteps(int j) {
        return t[j].clone();
    }

    /** The clean images of stage j at the last step, resized to its side (a copy). */
    float[] cleanImages(int j) {
        return x0[j].clone();
    }

    /** The timesteps and noise of step {@code s}, stage by stage; then the clean images resized to each stage. */
    void draw(long s) {
        SplittableRandom r = Noise.stream(config.seed(), s);
        var sch = process.schedule();
        for (int j = 0; j < counts.length; j++) {
            int first = process.firstStep(j), n = process.lastStep(j) - first + 1;
            for (int i = 0; i < counts[j]; i++) {
                int ti = first + r.nextInt(n);
                t[j][i] = ti;
                double ab = sch.alphaBar(ti);
                coef[j][2 * i] = (float) Math.sqrt(ab);
                coef[j][2 * i + 1] = (float) Math.sqrt(1 - ab);
            }
        }
        for (int j = 0; j < counts.length; j++) {
            Noise.gaussian(r, eps[j]);
        }
        int c = process.channels(), n = process.size(), per = c * n * n, at = 0;
        for (int j = 0; j < counts.length; j++) {
            float[] part = java.util.Arrays.copyOfRange(full, at * per, (at + counts[j]) * per);
            int k = process.stages()[j];
            float[] resized = k == n ? part : Dvdp.resize(part, counts[j], c, n, k);
            System.arraycopy(resized, 0, x0[j], 0, resized.length);
            at += counts[j];
        }
    }

    @Override
    public float step(long s) {
        data.fill(s, full);
        draw(s);
        return step.run(s);
    }

    @Override
    public TrainingStep training() {
        return step;
    }

    /** The step plan (for inspection). */
    public dev.prism.backend.Plan plan() {
        return step.plan();
    }

    @Override
    public Map<String, String> state(long completedSteps) {
        Map<String, String> m = DdpmTrainer.state(config, completedSteps);
        m.put("process", "dvdp");
        m.put("stages", Dvdp.join(process.stages()));
        m.put("switches", Dvdp.join(process.switches()));
        return m;
    }

    public UNet model() {
        return model;
    }
}
