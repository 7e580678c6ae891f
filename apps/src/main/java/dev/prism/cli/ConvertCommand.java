package dev.prism.cli;

import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.io.WeightEntry;
import dev.prism.nn.io.WeightFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

import static dev.prism.cli.WeightFiles.printable;

/**
 * {@code prism convert IN OUT}: any weight file Prism reads to an fp32 safetensors file, atomically and
 * streamed: each tensor is converted and written a block at a time, so memory does not grow with the file.
 */
@Command(name = "convert", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = {
        "Convert a weight file (a PyTorch .pth/.pt state_dict, or safetensors) to an fp32 safetensors file.",
        "Every tensor keeps its name; F16 and BF16 convert exactly. The metadata records the source file's name"
                + " ('source'). OUT is written atomically: on any error or interrupt it is left as it was.",
        "Tensors are streamed a block at a time, so files larger than the JVM's heap convert."})
final class ConvertCommand implements Callable<Integer>, LibraryNames {
    @Override
    public Map<String, String> flags() {
        return WeightFiles.LimitOptions.FLAGS;
    }

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

    @Mixin
    WeightFiles.LimitOptions pickle;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (!force && Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(out + ": exists; pass --force to replace it");
        }
        List<WeightEntry> keep = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        long total = 0;
        try (WeightFile w = WeightFiles.open(in, pickle.limits())) {
            for (WeightEntry e : w.entries()) {
                if (e.dtype().loadsAsFloat()) {
                    keep.add(e);
                    total += e.numel();
                } else {
                    skipped.add("'" + e.name() + "' (" + e.dtype() + ")");
                }
            }
            if (!skipped.isEmpty() && !skipNonFloat) {
                throw new IllegalArgumentException(in + ": " + skipped.size() + " tensors are not F32, F16 or BF16: "
                        + String.join(", ", skipped) + "; pass --skip-non-float to leave them out");
            }
            metadata.putAll(w.metadata());
            metadata.putIfAbsent("format", "pt");
            metadata.put("source", String.valueOf(in.getFileName()));
            // Inside the try: the entries read from the open file while the output is written.
            SafetensorsWriter.writeEntries(out, keep, metadata, force);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(out + ": " + (e.getReason() != null ? e.getReason() : "exists; pass --force to replace it"));
        } catch (IOException e) {
            throw WeightFiles.io(out, e);
        }
        stdout.println(printable("wrote " + out + ": " + keep.size() + " tensors, " + total + " parameters, fp32, from " + in));
        for (String s : skipped) {
            stdout.println(printable("skipped " + s + ": not a float tensor"));
        }
        stdout.flush();
        return 0;
    }
}
