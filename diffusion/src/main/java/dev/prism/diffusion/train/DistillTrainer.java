package dev.prism.diffusion.train;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.TrainingStep;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Spectrum-aware knowledge distillation of a frozen teacher UNet into a smaller student (Spectral Diffusion §5.2,
 * Yang et al., "Diffusion Probabilistic Model Made Slim", CVPR 2023). For a batch x0, timesteps t and noise ε drawn
 * as {@link DdpmTrainer} draws them, both networks see the same {@code x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε}, and the student
 * minimises
 * <pre>
 *   L = L_DDPM + λ_spatial·L_spatial + λ_freq·L_freq
 *   L_DDPM    = mean (ε − ε_S)²                                   DDPM's objective (Spectral Diffusion eq. 3)
 *   L_spatial = mean (ε_T − ε_S)²                                 the L2 output matching of §5.2
 *   L_freq    = 1/(NC·HW) Σ_{n,c} Σ_{u,v} ω[n,c,u,v]·|X_T − X_S|² / (H·W)      §5.2's spectrum-aware term
 *   X_S = DFT₂(ε_S),  X_T = DFT₂(ε_T),  X_0 = DFT₂(x0)             unnormalised 2-D DFTs (torch.fft.fft2)
 *   ω = w / mean_{u,v}(w),   w = (|X_0| + δ)^(−α),   δ = 0.1·mean_{u,v}|X_0|          per image plane
 * </pre>
 * §5.2 weights the difference of the two predictions' spectra by the magnitude of the clean image's spectrum
 * raised to an exponent, so that frequencies where the image has little energy (the rare, high ones) weigh more
 * and the dominant low ones less. The stored paper text has lost the formula's symbols; Prism reads it as
 * {@code |X_0|^(−α)} with α = 1 by default (the inverse magnitude, configurable), and adds two choices of its
 * own, said here because the paper does not: the floor δ, so that a frequency where the clean image is exactly
 * 0 cannot take all the weight, and the normalisation of ω to mean 1 per plane, so that with ω ≡ 1 the term equals
 * L_spatial exactly (Parseval: Σ|X|² = HW·Σ|x|²) and λ_freq compares with λ_spatial. The predictions are the
 * networks' outputs at the image's size, so no interpolation is needed; §5.2's matching of intermediate features
 * (with 1×1 convolutions aligning widths) is not implemented: L_spatial matches the outputs only.
 *
 * <p>Two plans per step: the teacher's forward pass (with the three DFTs X_T and X_0 of data that need no
 * gradient), then the student's training step, whose inputs are the teacher's prediction, √ω and √ω·X_T written on
 * the host between them (per step: 2·N·C·H·W values each). With a zero λ a term is still computed and logged.
 * Reproducible as {@link DdpmTrainer}: step s's batch, timesteps and noise depend on (seed, s) alone.
 */
public final class DistillTrainer implements Trainer {
    /** The loss's terms, as log.csv names them. */
    public static final List<String> TERMS = List.of("ddpm", "spatial", "freq");

    /** The floor δ of the spectral weight, as a fraction of the plane's mean magnitude. */
    public static final double FLOOR = 0.1;

