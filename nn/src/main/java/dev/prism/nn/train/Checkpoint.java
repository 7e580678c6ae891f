package dev.prism.nn.train;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.AtomicWrite;
import dev.prism.nn.io.SafetensorsWriter;
import dev.prism.nn.io.StrictLoad;
import dev.prism.nn.io.WeightFile;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A training run's checkpoint: one safetensors file with the weights, the EMA weights and AdamW's two
 * moments of every parameter, and the run's state (step, seed, configuration) in its metadata; plus the
 * same state as a small JSON file beside it, for people and scripts.
 *
 * <p>Tensor names: a parameter's {@code state_dict} name for its weights, and {@code ema.},
 * {@code exp_avg.}, {@code exp_avg_sq.} before it for the EMA and the moments (PyTorch's names for
 * AdamW's state). Metadata: {@code format = prism-checkpoint}, {@code version = 1}, {@code model},
 * {@code options} (what {@code Models.build} takes) and {@code state}, a JSON object of strings.
 *
 * <p>Both files are written atomically (a temporary file, then a rename), the safetensors file first,
 * so a process killed at any moment leaves the previous checkpoint or the new one, whole. The
 * safetensors file is the authority: {@link #read} takes the state from its metadata, never from the
 * JSON file, which may lag by one checkpoint if the process died between the two renames.
 */
public final class Checkpoint {
    /** The value of the {@code format} metadata. */
    public static final String FORMAT = "prism-checkpoint";
    /** The version this code writes and reads. */
    public static final int VERSION = 1;

    private static final JsonFactory JSON = new JsonFactory();

    /** What a checkpoint file holds, read back. */
    public record Contents(String model, Map<String, String> options, Map<String, String> state,
                           Map<String, Tensor> weights, Map<String, Tensor> ema,
                           Map<String, Tensor> expAvg, Map<String, Tensor> expAvgSq) {
    }

    private Checkpoint() {
    }

    /**
     * Writes {@code file} (safetensors) and {@code file} with the extension {@code .json}, atomically,
     * replacing earlier ones. The states must hold host values ({@link TrainingStep#fetch} first).
     */
    public static void write(Path file, String model, Map<String, String> options, Map<String, String> state,
                             List<TrainingStep.State> states) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TrainingStep.State s : states) {
            Parameter p = s.parameter();
            int[] shape = p.shape();
            tensors.put(p.name(), p.value());
            tensors.put("ema." + p.name(), Tensor.of(s.ema(), shape));
            tensors.put("exp_avg." + p.name(), Tensor.of(s.m(), shape));
            tensors.put("exp_avg_sq." + p.name(), Tensor.of(s.v(), shape));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("version", String.valueOf(VERSION));
        meta.put("model", model);
        meta.put("options", json(options));
        meta.put("state", json(state));
        SafetensorsWriter.write(file, tensors, meta, true);
        byte[] text = (json(state) + "\n").getBytes(StandardCharsets.UTF_8);
        AtomicWrite.write(jsonOf(file), true, ch -> ch.write(ByteBuffer.wrap(text)));
    }

    /** The JSON file beside a checkpoint: {@code run/checkpoint.safetensors} → {@code run/checkpoint.json}. */
    public static Path jsonOf(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return file.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".json");
    }

    /**
     * Reads a checkpoint whose model has the parameter shapes {@code expected} (name → shape): every
     * weight, EMA weight and moment must be there with that shape, and nothing else.
     *
     * @throws CheckpointException naming the file when it is not a Prism checkpoint, has another
     *                             version, or lacks or mis-shapes a tensor
     */
    public static Contents read(Path file, Map<String, int[]> expected) throws IOException {
        try (WeightFile wf = WeightFile.open(file)) {
            Map<String, String> meta = wf.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointException(file + ": expected metadata format '" + FORMAT + "', found "
                        + (meta.get("format") == null ? "none (not a Prism checkpoint)" : "'" + meta.get("format") + "'"));
            }
            if (!String.valueOf(VERSION).equals(meta.get("version"))) {
                throw new CheckpointException(file + ": checkpoint version " + meta.get("version") + " is not supported (this Prism reads version "
                        + VERSION + ")");
            }
            Map<String, int[]> all = new LinkedHashMap<>();
            for (var e : expected.entrySet()) {
                all.put(e.getKey(), e.getValue());
                all.put("ema." + e.getKey(), e.getValue());
                all.put("exp_avg." + e.getKey(), e.getValue());
                all.put("exp_avg_sq." + e.getKey(), e.getValue());
            }
            Map<String, Tensor> t = StrictLoad.load(wf, all);
            Map<String, Tensor> w = new LinkedHashMap<>(), ema = new LinkedHashMap<>(), m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
            for (String name : expected.keySet()) {
                w.put(name, t.get(name));
                ema.put(name, t.get("ema." + name));
                m.put(name, t.get("exp_avg." + name));
                v.put(name, t.get("exp_avg_sq." + name));
            }
            return new Contents(meta.get("model"), parse(file, "options", meta.get("options")), parse(file, "state", meta.get("state")),
                    w, ema, m, v);
        }
    }

    /** The model name and options of a checkpoint, without reading its tensors. */
    public static Contents header(Path file) throws IOException {
        try (WeightFile wf = WeightFile.open(file)) {
            Map<String, String> meta = wf.metadata();
            if (!FORMAT.equals(meta.get("format"))) {
                throw new CheckpointException(file + ": expected metadata format '" + FORMAT + "', found "
                        + (meta.get("format") == null ? "none (not a Prism checkpoint)" : "'" + meta.get("format") + "'"));
            }
            return new Contents(meta.get("model"), parse(file, "options", meta.get("options")), parse(file, "state", meta.get("state")),
                    Map.of(), Map.of(), Map.of(), Map.of());
        }
    }

    /**
     * Copies a checkpoint's contents into a training step's host buffers: weights, moments and EMA, by
     * parameter name. Call before the step's first {@link TrainingStep#run}.
     */
    public static void restore(Contents c, TrainingStep step) {
        for (TrainingStep.State s : step.states().values()) {
            String name = s.parameter().name();
            s.parameter().load(c.weights().get(name));
            copy(c.ema().get(name), s.ema());
            copy(c.expAvg().get(name), s.m());
            copy(c.expAvgSq().get(name), s.v());
        }
    }

    private static void copy(Tensor from, float[] to) {
        System.arraycopy(from.data(), 0, to, 0, to.length);
    }

    /** A flat JSON object of strings, keys sorted. */
    public static String json(Map<String, String> map) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            for (var e : new TreeMap<>(map).entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }

    private static Map<String, String> parse(Path file, String what, String json) {
        Map<String, String> out = new TreeMap<>();
        if (json == null) {
            throw new CheckpointException(file + ": metadata '" + what + "' is missing");
        }
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointException(file + ": metadata '" + what + "' expected a JSON object, found '" + json + "'");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String k = p.currentName();
                JsonToken v = p.nextToken();
                if (v == null || !v.isScalarValue()) {
                    throw new CheckpointException(file + ": metadata '" + what + "': value of '" + k + "' expected a string, found a structure");
                }
                out.put(k, p.getText());
            }
        } catch (IOException e) {
            throw new CheckpointException(file + ": metadata '" + what + "' is not valid JSON: " + e.getMessage());
        }
        return out;
    }
}
