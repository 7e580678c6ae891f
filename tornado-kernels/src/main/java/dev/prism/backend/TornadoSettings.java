package dev.prism.backend;

import java.util.Map;

/**
 * How the TornadoVM backend runs.
 *
 * @param device       index into the TornadoVM device list of {@code prism devices} ({@code tornado:<index>})
 * @param planDevices  per plan name, a device index overriding {@code device} (one task graph per plan)
 * @param allowBailout when false (the default), a kernel TornadoVM cannot compile fails the run; when true,
 *                     Prism warns once and the plan runs as TornadoVM's sequential Java fallback
 * @param workGroups   per kernel name ({@code family.method}), the local work-group size, one entry per
 *                     parallel dimension of that kernel
 * @param memoryLimitMb the most device memory one plan may use, in MB (10⁶ bytes), or 0 for no limit:
 *                     TornadoVM refuses a plan that needs more, and Prism names the setting
 */
public record TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups,
                              long memoryLimitMb) {

    /** Settings without a memory limit. */
    public TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups) {
        this(device, planDevices, allowBailout, workGroups, 0);
    }

    public TornadoSettings {
        if (device < 0) {
            throw new IllegalArgumentException("tornado device index expected >= 0, found " + device);
        }
        if (memoryLimitMb < 0) {
            throw new IllegalArgumentException("prism.tornado.memoryLimitMb expected >= 0 (0: no limit), found " + memoryLimitMb);
        }
        planDevices = Map.copyOf(planDevices);
        workGroups = Map.copyOf(workGroups);
        for (var e : workGroups.entrySet()) {
            for (int v : e.getValue()) {
                if (v <= 0) {
                    throw new IllegalArgumentException("work-group size of kernel '" + e.getKey() + "' expected > 0 in every dimension, found " + v);
                }
            }
        }
    }

    public static TornadoSettings defaults() {
        return new TornadoSettings(0, Map.of(), false, Map.of());
    }

    /** The device a plan named {@code plan} runs on. */
    public int deviceFor(String plan) {
        return planDevices.getOrDefault(plan, device);
    }
}
