package dev.prism.cli;

import dev.prism.nn.io.PthFile;
import dev.prism.nn.io.WeightEntry;
import dev.prism.nn.io.WeightFile;
import dev.prism.nn.Heap;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import static dev.prism.cli.WeightFiles.printable;

/** {@code prism info <weights>}: what a weight file holds, read from its headers without converting data. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Show the tensors of a weight file (.safetensors, or a PyTorch .pth/.pt state_dict): names, dtypes, shapes,"
                + " the parameter total and the metadata. The format is read from the file's first bytes.",
        "With --model, show that model's layers and parameter counts; with both, check that the file loads into the model.",
        "Names from the file are printed with terminal control characters escaped (\\x1b)."})
final class InfoCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return LibraryNames.of(LibraryNames.MODEL, WeightFiles.LimitOptions.FLAGS);
    }

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "WEIGHTS", arity = "0..1", description = "The weight file.")
    Path file;

    @Option(names = "--model", paramLabel = "NAME", description = "A model: unet, wg-unet, ddpm-unet, deepprism-vae.")
    String model;

    @Option(names = "--config", paramLabel = "KEY=VALUE", split = ",", description = "Model options (repeatable, comma-separated).")
    List<String> config;

    @Option(names = "--width", paramLabel = "C", description = "Shortcut for --config width=C.")
    Integer width;

    @Option(names = "--strip-prefix", paramLabel = "PREFIX", description = "With --model and WEIGHTS: remove this prefix from the tensor names first.")
    String stripPrefix;

    @Mixin
    WeightFiles.LimitOptions pickle;

    /** DeepPrism Table 3: the autoencoder's parameter counts by width. */
    private static final Map<Integer, Double> TABLE_3 = Map.of(128, 29.5e3, 256, 57.8e3, 512, 114e3, 1024, 227e3);

    @Override
    public Integer call() throws java.io.IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (file == null && model == null) {
            throw new IllegalArgumentException("info: expected a WEIGHTS file, --model NAME, or both");
        }
        if (model != null) {
            // The file is opened, and its format checked, before anything is printed: a bad file ends in one line.
            try (WeightFile wf = file != null ? WeightFiles.open(file, pickle.limits()) : null) {
                Map<String, String> options = Models.parseOptions(config);
                if (width != null) {
                    if (width < 1 || width > UNet.MAX_WIDTH) {
                        throw new IllegalArgumentException("--width expected 1 to " + UNet.MAX_WIDTH + ", found " + width);
                    }
                    options.put("width", String.valueOf(width));
                }
                // The structure alone: shapes and counts, no weight allocated, whatever the width.
                Models.Built built = Models.structure(model, options);
                out.println("model " + model + " " + built.options());
                out.print(built.module().describe());
                long n = built.module().parameterCount();
                out.println("fp32 weights: " + Heap.format(built.module().parameterBytes()));
                Double paper = model.equals("deepprism-vae") ? TABLE_3.get(Integer.parseInt(built.options().get("width"))) : null;
                if (paper != null) {
                    out.printf(java.util.Locale.ROOT, "DeepPrism Table 3 gives %.1fK for this width: %+.1f%% (DeepPrismVae's Javadoc derives the count layer by layer)%n",
                            paper / 1e3, 100 * (n / paper - 1));
                }
                if (wf != null) {
                    // Loading allocates the weights: checked against the heap first.
                    Models.checkHeap(built, options);
                    ModelWeights.load(built.module(), wf, stripPrefix);
                    out.println(printable(file + ": every tensor of the model is present with its shape"));
                }
            }
            out.flush();
            return 0;
        }
        try (WeightFile w = WeightFiles.open(file, pickle.limits())) {
            List<? extends WeightEntry> entries = w.entries();
            long total = 0;
            for (WeightEntry e : entries) {
                total += e.numel();
            }
            out.println(printable(file + ": " + w.format() + ", " + entries.size() + " tensors, " + total + " parameters"));
            printTensors(out, entries);
            if (w instanceof PthFile p && !p.ignored().isEmpty()) {
                out.println(printable("not tensors (ignored): " + String.join(", ", p.ignored())));
            }
            Map<String, String> meta = w.metadata();
            if (!meta.isEmpty()) {
                out.println("metadata:");
                meta.forEach((k, v) -> out.println(printable("  " + k + " = " + v)));
            }
        }
        out.flush();
        return 0;
    }

    /**
     * The tensor table, row by row: the rows are made twice from the entries (widths, then lines), so a file
     * of a million tensors is listed without a million rows held in memory.
     */
    private static void printTensors(PrintWriter out, List<? extends WeightEntry> entries) {
        Table.print(out, new String[] {"tensor", "dtype", "shape", "parameters"}, new boolean[] {false, false, false, true},
                () -> entries.stream().map(e -> new String[] {printable(e.name()), e.dtype().name(), shape(e.shape()),
                        String.valueOf(e.numel())}).iterator());
    }

    static String shape(int[] s) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : ",").append(s[i]);
        }
        return b.append(']').toString();
    }
}
