package dev.prism.backend;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A kernel that {@link KernelScan} refuses: it holds a construct TornadoVM cannot compile (recursion,
 * a call it cannot translate, allocation, exceptions, synchronisation, static state). Thrown before
 * TornadoVM sees the kernel, in the compile phase; the message names the kernel, the device, and each
 * offending call or instruction with its source line.
 */
public final class UnsupportedKernelException extends DeviceException {
    private final List<KernelScan.Finding> findings;

    public UnsupportedKernelException(String kernel, String device, List<KernelScan.Finding> findings) {
        super(kernel, device, Phase.COMPILE, "Prism's kernel scan refused it before TornadoVM saw it: "
                + findings.stream().map(KernelScan.Finding::toString).collect(Collectors.joining("; "))
                + ". A kernel may use loops over its array and scalar arguments, static calls into its own class"
                + " and java.lang.Math's " + KernelScan.mathNames() + " (docs/KERNELS.md)", null);
        this.findings = List.copyOf(findings);
    }

    /** What the scan found, in code order. */
    public List<KernelScan.Finding> findings() {
        return findings;
    }
}
