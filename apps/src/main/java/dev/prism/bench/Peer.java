package dev.prism.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The PyTorch CPU peer, measured in the same session: runs {@code tools/peers/torch_peer.py} with
 * Debian's interpreter (which has PyTorch 1.13, SciPy) for the same cases and thread count, and reads
 * its medians.
 *
 * @param description the peer's versions and thread count, as the script reports them
 * @param medians     median milliseconds by catalog case name (cases without a PyTorch counterpart are absent)
 */
public record Peer(String description, Map<String, Double> medians) {

    /**
     * Runs the peer script.
     *
     * @param python  the interpreter, normally {@code /usr/bin/python3}
     * @param script  {@code tools/peers/torch_peer.py}
     * @param threads the thread count PyTorch and SciPy use (the same as Prism's)
     * @param filter  name prefixes, empty for all
     * @throws IllegalArgumentException when the interpreter or its packages are missing, with how to install them
     */
    public static Peer run(Path python, Path script, int threads, List<String> filter) {
        if (!Files.isExecutable(python)) {
            throw new IllegalArgumentException("--python " + python + " is not an executable; the peer needs Debian's python3 with"
                    + " PyTorch (scripts/setup-machine.sh peers)");
        }
        if (!Files.isRegularFile(script)) {
            throw new IllegalArgumentException("the peer script " + script + " is missing");
        }
        try {
            Path out = Files.createTempFile("prism-peer", ".tsv");
            try {
                List<String> cmd = new java.util.ArrayList<>(List.of(python.toString(), script.toString(),
                        "--threads", Integer.toString(threads), "--tsv", out.toString()));
                if (!filter.isEmpty()) {
                    cmd.add("--filter");
                    cmd.add(String.join(",", filter));
                }
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                    String last = log.lines().reduce((a, b) -> b).orElse("");
                    throw new IllegalArgumentException("the PyTorch peer failed (" + python + " " + script + "): " + last
                            + (log.contains("ModuleNotFoundError") ? "; install it with scripts/setup-machine.sh peers" : ""));
                }
                return parse(Files.readAllLines(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("running the PyTorch peer " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the PyTorch peer ran", e);
        }
    }

    /**
     * Times the official WaveDiff sampler in PyTorch: {@code tools/refgen/wavediff.py PRESET --time}, which builds
     * the official generator from the checkout {@code src} (random weights), and runs {@code sample_from_model},
     * the ×2, an inverse Haar in torch and the clamp, once untimed and then {@code repeats} times.
     *
     * @param script {@code tools/refgen/wavediff.py}
     * @param src    a checkout of the official code (VinAIResearch/WaveDiff)
     * @param name   the case name the median is filed under
     * @return the median under {@code name}, in milliseconds
     * @throws IllegalArgumentException when the interpreter is missing or the script fails, with its last line
     */
    public static Peer officialWaveDiff(Path python, Path script, Path src, String preset, int batch, int threads, int repeats,
                                        String name) {
        if (!Files.isExecutable(python)) {
            throw new IllegalArgumentException("--python " + python + " is not an executable; the peer needs Debian's python3 with"
                    + " PyTorch (scripts/setup-machine.sh peers)");
        }
        List<String> cmd = List.of(python.toString(), script.toString(), preset, "--time", "--src", src.toString(),
                "--batch", Integer.toString(batch), "--threads", Integer.toString(threads), "--repeats", Integer.toString(repeats));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String last = log.lines().reduce((a, b) -> b).orElse("");
            if (!p.waitFor(60, TimeUnit.MINUTES) || p.exitValue() != 0) {
                throw new IllegalArgumentException("the official WaveDiff peer failed (" + String.join(" ", cmd) + "): " + last);
            }
            return parseWaveDiff(last, name);
        } catch (IOException e) {
            throw new IllegalArgumentException("running the official WaveDiff peer " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the official WaveDiff peer ran", e);
        }
    }

    /** Reads the one JSON line of {@code wavediff.py --time}: its median (seconds) and what ran. */
    static Peer parseWaveDiff(String line, String name) {
        try (com.fasterxml.jackson.core.JsonParser jp = new com.fasterxml.jackson.core.JsonFactory().createParser(line)) {
            Map<String, String> fields = new LinkedHashMap<>();
            if (jp.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("the official WaveDiff peer: expected a JSON line, found '" + line + "'");
            }
            while (jp.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String key = jp.currentName();
                if (jp.nextToken().isStructStart()) {
                    jp.skipChildren();
                } else {
                    fields.put(key, jp.getText());
                }
            }
            String median = fields.get("median");
            if (median == null) {
                throw new IllegalArgumentException("the official WaveDiff peer: expected a median in its JSON line, found '" + line + "'");
            }
            String description = "PyTorch " + fields.getOrDefault("torch", "?") + ", the official WaveDiff code (" + fields.get("case")
                    + ", batch " + fields.get("batch") + ", " + fields.get("steps") + " steps) on " + fields.get("threads")
                    + " threads, median of " + fields.getOrDefault("repeats", "?") + " runs after one untimed";
            return new Peer(description, Map.of(name, Double.parseDouble(median) * 1e3));
        } catch (IOException | NumberFormatException e) {
            throw new IllegalArgumentException("the official WaveDiff peer: expected a JSON line, found '" + line + "'", e);
        }
    }

    static Peer parse(List<String> lines) {
        String description = "PyTorch";
        Map<String, Double> medians = new LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.split("\t");
            if (f[0].equals("#peer")) {
                description = f.length > 1 ? f[1] : description;
            } else if (f.length >= 2) {
                medians.put(f[0], Double.parseDouble(f[1]));
            }
        }
        return new Peer(description, medians);
    }
}
