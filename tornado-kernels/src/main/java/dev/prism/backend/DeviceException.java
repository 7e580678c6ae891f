package dev.prism.backend;

/**
 * A device could not run a plan: a kernel TornadoVM could not compile (and would have run as
 * sequential Java), a device out of memory, a work-group size the device refuses. The message names
 * the kernel, the device, the phase that failed, the sizes involved and the setting to change.
 */
public class DeviceException extends RuntimeException {
    /** Where on the way to the device a plan failed. */
    public enum Phase {
        /** Turning the kernel methods into device code (TornadoVM's sketch and JIT compilation). */
        COMPILE("compile"),
        /** Allocating device memory and moving buffers between host and device. */
        TRANSFER("transfer"),
        /** Running the compiled kernels on the device. */
        LAUNCH("launch");

        private final String word;

        Phase(String word) {
            this.word = word;
        }

        @Override
        public String toString() {
            return word;
        }
    }

    private final String kernel;
    private final String device;
    private final Phase phase;

    public DeviceException(String message) {
        this(message, (Throwable) null);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
        this.kernel = null;
        this.device = null;
        this.phase = null;
    }

    /**
     * A failure of {@code kernel} on {@code device} in {@code phase}; the message starts with those three
     * and goes on with {@code detail}.
     *
     * @param kernel the kernel, or the kernels of a plan when the failure is not one kernel's
     * @param device the device, as {@code prism devices} names it (id and name)
     */
    public DeviceException(String kernel, String device, Phase phase, String detail, Throwable cause) {
        super(phase + " of kernel " + kernel + " on " + device + " failed: " + detail, cause);
        this.kernel = kernel;
        this.device = device;
        this.phase = phase;
    }

    /** The kernel (or kernels) that failed, or null when the message does not name one. */
    public String kernel() {
        return kernel;
    }

    /** The device, or null when the message does not name one. */
    public String device() {
        return device;
    }

    /** The phase that failed, or null when the message does not say. */
    public Phase phase() {
        return phase;
    }
}