    /**
     * @param batch         images per step
     * @param seed          the seed of the timesteps and the noise
     * @param schedule      the forward process's noise schedule (the teacher's)
     * @param settings      the optimiser, learning-rate schedule, clipping and EMA of the student
     * @param lambdaSpatial λ_spatial ≥ 0
     * @param lambdaFreq    λ_freq ≥ 0
     * @param alpha         α ≥ 0: the weight is the clean spectrum's magnitude to the power −α
     */
    public record Config(int batch, long seed, NoiseSchedule schedule, TrainingStep.Settings settings, double lambdaSpatial,
                         double lambdaFreq, double alpha) {
        public Config {
            if (batch < 1) {
                throw new IllegalArgumentException("batch expected >= 1, found " + batch);
            }
            Objects.requireNonNull(schedule, "schedule");
            Objects.requireNonNull(settings, "settings");
            if (!(lambdaSpatial >= 0 && Double.isFinite(lambdaSpatial))) {
                throw new IllegalArgumentException("lambdaSpatial expected a finite number >= 0, found " + lambdaSpatial);
            }
            if (!(lambdaFreq >= 0 && Double.isFinite(lambdaFreq))) {
                throw new IllegalArgumentException("lambdaFreq expected a finite number >= 0, found " + lambdaFreq);
            }
            if (!(alpha >= 0 && alpha <= 4)) {
                throw new IllegalArgumentException("alpha expected a number in [0, 4], found " + alpha);
            }
        }
    }

    private final UNet student;
    private final DdpmTrainer.ImageSource data;
    private final Config config;
    private final float[] x0;
    private final float[] eps;
    private final float[] t;
    private final float[] coef;
    private final float[] teacherEps;
    private final float[] spectrumX0;
    private final float[] spectrumT;
    private final float[] sqrtWeight;
    private final float[] weightedT;
    private final int planes;
    private final int area;
    private final Executable teacherPlan;
    private final TrainingStep step;

    /**
     * Builds both plans and compiles them on {@code backend}.
     *
     * @throws IllegalArgumentException if the data's images do not fit both networks
     */
    public DistillTrainer(Backend backend, UNet student, UNet teacher, DdpmTrainer.ImageSource data, Config config) {
        this.student = Objects.requireNonNull(student, "student");
        this.data = Objects.requireNonNull(data, "data");
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(teacher, "teacher");
        int c = data.channels(), h = data.height(), w = data.width();
        DdpmTrainer.checkFits(student, c, h, w);
        DdpmTrainer.checkFits(teacher, c, h, w);
        int n = config.batch();
        // the student's step as DDPM training would hold it, plus the teacher's forward pass and the spectra
        DdpmTrainer.footprint(student, c, h, w).plus(teacherFootprint(teacher, c, h, w))
                .requireHeap(n, 0, "distilling on batches of %s of " + c + "x" + h + "x" + w, h + "x" + w);
        x0 = new float[n * c * h * w];
        eps = new float[x0.length];
        t = new float[n];
        coef = new float[2 * n];
        planes = n * c;
        area = h * w;

        Graph gt = new Graph("teacher");
        Tensor x0t = Tensor.of(x0, n, c, h, w);
        Tensor epsT = teacher.forward(gt, gt.qSample(x0t, Tensor.of(eps, n, c, h, w), Tensor.of(coef, 2 * n)), Tensor.of(t, n));
        Tensor xt0 = gt.fft2(x0t);
        Tensor xtT = gt.fft2(epsT);
        teacherEps = epsT.data();
        spectrumX0 = xt0.data();
        spectrumT = xtT.data();
        teacherPlan = backend.compile(gt.addForwardTo(Plan.builder("distill-teacher")).inputs(x0, eps, t, coef)
                .outputs(teacherEps, spectrumX0, spectrumT).build());

        sqrtWeight = new float[2 * n * c * h * w];
        weightedT = new float[sqrtWeight.length];
        Graph g = new Graph("distill");
        Tensor xt = g.qSample(x0t, Tensor.of(eps, n, c, h, w), Tensor.of(coef, 2 * n));
        Tensor epsS = student.forward(g, xt, Tensor.of(t, n));
        Tensor ddpm = g.meanSquaredError(epsS, Tensor.of(eps, n, c, h, w));
        Tensor spatial = g.meanSquaredError(epsS, Tensor.of(teacherEps, n, c, h, w));
        Tensor freq = g.meanSquaredError(g.multiply(g.fft2(epsS), Tensor.of(sqrtWeight, n, c, h, w, 2)), Tensor.of(weightedT, n, c, h, w, 2));
        Tensor loss = g.add(g.add(ddpm, g.scale(spatial, (float) config.lambdaSpatial())), g.scale(freq, (float) config.lambdaFreq()));
        step = new TrainingStep(g, loss, List.of(ddpm, spatial, freq), student.parameters(), config.settings(), x0, eps, t, coef, teacherEps,
                sqrtWeight, weightedT);
        step.compile(backend);
    }

