package dev.prism.backend;

/**
 * A device could not run a plan: a kernel TornadoVM could not compile (and would have run as
 * sequential Java), a device out of memory, a work-group size the device refuses. The message names
 * the kernel, the sizes involved and the setting to change.
 */
public final class DeviceException extends RuntimeException {
    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
