package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.TornadoSettings;
import dev.prism.backend.TornadoSupport;
import dev.prism.kernels.VectorWidth;
import picocli.CommandLine.Option;

/** The options every computing command shares: which backend and device, how many JVM threads. */
public final class BackendOptions {
    @Option(names = "--backend", paramLabel = "jvm|jvm-plain|jvm-seq|tornado",
            description = "Backend to compute on (default: prism.backend in tornado.properties, else jvm). jvm-plain: all cores"
                    + " without the hand-vectorised kernel variants.")
    String backend;

    @Option(names = "--device", paramLabel = "BACKEND:INDEX",
            description = "Device, as prism devices lists it: jvm:0, tornado:0, tornado:1, ... (implies the backend).")
    String device;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads of the jvm backend (default: prism.jvm.threads in tornado.properties; 0 = one per processor).")
    Integer threads;

    @Option(names = "--vector-bits", paramLabel = "128|256|512",
            description = "Vector width of the jvm backend's hand-vectorised kernels (default: -Dprism.vector.bits, else the"
                    + " CPU's widest; wider than the CPU's runs emulated, many times slower).")
    Integer vectorBits;

    @Option(names = "--allow-bailout",
            description = "Let TornadoVM run a kernel it cannot compile as sequential Java, with one warning, instead of failing.")
    boolean allowBailout;

    /** The backend these options select, and why: for the one line every command prints. */
    public record Choice(String id, int threads, int tornadoDevice, String reason) {
    }

    public Choice choose(PrismConfig config) {
        pinVectorWidth(vectorBits);
        String id = backend != null ? backend : config.backend();
        String reason = backend != null ? "--backend" : config.source();
        if (!PrismConfig.BACKENDS.contains(id)) {
            throw new IllegalArgumentException("--backend expected one of jvm, jvm-plain, jvm-seq, tornado, found '" + id + "'");
        }
        int tornadoDevice = config.tornado().device();
        if (device != null) {
            String[] parts = device.split(":", -1);
            int index;
            try {
                index = parts.length == 2 ? Integer.parseInt(parts[1]) : -1;
            } catch (NumberFormatException e) {
                index = -1;
            }
            String kind = parts[0];
            if (index < 0 || !(kind.equals("jvm") || kind.equals("tornado")) || (kind.equals("jvm") && index != 0)) {
                throw new IllegalArgumentException("--device expected jvm:0 or tornado:<index>, found '" + device + "'");
            }
            if (backend != null && !backend.startsWith(kind)) {
                throw new IllegalArgumentException("--device " + device + " is not a device of --backend " + backend);
            }
            if (backend == null) {
                id = kind;
                reason = "--device";
            }
            if (kind.equals("tornado")) {
                tornadoDevice = index;
            }
        }
        int t = threads != null ? threads : config.jvmThreads();
        if (t < 0 || t > JvmBackend.MAX_THREADS) {
            throw new IllegalArgumentException("--threads expected 0 to " + JvmBackend.MAX_THREADS + " (0: one per processor), found " + t);
        }
        if (t == 0) {
            t = Runtime.getRuntime().availableProcessors();
        }
        return new Choice(id, t, tornadoDevice, reason);
    }

    /**
     * Fixes the variants' vector width to {@code bits} ({@code --vector-bits}) when given; call it before
     * anything runs a kernel.
     *
     * @throws IllegalArgumentException for a width other than 128, 256 or 512, or when the variants already
     *                                  run at another width
     */
    static void pinVectorWidth(Integer bits) {
        if (bits == null) {
            return;
        }
        try {
            VectorWidth.pin(bits, "--vector-bits");
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
            case "jvm-plain" -> JvmBackend.parallel(c.threads(), false);
            case "jvm-seq" -> JvmBackend.sequential();
            case "tornado" -> {
                TornadoSettings s = config.tornado();
                yield TornadoSupport.open(s.with(c.tornadoDevice(), allowBailout));
            }
            default -> throw new IllegalStateException(c.id());
        };
    }
}
