package dev.prism.cli;

import java.util.Map;

/**
 * A command whose options pass values to the library under the library's own parameter names: for each
 * such name ({@code model}, {@code options}, {@code size}, {@code backend}), the flag the user typed. An
 * {@link dev.prism.kernels.ArgumentException} for one of them is reported with the flag instead
 * ({@code --config expected key=value, found 'width'}).
 */
interface LibraryNames {
    /** Library parameter name → this command's flag. */
    Map<String, String> flags();

    /** The flags of the backend options ({@link BackendOptions}), for commands that have them. */
    Map<String, String> BACKEND = Map.of("backend", "--backend", "device", "--device");

    /** The flags of a command that builds a model from {@code --model} and {@code --config}. */
    Map<String, String> MODEL = Map.of("model", "--model", "options", "--config");

    /** The union of {@code parts} (later ones win). */
    @SafeVarargs
    static Map<String, String> of(Map<String, String>... parts) {
        Map<String, String> all = new java.util.HashMap<>();
        for (Map<String, String> p : parts) {
            all.putAll(p);
        }
        return Map.copyOf(all);
    }
}
