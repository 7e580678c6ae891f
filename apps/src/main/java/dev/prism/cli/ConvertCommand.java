package dev.prism.cli;

import dev.prism.nn.Tensor;
import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.io.WeightEntry;
import dev.prism.nn.io.WeightFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code prism convert IN OUT}: any weight file Prism reads to an fp32 safetensors file, atomically. */
@Command(name = "convert", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Convert a weight file (a PyTorch .pth/.pt state_dict, or safetensors) to an fp32 safetensors file.",
        "Every tensor keeps its name; F16 and BF16 convert exactly. The metadata records the source file's name"
                + " ('source'). OUT is written atomically: on any error it is left as it was."})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The weight file to read.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The safetensors file to write.")
    Path out;

    @Option(names = "--force", description = "Replace OUT if it exists.")
    boolean force;

    @Option(names = "--skip-non-float",
            description = "Leave out tensors that are not F32, F16 or BF16 (e.g. BatchNorm's int64 num_batches_tracked) instead of failing.")
    boolean skipNonFloat;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (!force && Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(out + ": exists; pass --force to replace it");
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        long total = 0;
        try (WeightFile w = WeightFiles.open(in)) {
            List<String> nonFloat = new ArrayList<>();
            for (WeightEntry e : w.entries()) {
                if (!e.dtype().loadsAsFloat()) {
                    nonFloat.add("'" + e.name() + "' (" + e.dtype() + ")");
                }
            }
            if (!nonFloat.isEmpty() && !skipNonFloat) {
                throw new IllegalArgumentException(in + ": " + nonFloat.size() + " tensors are not F32, F16 or BF16: "
                        + String.join(", ", nonFloat) + "; pass --skip-non-float to leave them out");
            }
            for (WeightEntry e : w.entries()) {
                if (e.dtype().loadsAsFloat()) {
                    Tensor t = e.toTensor();
                    tensors.put(e.name(), t);
                    total += t.numel();
                }
            }
            skipped.addAll(nonFloat);
            metadata.putAll(w.metadata());
        }
        metadata.putIfAbsent("format", "pt");
        metadata.put("source", String.valueOf(in.getFileName()));
        try {
            SafetensorsWriter.write(out, tensors, metadata, force);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(out + ": exists; pass --force to replace it");
        } catch (IOException e) {
            throw WeightFiles.io(out, e);
        }
        stdout.println("wrote " + out + ": " + tensors.size() + " tensors, " + total + " parameters, fp32, from " + in);
        for (String s : skipped) {
            stdout.println("skipped " + s + ": not a float tensor");
        }
        stdout.flush();
        return 0;
    }
}
