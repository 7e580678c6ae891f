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
 * @param compileTimeoutSeconds how long TornadoVM may take to compile one plan (building its task graphs
 *                     and compiling every kernel) before Prism gives up with a
 *                     {@link CompileTimeoutException} naming the kernel
 * @param cpuWorkGroup on an OpenCL CPU device, for a kernel without a {@code workGroups} entry, the largest
 *                     work-group along the kernel's first dimension (the largest divisor of its count up to this
 *                     value and the device's limit, 1 along the others), or 0 to leave the launch to TornadoVM's CPU scheduler, which
 *                     runs one work-item per compute unit; kernels a worker grid would break
 *                     ({@link ParallelBounds}) always get TornadoVM's scheduler
 * @param deviceKernels where the kernels written for a device through TornadoVM's kernel API (work-groups, local
 *                     memory) replace the plain loops of the kernels that have one: {@link DeviceKernels#AUTO} on
 *                     devices that are not CPUs, {@link DeviceKernels#ON} everywhere, {@link DeviceKernels#OFF} nowhere;
 *                     a kernel with a {@code workGroups} entry always runs its plain loops
 */
public record TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups,
                              long memoryLimitMb, long compileTimeoutSeconds, int cpuWorkGroup, DeviceKernels deviceKernels) {

    /** Where the device variants of kernels run instead of their plain loops ({@code prism.tornado.deviceKernels}). */
    public enum DeviceKernels {
        /** On devices that are not CPUs: on PoCL's CPU device the variants measured slower than the plain loops. */
        AUTO,
        /** On every device. */
        ON,
        /** Nowhere: every kernel runs its plain loops. */
        OFF;

        /** {@code auto}, {@code on} or {@code off}, any case; anything else names the setting and the value. */
        public static DeviceKernels parse(String value) {
            for (DeviceKernels d : values()) {
                if (d.name().equalsIgnoreCase(value.trim())) {
                    return d;
                }
            }
            throw new IllegalArgumentException("prism.tornado.deviceKernels expected auto, on or off, found '" + value.trim() + "'");
        }

        /** Whether the variants run on a device of this type ({@code CPU}, {@code GPU}, ... as TornadoVM reports it). */
        public boolean appliesTo(String deviceType) {
            return this == ON || this == AUTO && !deviceType.toUpperCase(java.util.Locale.ROOT).contains("CPU");
        }
    }

    /** The default of {@code prism.tornado.cpuWorkGroup}. */
    public static final int DEFAULT_CPU_WORK_GROUP = 8;

    /**
     * The default of {@code prism.tornado.compileTimeoutSeconds}: about 45 times what the largest plans
     * Prism builds (a UNet forward pass, 134 launches; a whole sampling run, 136) took to build and
     * compile on PoCL's CPU device here, 6.6 s and 4.8 s (docs/BACKENDS.md, TornadoVM).
     */
    public static final long DEFAULT_COMPILE_TIMEOUT_SECONDS = 300;

    /**
     * How the backend's messages name {@link #allowBailout()}; a program that sets it another way (the
     * command line's flag) can replace this text with its own name.
     */
    public static final String ALLOW_BAILOUT = "TornadoSettings.allowBailout";

    /** Settings without a memory limit. */
    public TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups) {
        this(device, planDevices, allowBailout, workGroups, 0);
    }

    /** Settings with the default compile time limit. */
    public TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups,
                           long memoryLimitMb) {
        this(device, planDevices, allowBailout, workGroups, memoryLimitMb, DEFAULT_COMPILE_TIMEOUT_SECONDS);
    }

    /** Settings with the default choice of device kernels. */
    public TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups,
                           long memoryLimitMb, long compileTimeoutSeconds, int cpuWorkGroup) {
        this(device, planDevices, allowBailout, workGroups, memoryLimitMb, compileTimeoutSeconds, cpuWorkGroup, DeviceKernels.AUTO);
    }

    /** Settings with the default CPU work-group. */
    public TornadoSettings(int device, Map<String, Integer> planDevices, boolean allowBailout, Map<String, int[]> workGroups,
                           long memoryLimitMb, long compileTimeoutSeconds) {
        this(device, planDevices, allowBailout, workGroups, memoryLimitMb, compileTimeoutSeconds, DEFAULT_CPU_WORK_GROUP);
    }

    public TornadoSettings {
        if (device < 0) {
            throw new IllegalArgumentException("tornado device index expected >= 0, found " + device);
        }
        if (memoryLimitMb < 0) {
            throw new IllegalArgumentException("prism.tornado.memoryLimitMb expected >= 0 (0: no limit), found " + memoryLimitMb);
        }
        if (compileTimeoutSeconds <= 0) {
            throw new IllegalArgumentException("prism.tornado.compileTimeoutSeconds expected > 0, found " + compileTimeoutSeconds);
        }
        if (cpuWorkGroup < 0) {
            throw new IllegalArgumentException("prism.tornado.cpuWorkGroup expected >= 0 (0: TornadoVM's CPU scheduler), found " + cpuWorkGroup);
        }
        java.util.Objects.requireNonNull(deviceKernels, "deviceKernels");
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

    /** These settings with another device and bailout choice (the command line's flags). */
    public TornadoSettings with(int device, boolean allowBailout) {
        return new TornadoSettings(device, planDevices, allowBailout, workGroups, memoryLimitMb, compileTimeoutSeconds, cpuWorkGroup,
                deviceKernels);
    }

    /** The device a plan named {@code plan} runs on. */
    public int deviceFor(String plan) {
        return planDevices.getOrDefault(plan, device);
    }
}
