package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.NoiseSchedule;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.SpectralError;
import dev.prism.diffusion.train.FeatureAlignment;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import dev.prism.nn.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code prism distill}: spectrum-aware distillation of a trained denoiser into a smaller student
 * ({@link dev.prism.diffusion.train.DistillTrainer}). It is {@code prism train} with a teacher: the same run
 * directory, log, checkpoints, sample grids and {@code --resume}; every {@code prism train} option not listed here
 * passes through. At the end it prints the high-frequency error of the student's and the teacher's predictions.
 */
@Command(name = "distill", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Distill a trained denoising model (the teacher, frozen) into a smaller student with Spectral Diffusion's "
                + "spectrum-aware objective: loss = DDPM loss + lambda-spatial * (mean (eps_T - eps_S)^2 + feature term) + lambda-freq * the "
                + "mean of w * |DFT(eps_T) - DFT(eps_S)|^2 / (HW), w = |DFT(x0)|^-alpha (floored, normalised to mean 1 per image), so that "
                + "frequencies where the clean image is weak weigh more. The feature term is the mean over the --feature-levels of "
                + "mean (conv1x1(F_S) - F_T)^2, F the decoder's feature map at that resolution and conv1x1 a trainable 1x1 convolution "
                + "from the student's channels to the teacher's (started at the identity), kept in the checkpoints but not in the "
                + "student's ema.safetensors. log.csv gains the terms ddpm, spatial (the outputs' part), freq and, with features, feature.",
                "Every other option is prism train's (--data, --steps, --out, --batch, --lr, --checkpoint-every, --sample-every, "
                        + "the backend options, ...; see prism train --help), with the same run directory, checkpoints and --resume.",
                "At the end: the mean squared error of the student's and the teacher's noise predictions on test images, and its part "
                        + "above half the Nyquist frequency."})
