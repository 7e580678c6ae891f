package dev.prism.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.Set;

/**
 * The settings in {@code tornado.properties}: the default backend and the JVM thread count. Flags
 * override them. The file is looked up in {@code -Dprism.home} (set by the {@code prism} launcher),
 * else in the working directory; without one, the built-in defaults apply.
 *
 * @param source     where the values came from, for messages
 * @param backend    {@code jvm}, {@code jvm-seq} or {@code tornado}
 * @param jvmThreads threads of the jvm backend, 0 for one per processor
 */
public record PrismConfig(String source, String backend, int jvmThreads) {
    public static final String FILE = "tornado.properties";
    static final Set<String> BACKENDS = Set.of("jvm", "jvm-seq", "tornado");

    public PrismConfig {
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException(source + ": prism.backend expected one of jvm, jvm-seq, tornado, found '" + backend + "'");
        }
        if (jvmThreads < 0) {
            throw new IllegalArgumentException(source + ": prism.jvm.threads expected >= 0, found " + jvmThreads);
        }
    }

    /** Reads the file from {@code -Dprism.home} or the working directory, or returns the defaults. */
    public static PrismConfig load() {
        String home = System.getProperty("prism.home");
        Path p = Path.of(home != null ? home : ".").resolve(FILE);
        return Files.isRegularFile(p) ? read(p) : new PrismConfig("built-in defaults (no " + p + ")", "jvm", 0);
    }

    public static PrismConfig read(Path file) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            props.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot be read: " + e.getMessage(), e);
        }
        String threads = props.getProperty("prism.jvm.threads", "0").trim();
        int t;
        try {
            t = Integer.parseInt(threads);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": prism.jvm.threads expected an integer, found '" + threads + "'");
        }
        return new PrismConfig(file.toString(), props.getProperty("prism.backend", "jvm").trim(), t);
    }

    /** The thread count the jvm backend uses under this configuration. */
    public int effectiveThreads() {
        return jvmThreads == 0 ? Runtime.getRuntime().availableProcessors() : jvmThreads;
    }
}
