package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import picocli.CommandLine.Option;

/** The options every computing command shares: which backend, how many JVM threads. */
public final class BackendOptions {
    @Option(names = "--backend", paramLabel = "jvm|jvm-seq|tornado",
            description = "Backend to compute on (default: prism.backend in tornado.properties, else jvm).")
    String backend;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads of the jvm backend (default: prism.jvm.threads in tornado.properties; 0 = one per processor).")
    Integer threads;

    /** The backend id these options select, and why: for the one line every command prints. */
    public record Choice(String id, int threads, String reason) {
    }

    public Choice choose(PrismConfig config) {
        String id = backend != null ? backend : config.backend();
        String reason = backend != null ? "--backend" : config.source();
        if (!PrismConfig.BACKENDS.contains(id)) {
            throw new IllegalArgumentException("--backend expected one of jvm, jvm-seq, tornado, found '" + id + "'");
        }
        int t = threads != null ? threads : config.jvmThreads();
        if (t < 0) {
            throw new IllegalArgumentException("--threads expected >= 0, found " + t);
        }
        if (t == 0) {
            t = Runtime.getRuntime().availableProcessors();
        }
        return new Choice(id, t, reason);
    }

    /**
     * Opens the selected backend.
     *
     * @throws IllegalArgumentException when the backend cannot run here, with the reason
     */
    public Backend open(PrismConfig config) {
        Choice c = choose(config);
        return switch (c.id()) {
            case "jvm" -> JvmBackend.parallel(c.threads());
            case "jvm-seq" -> JvmBackend.sequential();
            case "tornado" -> throw new IllegalArgumentException("--backend tornado: " + TornadoStatus.probe().reason());
            default -> throw new IllegalStateException(c.id());
        };
    }
}
