package dev.prism.cli;

import dev.prism.nn.io.PthFile;
import dev.prism.nn.io.WeightEntry;
import dev.prism.nn.io.WeightFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code prism info <weights>}: what a weight file holds, read from its headers without converting data. */
@Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Show the tensors of a weight file (.safetensors, or a PyTorch .pth/.pt state_dict): names, dtypes, shapes,"
                + " the parameter total and the metadata. The format is read from the file's first bytes."})
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "WEIGHTS", description = "The weight file.")
    Path file;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        try (WeightFile w = WeightFiles.open(file)) {
            List<? extends WeightEntry> entries = w.entries();
            long total = 0;
            Table t = new Table("tensor", "dtype", "shape", "parameters").right(3);
            for (WeightEntry e : entries) {
                total += e.numel();
                t.add(e.name(), e.dtype(), shape(e.shape()), e.numel());
            }
            out.println(file + ": " + w.format() + ", " + entries.size() + " tensors, " + total + " parameters");
            t.print(out);
            if (w instanceof PthFile p && !p.ignored().isEmpty()) {
                out.println("not tensors (ignored): " + String.join(", ", p.ignored()));
            }
            Map<String, String> meta = w.metadata();
            if (!meta.isEmpty()) {
                out.println("metadata:");
                meta.forEach((k, v) -> out.println("  " + k + " = " + v));
            }
        }
        out.flush();
        return 0;
    }

    static String shape(int[] s) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < s.length; i++) {
            b.append(i == 0 ? "" : ",").append(s[i]);
        }
        return b.append(']').toString();
    }
}
