package dev.prism.backend.tornado;

import dev.prism.backend.Backend;
import dev.prism.backend.DeviceInfo;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.backend.TornadoSettings;
import dev.prism.kernels.ArgumentException;
import dev.prism.backend.Launch;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs Prism's kernel methods through TornadoVM on an OpenCL, PTX or SPIR-V device.
 *
 * <p>Each {@link Plan} becomes one TaskGraph, built and compiled once: constants are transferred on the
 * first execution only, inputs on every execution, outputs come back after every execution, and every
 * other buffer (activations, scratch) lives on the device between launches and between executions.
 * A plan TornadoVM cannot compile fails with a {@link dev.prism.backend.DeviceException} naming the
 * kernel, unless {@link TornadoSettings#allowBailout()} is set, in which case Prism warns once and
 * TornadoVM's sequential fallback runs.
 *
 * <p>Open it through {@link dev.prism.backend.TornadoSupport#open(TornadoSettings)}; this class exists
 * only in builds made with the {@code tornado} Maven profile.
 */
public final class TornadoVmBackend implements Backend {
    private final TornadoSettings settings;
    private final List<Located> devices;
    private boolean warnedBailout;

    /** A device and where TornadoVM keeps it. */
    record Located(DeviceInfo info, int backend, int device, TornadoDevice handle) {
    }

    private TornadoVmBackend(TornadoSettings settings, List<Located> devices) {
        this.settings = settings;
        this.devices = devices;
    }

    /**
     * Opens the backend on the devices TornadoVM finds.
     *
     * @throws IllegalArgumentException if the configured device index names no device
     */
    public static TornadoVmBackend open(TornadoSettings settings) {
        List<Located> found = locate();
        if (found.isEmpty()) {
            throw new ArgumentException("backend", "tornado: TornadoVM found no device (is an OpenCL/PTX/SPIR-V driver installed?)");
        }
        checkIndex("device", settings.device(), found);
        for (var e : settings.planDevices().entrySet()) {
            checkIndex("prism.tornado.device." + e.getKey(), e.getValue(), found);
        }
        if (!"false".equals(System.getProperty("tornado.enable.nativeFunctions"))) {
            System.err.println("prism: warning: TornadoVM's native math functions are on (-Dtornado.enable.nativeFunctions=false"
                    + " is missing): sin, cos and exp become driver approximations and results may differ from the JVM beyond 1e-5");
        }
        return new TornadoVmBackend(settings, found);
    }

    /** The devices of every TornadoVM driver, numbered {@code tornado:0, tornado:1, ...} in driver order. */
    public static List<DeviceInfo> devices() {
        return locate().stream().map(Located::info).toList();
    }

    private static List<Located> locate() {
        TornadoRuntime rt = TornadoRuntimeProvider.getTornadoRuntime();
        List<Located> out = new ArrayList<>();
        for (int b = 0; b < rt.getNumBackends(); b++) {
            uk.ac.manchester.tornado.api.TornadoBackend be = rt.getBackend(b);
            for (int d = 0; d < be.getNumDevices(); d++) {
                TornadoDevice dev = be.getDevice(d);
                DeviceInfo info = new DeviceInfo("tornado:" + out.size(), String.valueOf(dev.getTornadoVMBackend()),
                        dev.getPlatformName(), dev.getPhysicalDevice().getDeviceName(), String.valueOf(dev.getDeviceType()),
                        dev.getMaxGlobalMemory());
                out.add(new Located(info, b, d, dev));
            }
        }
        return out;
    }

    /** A device index of {@code setting} ({@code device}, the settings' own, or a plan's property) that names a device. */
    private static void checkIndex(String setting, int index, List<Located> found) {
        if (index >= found.size()) {
            throw ArgumentException.expected(setting, "a TornadoVM device index in [0, " + (found.size() - 1)
                    + "] (TornadoSupport.devices() lists them)", index);
        }
    }

    @Override
    public String id() {
        return "tornado";
    }

    @Override
    public String description() {
        DeviceInfo d = devices.get(settings.device()).info();
        boolean cpuOpenCl = d.type().toUpperCase(java.util.Locale.ROOT).contains("CPU") && d.driver().toUpperCase(java.util.Locale.ROOT).contains("OPENCL");
        String groups = cpuOpenCl ? settings.cpuWorkGroup() > 0 ? "; CPU work-groups up to " + settings.cpuWorkGroup() : "; CPU work-groups off" : "";
        String variants = "; device kernels " + settings.deviceKernels().name().toLowerCase(java.util.Locale.ROOT)
                + (settings.deviceKernels().appliesTo(d.type()) ? " (used)" : " (not used on this device)");
        return "TornadoVM, " + d.id() + ": " + d.name() + " (" + d.driver() + ", " + d.platform() + ")" + groups + variants;
    }

    /** The device a plan of this name runs on. */
    Located deviceFor(String plan) {
        return devices.get(settings.deviceFor(plan));
    }

    TornadoSettings settings() {
        return settings;
    }

    /** Prints the bailout warning the first time only; returns whether it printed. */
    synchronized boolean warnBailoutOnce(String message) {
        if (warnedBailout) {
            return false;
        }
        warnedBailout = true;
        System.err.println("prism: warning: " + message);
        return true;
    }

    /**
     * Runs one launch as a one-task plan: every array argument goes to the device and the written ones
     * come back. Convenient for tests; plans are the way to run many kernels.
     */
    @Override
    public void run(Launch launch) {
        Plan.Builder b = Plan.builder(launch.kernel()).add(launch);
        Map<float[], Boolean> written = new IdentityHashMap<>();
        for (float[] o : launch.outputs()) {
            written.put(o, true);
        }
        for (Object a : launch.args()) {
            if (a instanceof float[] f) {
                // Written arrays may also be read (in-place kernels), so every array goes down.
                b.inputs(f);
                if (written.containsKey(f)) {
                    b.outputs(f);
                }
            }
        }
        try (Executable e = compile(b.build())) {
            e.execute();
        }
    }

    @Override
    public Executable compile(Plan plan) {
        return new TornadoExecutable(this, plan);
    }

    @Override
    public void close() {
    }
}
