package dev.prism.nn.io;

import dev.prism.nn.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Loads exactly a model's parameter set from a weight file: every expected name must be present with
 * the expected shape and a float dtype, and no other tensor may be there. All problems are collected
 * and reported together in one {@link WeightFileException}, e.g.
 * <pre>model.safetensors: 2 problems: missing 'down.0.weight' [64,3,3,3]; shape of 'up.1.bias': expected [64], found [32]</pre>
 *
 * <p>The expected set is a map from name to shape, in the order the model wants its parameters back
 * (a {@link java.util.LinkedHashMap}); a model layer can build it from its own parameters. Names
 * follow PyTorch's {@code state_dict} names for the same architecture.
 *
 * <p>A key prefix such as {@code "module."} (what {@code nn.DataParallel} adds) is removed only when
 * asked: with {@code stripPrefix} set, names that start with it lose it and other names are kept as
 * they are; two names that become equal are a problem. Nothing is converted unless there is no
 * problem at all, so a failed load costs no more than reading the headers.
 *
 * <p>Stateless; as thread-safe as the {@link WeightFile} it reads.
 */
public final class StrictLoad {
    /** The prefix {@code nn.DataParallel} and {@code DistributedDataParallel} put before every name. */
    private static final String DATA_PARALLEL = "module.";

    private StrictLoad() {
    }

    /** Whether every name starts with {@code prefix} and, without it, is one of the expected names. */
    private static boolean allUnder(java.util.Set<String> names, Map<String, int[]> expected, String prefix) {
        for (String n : names) {
            if (!n.startsWith(prefix) || !expected.containsKey(n.substring(prefix.length()))) {
                return false;
            }
        }
        return !names.isEmpty();
    }

    /** {@link #load(WeightFile, Map, String)} with no prefix stripped. */
    public static Map<String, Tensor> load(WeightFile file, Map<String, int[]> expected) {
        return load(file, expected, null);
    }

    /**
     * Converts the tensors {@code expected} names to fp32, after checking that the file holds exactly
     * those names, with those shapes, in F32, F16 or BF16.
     *
     * @param file        the open weight file (not closed here)
     * @param expected    name → shape the model needs, in the order of the result; not modified
     * @param stripPrefix a prefix removed from the file's names that start with it, or null for none
     * @return name → tensor, in {@code expected}'s order; new arrays, valid after the file is closed
     * @throws WeightFileException listing every missing, unexpected, mis-shaped and non-float tensor
     */
    public static Map<String, Tensor> load(WeightFile file, Map<String, int[]> expected, String stripPrefix) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(expected, "expected");
        List<String> problems = new ArrayList<>();
        Map<String, WeightEntry> found = new LinkedHashMap<>();
        for (WeightEntry e : file.entries()) {
            String name = e.name();
            if (stripPrefix != null && !stripPrefix.isEmpty() && name.startsWith(stripPrefix)) {
                name = name.substring(stripPrefix.length());
            }
            WeightEntry before = found.putIfAbsent(name, e);
            if (before != null) {
                problems.add("'" + before.name() + "' and '" + e.name() + "' both become '" + name + "' when '"
                        + stripPrefix + "' is stripped");
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (Map.Entry<String, int[]> x : expected.entrySet()) {
            WeightEntry e = found.get(x.getKey());
            int[] shape = Objects.requireNonNull(x.getValue(), () -> "expected shape of '" + x.getKey() + "'");
            if (e == null) {
                missing.add("missing '" + x.getKey() + "' " + Floats.shape(shape));
                continue;
            }
            if (!Arrays.equals(e.shape(), shape)) {
                mismatched.add("shape of '" + x.getKey() + "': expected " + Floats.shape(shape) + ", found " + Floats.shape(e.shape()));
            }
            if (!e.dtype().loadsAsFloat()) {
                mismatched.add("dtype of '" + x.getKey() + "': expected " + DType.floatNames() + ", found " + e.dtype());
            }
        }
        problems.addAll(missing);
        problems.addAll(mismatched);
        for (Map.Entry<String, WeightEntry> f : found.entrySet()) {
            if (!expected.containsKey(f.getKey())) {
                WeightEntry e = f.getValue();
                problems.add("unexpected '" + e.name() + "' " + e.dtype() + Floats.shape(e.shape()));
            }
        }
        if (!problems.isEmpty()) {
            String hint = (stripPrefix == null || stripPrefix.isEmpty()) && allUnder(found.keySet(), expected, DATA_PARALLEL)
                    ? ". Every name starts with '" + DATA_PARALLEL + "' (DistributedDataParallel's prefix) and the rest are the model's:"
                    + " strip it (--strip-prefix " + DATA_PARALLEL + ")" : "";
            throw new WeightFileException(file.source(), problems.size() + (problems.size() == 1 ? " problem: " : " problems: ")
                    + String.join("; ", problems) + hint);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : expected.keySet()) {
            out.put(name, found.get(name).toTensor());
        }
        return Collections.unmodifiableMap(out);
    }
}
