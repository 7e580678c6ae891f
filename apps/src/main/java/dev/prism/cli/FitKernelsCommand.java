package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.diffusion.compress.ApproxCompression;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.kernels.Approx;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.models.Models;
import dev.prism.nn.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code prism fit-kernels}: ApproxConv compression of a trained model. Each hidden 3×3 convolution of a UNet (or
 * each stage convolution of the classifier) becomes CosConv / ChebConv coefficients fitted to its kernel by exact
 * least squares ({@link dev.prism.diffusion.compress.KernelFit}); the file written is the same model with
 * {@code conv=cosconv|chebconv} and {@code order=...} in its options metadata, so every command loads it as that model.
 */
@Command(name = "fit-kernels", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, sortOptions = false,
        description = {"Compress a trained model with ApproxConv: replace each hidden convolution kernel (a UNet's residual-block and "
                + "resampling convolutions; the classifier's stage convolutions) by cosine (CosConv) or Chebyshev (ChebConv) series "
                + "coefficients fitted by exact least squares, and write the model with those layers.",
                "Prints per layer the parameters before and after and the fit error (ApproxConv eq. 5: the mean squared "
                        + "difference between the kernel and the series on the kernel's grid, and the relative error |w - w'|/|w|).",
                "Fine-tune the result with prism train --init OUT."})
final class FitKernelsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "A trained model with standard convolutions (its metadata names the model: prism train's ema.safetensors).")
    Path weights;

    @Option(names = "--basis", defaultValue = "cos", paramLabel = "cos|cheb",
            description = "cos: CosConv (ApproxConv eq. 3); cheb: ChebConv (eq. 4) (default: ${DEFAULT-VALUE}).")
    String basis;

    @Option(names = "--orders", required = true, paramLabel = "N[,N...]",
            description = "Coefficients per axis, one per UNet level or classifier stage (ApproxConv's per-block orders, e.g. 3,2,2), "
            + "or one for all; 1 to 3 for 3x3 kernels.")
    String orders;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "The compressed model (safetensors).")
    Path out;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Option(names = "--data", paramLabel = "fashion-mnist|DIR",
            description = "For a classifier: also print the test accuracy of the model before and after the fit (ApproxConv's "
            + "\"Pre Top 1\": before any fine-tuning), on this data set's test split.")
    String data;

    @Mixin
    BackendOptions backend;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        Approx.Basis series = switch (basis.toLowerCase(Locale.ROOT)) {
            case "cos" -> Approx.Basis.COSINE;
            case "cheb" -> Approx.Basis.CHEBYSHEV;
            default -> throw new IllegalArgumentException("--basis expected cos or cheb, found '" + basis + "'");
        };
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("--weights " + weights + ": no such file");
        }
        if (data != null && !"classifier".equals(modelOf(weights))) {
            throw new IllegalArgumentException("--data applies to a classifier (a test accuracy), not to --weights of model "
                    + modelOf(weights) + " (measure a denoiser with prism eval)");
        }
        if (!force && Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("--out " + out + ": exists; pass --force to replace it");
        }
        Map<String, String> meta;
        Models.Built source;
        try (WeightFile wf = WeightFiles.open(weights)) {
            meta = new LinkedHashMap<>(wf.metadata());
            String model = meta.get("model");
            if (model == null || !(Models.DENOISERS.contains(model) || model.equals("classifier"))) {
                throw new IllegalArgumentException("--weights " + weights + ": expected a model of " + String.join(", ", Models.DENOISERS)
                        + " or classifier in its 'model' metadata, found " + (model == null ? "none" : "'" + model + "'"));
            }
            Map<String, String> options = Models.fromJson(meta.get("options"));
            String conv = options.getOrDefault("conv", "standard");
            if (!conv.equals("standard")) {
                throw new IllegalArgumentException("--weights " + weights + ": expected a model with standard convolutions (options "
                        + "metadata conv=standard), found conv=" + conv);
            }
            source = Models.build(model, options, 0);
            ModelWeights.load(source.module(), wf, null);
        }
        Map<String, String> compressedOptions = new LinkedHashMap<>(source.options());
        compressedOptions.put("conv", series == Approx.Basis.COSINE ? "cosconv" : "chebconv");
        compressedOptions.put("order", orders.trim());
        Models.Built target;
        try {
            target = Models.structure(source.name(), compressedOptions);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--orders " + orders + ": " + e.getMessage());
        }
        Models.checkHeap(target, compressedOptions);
        List<ApproxCompression.Layer> layers = ApproxCompression.compress(source.module(), target.module(), series);

        meta.put("options", Checkpoint.json(target.options()));
        meta.put("compressed_from", String.valueOf(weights.getFileName()));
        meta.put("kernel_fit", "least squares, " + basis.toLowerCase(Locale.ROOT) + ", orders " + orders.trim());
        // measured on the source model: no longer this model's figure
        meta.remove("test_accuracy");
        try {
            ModelWeights.save(target.module(), out, meta, force);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException("--out " + out + ": exists; pass --force to replace it");
        }

        Table t = new Table("layer", "shape", "N", "before", "after", "fit mse", "rel. error").right(2, 3, 4, 5, 6);
        long before = 0, after = 0;
        double seconds = 0;
        for (ApproxCompression.Layer l : layers) {
            t.add(l.name(), "[" + l.cout() + "," + l.cin() + "," + l.k() + "," + l.k() + "]", l.order(), String.format(Locale.ROOT, "%,d", l.before()),
                    String.format(Locale.ROOT, "%,d", l.after()), String.format(Locale.ROOT, "%.3e", l.fit().mse()),
                    String.format(Locale.ROOT, "%.4f", l.fit().relativeError()));
            before += l.before();
            after += l.after();
            seconds += l.seconds();
        }
        t.print(stdout);
        long total = source.module().parameterCount(), compressed = target.module().parameterCount();
        stdout.printf(Locale.ROOT, "%d convolutions: %,d -> %,d parameters (%.1f %%); least squares in %.3f s%n", layers.size(), before, after,
                before == 0 ? 100.0 : 100.0 * after / before, seconds);
        stdout.printf(Locale.ROOT, "model %s: %,d -> %,d parameters (%.1f %%)%n", source.name(), total, compressed, 100.0 * compressed / total);
        stdout.println("wrote " + out + " (" + target.name() + ", " + compressedOptions.get("conv") + ", order=" + orders.trim() + ")");
        stdout.flush();
        if (data != null) {
            int size = Integer.parseInt(meta.getOrDefault("image_size", "32"));
            DataSet test = TrainCommand.openData(data, 1, size, FashionMnist.Split.TEST);
            try (Backend b = backend.open(PrismConfig.load())) {
                stdout.printf(Locale.ROOT, "test accuracy on %d images: %.2f %% before, %.2f %% after the fit (no fine-tuning)%n", test.size(),
                        100 * accuracy(b, source, test, size), 100 * accuracy(b, target, test, size));
            }
        }
        return 0;
    }

    private static String modelOf(Path file) {
        try (WeightFile wf = WeightFiles.open(file)) {
            return wf.metadata().get("model");
        }
    }

    private static double accuracy(Backend b, Models.Built model, DataSet test, int size) {
        try (ClassifierFeatures f = new ClassifierFeatures(b, model.classifier(), Math.min(100, test.size()), size, size)) {
            return ClassifierFeatures.accuracy(f.extract(ClassifierFeatures.of(test), test.size(), null), test);
        }
    }
}