    /** The teacher's forward pass and the DFT buffers, at any batch (as {@link DdpmTrainer#footprint}). */
    private static Footprint teacherFootprint(UNet teacher, int c, int h, int w) {
        int d = teacher.config().divisor();
        return Footprint.extrapolate((n, a, b) -> {
            Graph g = new Graph("teacher");
            Tensor x0 = Tensor.zeros(n, c, d * a, d * b);
            Tensor e = teacher.forward(g, g.qSample(x0, Tensor.zeros(n, c, d * a, d * b), Tensor.zeros(2 * n)), Tensor.zeros(n));
            g.fft2(x0);
            g.fft2(e);
            return Footprint.arrays(g.forwardLaunches());
        }, h / d, w / d);
    }

    /**
     * The spectral weights from the clean images' spectra {@code x0Spectrum [planes, area, 2]}: {@code √(2ω/area)} in
     * both the real and the imaginary slot of every coefficient of {@code sqrtWeight} (so that the mean squared
     * error over the 2·planes·area interleaved values is L_freq), with ω = (|X_0| + δ)^(−α) normalised to mean 1 per
     * plane; and {@code weighted = teacherSpectrum · sqrtWeight}. Writes {@code sqrtWeight} and {@code weighted}.
     */
    static void weigh(float[] x0Spectrum, float[] teacherSpectrum, int planes, int area, double alpha, float[] sqrtWeight, float[] weighted) {
        double[] wPlane = new double[area];
        for (int p = 0; p < planes; p++) {
            int base = 2 * p * area;
            double meanMag = 0;
            for (int i = 0; i < area; i++) {
                double re = x0Spectrum[base + 2 * i], im = x0Spectrum[base + 2 * i + 1];
                meanMag += Math.sqrt(re * re + im * im);
            }
            meanMag /= area;
            double floor = FLOOR * meanMag + Double.MIN_NORMAL;
            double meanW = 0;
            for (int i = 0; i < area; i++) {
                double re = x0Spectrum[base + 2 * i], im = x0Spectrum[base + 2 * i + 1];
                wPlane[i] = Math.pow(Math.sqrt(re * re + im * im) + floor, -alpha);
                meanW += wPlane[i];
            }
            meanW /= area;
            for (int i = 0; i < area; i++) {
                float s = (float) Math.sqrt(2.0 * wPlane[i] / meanW / area);
                for (int k = 0; k < 2; k++) {
                    int e = base + 2 * i + k;
                    sqrtWeight[e] = s;
                    weighted[e] = teacherSpectrum[e] * s;
                }
            }
        }
    }

    @Override
    public float step(long s) {
        data.fill(s, x0);
        // the timesteps and noise of DDPM training with this run's seed and schedule
        DdpmTrainer.draw(config.seed(), config.schedule(), s, t, coef, eps);
        teacherPlan.execute();
        weigh(spectrumX0, spectrumT, planes, area, config.alpha(), sqrtWeight, weightedT);
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
        Map<String, String> m = DdpmTrainer.state(completedSteps, config.seed(), config.batch(), config.schedule(), config.settings());
        m.put("lambda_spatial", Double.toString(config.lambdaSpatial()));
        m.put("lambda_freq", Double.toString(config.lambdaFreq()));
        m.put("freq_alpha", Double.toString(config.alpha()));
        return m;
    }

    public UNet student() {
        return student;
    }

    @Override
    public void close() {
        try {
            teacherPlan.close();
        } finally {
            step.close();
        }
    }
}
