package dev.prism.nn;

import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.io.StrictLoad;
import dev.prism.nn.io.WeightFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Loads a module's parameters from a weight file, strictly, and saves them as safetensors. */
public final class ModelWeights {
    private ModelWeights() {
    }

    /**
     * Loads every parameter of {@code model} from {@code file} (safetensors or a PyTorch state_dict),
     * by its state_dict name. Missing, unexpected and mis-shaped tensors are all listed in one
     * {@link dev.prism.nn.io.WeightFileException} naming the file; nothing is changed then.
     *
     * @param stripPrefix a key prefix to remove first (e.g. {@code "module."}), or null
     * @return the file's metadata
     */
    public static Map<String, String> load(Module model, Path file, String stripPrefix) throws IOException {
        try (WeightFile wf = WeightFile.open(file)) {
            return load(model, wf, stripPrefix);
        }
    }

    /** {@link #load(Module, Path, String)} from an open weight file (e.g. a resource read into memory); does not close it. */
    public static Map<String, String> load(Module model, WeightFile wf, String stripPrefix) {
        Map<String, Tensor> tensors = stripPrefix == null ? StrictLoad.load(wf, model.expectedShapes())
                : StrictLoad.load(wf, model.expectedShapes(), stripPrefix);
        for (Parameter p : model.parameters()) {
            p.load(tensors.get(p.name()));
        }
        return wf.metadata();
    }

    /** Writes every parameter of {@code model} as fp32 safetensors, atomically, with {@code metadata}. */
    public static void save(Module model, Path file, Map<String, String> metadata, boolean replace) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Parameter p : model.parameters()) {
            tensors.put(p.name(), p.value());
        }
        SafetensorsWriter.write(file, tensors, metadata, replace);
    }
}
