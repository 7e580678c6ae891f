package dev.prism.cli;

import dev.prism.backend.TornadoSettings;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The settings in {@code tornado.properties}. Flags override them. The file is looked up in
 * {@code -Dprism.home} (set by the {@code prism} launcher), else in the working directory; without one,
 * the built-in defaults apply.
 *
 * <pre>
 * prism.backend=jvm                       jvm | jvm-seq | tornado
 * prism.jvm.threads=0                     0 = one per processor
 * prism.tornado.device=0                  tornado:&lt;index&gt; of prism devices
 * prism.tornado.device.&lt;plan&gt;=1           the device of one task graph (plan name)
 * prism.tornado.workgroup.&lt;kernel&gt;=16,16  local work-group size of a kernel (family.method), per dimension
 * prism.tornado.memoryLimitMb=0           most device memory one plan may use, MB; 0 = no limit
 * prism.tornado.compileTimeoutSeconds=300 how long TornadoVM may compile one plan before Prism gives up
 * prism.tornado.cpuWorkGroup=8            OpenCL CPU devices: largest first-dimension work-group of kernels without one; 0 = TornadoVM's
 * prism.tornado.deviceKernels=auto        auto | on | off: kernels written for a device replace plain loops (auto: not on CPUs)
 * </pre>
 *
 * @param source     where the values came from, for messages
 * @param backend    {@code jvm}, {@code jvm-seq} or {@code tornado}
 * @param jvmThreads threads of the jvm backend, 0 for one per processor
 * @param tornado    the TornadoVM settings ({@code allowBailout} is always false here: it is a flag only)
 */
public record PrismConfig(String source, String backend, int jvmThreads, TornadoSettings tornado) {
    public static final String FILE = "tornado.properties";
    static final Set<String> BACKENDS = Set.of("jvm", "jvm-plain", "jvm-seq", "tornado");
    private static final String DEVICE = "prism.tornado.device";
    private static final String WORKGROUP = "prism.tornado.workgroup.";
    private static final String MEMORY = "prism.tornado.memoryLimitMb";
    private static final String COMPILE_TIMEOUT = "prism.tornado.compileTimeoutSeconds";
    private static final String CPU_WORK_GROUP = "prism.tornado.cpuWorkGroup";
    private static final String DEVICE_KERNELS = "prism.tornado.deviceKernels";

    public PrismConfig {
        if (!BACKENDS.contains(backend)) {
            throw new IllegalArgumentException(source + ": prism.backend expected one of jvm, jvm-plain, jvm-seq, tornado, found '" + backend + "'");
        }
        if (jvmThreads < 0 || jvmThreads > dev.prism.backend.JvmBackend.MAX_THREADS) {
            throw new IllegalArgumentException(source + ": prism.jvm.threads expected 0 to " + dev.prism.backend.JvmBackend.MAX_THREADS
                    + " (0: one per processor), found " + jvmThreads);
        }
    }

    /** Reads the file from {@code -Dprism.home} or the working directory, or returns the defaults. */
    public static PrismConfig load() {
        String home = System.getProperty("prism.home");
        Path p = Path.of(home != null ? home : ".").resolve(FILE);
        return Files.isRegularFile(p) ? read(p)
                : new PrismConfig("built-in defaults (no " + p + ")", "jvm", 0, TornadoSettings.defaults());
    }

    public static PrismConfig read(Path file) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            props.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot be read: " + e.getMessage(), e);
        }
        String src = file.toString();
        int threads = integer(src, props, "prism.jvm.threads", 0);
        int device = integer(src, props, DEVICE, 0);
        Map<String, Integer> planDevices = new LinkedHashMap<>();
        Map<String, int[]> workGroups = new LinkedHashMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith(DEVICE + ".")) {
                planDevices.put(key.substring(DEVICE.length() + 1), integer(src, props, key, 0));
            } else if (key.startsWith(WORKGROUP)) {
                workGroups.put(key.substring(WORKGROUP.length()), sizes(src, key, props.getProperty(key)));
            } else if (!key.equals("prism.backend") && !key.equals("prism.jvm.threads") && !key.equals(DEVICE) && !key.equals(MEMORY)
                    && !key.equals(COMPILE_TIMEOUT) && !key.equals(CPU_WORK_GROUP) && !key.equals(DEVICE_KERNELS)) {
                throw new IllegalArgumentException(src + ": unknown setting '" + key + "'; expected prism.backend, prism.jvm.threads, "
                        + DEVICE + "[.<plan>], " + WORKGROUP + "<kernel>, " + MEMORY + ", " + COMPILE_TIMEOUT + ", " + CPU_WORK_GROUP
                        + " or " + DEVICE_KERNELS);
            }
        }
        TornadoSettings tornado;
        try {
            tornado = new TornadoSettings(device, planDevices, false, workGroups, integer(src, props, MEMORY, 0),
                    integer(src, props, COMPILE_TIMEOUT, (int) TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS),
                    integer(src, props, CPU_WORK_GROUP, TornadoSettings.DEFAULT_CPU_WORK_GROUP),
                    TornadoSettings.DeviceKernels.parse(props.getProperty(DEVICE_KERNELS, "auto")));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(src + ": " + e.getMessage(), e);
        }
        return new PrismConfig(src, props.getProperty("prism.backend", "jvm").trim(), threads, tornado);
    }

    /** The thread count the jvm backend uses under this configuration. */
    public int effectiveThreads() {
        return jvmThreads == 0 ? Runtime.getRuntime().availableProcessors() : jvmThreads;
    }

    private static int integer(String src, Properties props, String key, int fallback) {
        String v = props.getProperty(key);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(src + ": " + key + " expected an integer, found '" + v.trim() + "'");
        }
    }

    private static int[] sizes(String src, String key, String value) {
        try {
            int[] s = Arrays.stream(value.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
            if (s.length < 1 || s.length > 3) {
                throw new NumberFormatException();
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(src + ": " + key + " expected 1 to 3 comma-separated integers, found '" + value.trim() + "'");
        }
    }
}