final class DistillCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--teacher", paramLabel = "WEIGHTS",
            description = "The teacher: a trained unet, wg-unet or ddpm-unet whose metadata names it (e.g. prism train's ema.safetensors).")
    Path teacher;

    @Option(names = "--student-model", defaultValue = "wg-unet", paramLabel = "NAME",
            description = "The student's model: unet, wg-unet or ddpm-unet (default: ${DEFAULT-VALUE}).")
    String studentModel;

    @Option(names = "--student-config", paramLabel = "KEY=VALUE", split = ",", description = "The student's model options (see prism info --model).")
    List<String> studentConfig;

    @Option(names = "--lambda-spatial", defaultValue = "1", paramLabel = "L", description = "Weight of the spatial term: output and feature matching (default: ${DEFAULT-VALUE}).")
    double lambdaSpatial;

    @Option(names = "--lambda-freq", defaultValue = "1", paramLabel = "L",
            description = "Weight of the spectrum-aware term, 0 for none (default: ${DEFAULT-VALUE}).")
    double lambdaFreq;

    @Option(names = "--freq-alpha", defaultValue = "1", paramLabel = "A",
            description = "The exponent: the weight is the clean image's spectral magnitude to the power -A (default: ${DEFAULT-VALUE}, "
                    + "the paper's exponent as a restatement of its section 5.2 gives it; see docs/SMALL-MODELS.md).")
    double freqAlpha;

    @Option(names = "--feature-levels", defaultValue = "all", paramLabel = "LEVELS",
            description = "The resolution levels whose decoder features are matched through 1x1 convolutions, as part of the spatial "
                    + "term: all (every level both networks have), none (the outputs only), or a list such as 0,2 (default: ${DEFAULT-VALUE}).")
    String featureLevels;

    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the distillation run in this directory from its checkpoint.")
    Path resume;

    @Option(names = "--hf-images", defaultValue = "500", paramLabel = "M",
            description = "Test images for the final high-frequency error, 0 for none (default: ${DEFAULT-VALUE}).")
    int hfImages;

    @Unmatched
    List<String> trainOptions = new ArrayList<>();

    /**
     * The levels of {@code --feature-levels} (or of a checkpoint's state, named by {@code name}): {@code all} gives null (every
     * level both networks have), {@code none} an empty array, otherwise comma-separated increasing levels ≥ 0. Whether
     * the networks have them is checked when the trainer is built.
     */
    static int[] featureLevels(String name, String text) {
        String v = text.strip();
        if (v.equals("all")) {
            return null;
        }
        if (v.equals("none")) {
            return new int[0];
        }
        String[] parts = v.split(",", -1);
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                out[i] = -1;
            }
            if (out[i] < 0 || (i > 0 && out[i] <= out[i - 1])) {
                throw new IllegalArgumentException(name + " expected all, none or increasing levels >= 0 such as 0,1,2, found '" + text + "'");
            }
        }
        return out;
    }

    /** The teacher in {@code file}: a denoising model built from the file's metadata, with its weights. */
    static Models.Built teacher(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--teacher " + file + ": no such file");
        }
        try (WeightFile wf = WeightFiles.open(file)) {
            Map<String, String> meta = wf.metadata();
            String model = meta.get("model");
            if (model == null || !Models.DENOISERS.contains(model)) {
                throw new IllegalArgumentException("--teacher " + file + ": expected a denoising model (" + String.join(", ", Models.DENOISERS)
                        + ") in its 'model' metadata, found " + (model == null ? "none" : "'" + model + "'"));
            }
            Models.Built b = Models.build(model, Models.fromJson(meta.get("options")), 0);
            ModelWeights.load(b.module(), wf, null);
            return b;
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> args = new ArrayList<>();
        args.add("train");
        Path dir;
        if (resume != null) {
            for (String o : List.of("--teacher", "--student-model", "--student-config", "--lambda-spatial", "--lambda-freq", "--freq-alpha",
                    "--feature-levels")) {
                if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                    throw new IllegalArgumentException(o + ": a resumed run keeps the settings in its checkpoint");
                }
            }
            args.add("--resume");
            args.add(resume.toString());
            dir = resume;
        } else {
            if (teacher == null) {
                throw new IllegalArgumentException("--teacher WEIGHTS is needed for a new run (or --resume RUN)");
            }
            Models.Built t = teacher(teacher);
            args.addAll(List.of("--teacher", teacher.toString(), "--model", studentModel, "--lambda-spatial", Double.toString(lambdaSpatial),
                    "--lambda-freq", Double.toString(lambdaFreq), "--freq-alpha", Double.toString(freqAlpha), "--feature-levels", featureLevels));
            if (studentConfig != null && !studentConfig.isEmpty()) {
                args.add("--config");
                args.add(String.join(",", studentConfig));
            }
            Models.Built student = Models.structure(studentModel, Models.parseOptions(studentConfig));
            int[] levels = featureLevels("--feature-levels", featureLevels);
            int shared = student.module() instanceof UNet su ? FeatureAlignment.shared(su, t.unet()) : Integer.MAX_VALUE;
            if (levels != null && levels.length > 0 && levels[levels.length - 1] >= shared) {
                throw new IllegalArgumentException("--feature-levels expected levels below " + shared + " (the student has "
                        + student.unet().config().levels() + " levels, the teacher " + t.unet().config().levels() + "), found '" + featureLevels + "'");
            }
            long size = student.module().parameterCount();
            out.printf(Locale.ROOT, "teacher: %s (%,d parameters) from %s; student: %s (%,d parameters), %.1fx smaller%n", t.name(),
                    t.module().parameterCount(), teacher, studentModel, size, (double) t.module().parameterCount() / size);
            out.flush();
            dir = outOf(trainOptions);
        }
        args.addAll(trainOptions);
        int code = Main.run(args.toArray(String[]::new), out, err);
        if (code != 0 || hfImages <= 0 || dir == null) {
            return code;
        }
        report(out, dir);
        return 0;
    }

    /** The value of prism train's {@code --out} among the passed-through options, or null. */
    private static Path outOf(List<String> options) {
        for (int i = 0; i < options.size(); i++) {
            String o = options.get(i);
            if (o.equals("--out") && i + 1 < options.size()) {
                return Path.of(options.get(i + 1));
            }
            if (o.startsWith("--out=")) {
                return Path.of(o.substring("--out=".length()));
            }
        }
        return null;
    }

    /** The spectral error of the run's EMA student and of its teacher on the test split, one line each. */
    private void report(PrintWriter out, Path dir) throws IOException {
        Map<String, String> state = Checkpoint.header(dir.resolve("checkpoint.safetensors")).state();
        Models.Built t = teacher(Path.of(state.get("teacher")));
        Models.Built s;
        try (WeightFile wf = WeightFiles.open(dir.resolve("ema.safetensors"))) {
            Map<String, String> meta = wf.metadata();
            s = Models.build(meta.get("model"), Models.fromJson(meta.get("options")), 0);
            ModelWeights.load(s.module(), wf, null);
        }
        int size = Integer.parseInt(state.get("size"));
        DataSet test = TrainCommand.openData(state.get("data"), Integer.parseInt(state.get("channels")), size, FashionMnist.Split.TEST);
        NoiseSchedule sched = TrainCommand.schedule(state.get("schedule"), Integer.parseInt(state.get("timesteps")));
        int m = Math.min(hfImages, test.size());
        BackendOptions backend = new BackendOptions();
        try (Backend b = backend.open(PrismConfig.load())) {
            for (var e : List.of(Map.entry("student", s), Map.entry("teacher", t))) {
                SpectralError.Result r = SpectralError.measure(b, e.getValue().unet(), test, m, 50, sched, 0);
                out.printf(Locale.ROOT, "%s (%,d parameters): eps-prediction error on %d test images: mse %.5f, above half Nyquist %.5f (%.1f %%)%n",
                        e.getKey(), e.getValue().module().parameterCount(), m, r.total(), r.high(), 100 * r.highShare());
            }
        }
        out.flush();
    }
}
