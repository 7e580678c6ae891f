package dev.prism.backend;

/**
 * TornadoVM did not finish compiling a plan within {@code prism.tornado.compileTimeoutSeconds}. The
 * thread TornadoVM compiles on cannot be stopped, and TornadoVM's compiler state is shared by the whole
 * process, so after this the TornadoVM backend refuses further plans in this process.
 */
public final class CompileTimeoutException extends DeviceException {
    private final long seconds;

    public CompileTimeoutException(String kernel, String device, long seconds, String stage) {
        super(kernel, device, Phase.COMPILE, "TornadoVM did not finish " + stage + " within " + seconds
                + " s (prism.tornado.compileTimeoutSeconds in tornado.properties); its compiler may be stuck"
                + " (recursion can make it hang), and no further TornadoVM plan can be compiled in this process", null);
        this.seconds = seconds;
    }

    /** The limit that passed, in seconds. */
    public long seconds() {
        return seconds;
    }
}
