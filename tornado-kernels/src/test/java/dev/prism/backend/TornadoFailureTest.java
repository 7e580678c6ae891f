package dev.prism.backend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a user meets when a kernel cannot run on TornadoVM, each case in a process of its own (as the
 * {@code prism} command would run it): the message, and that the process ends within the compile time
 * limit. Needs a TornadoVM SDK: {@code TORNADOVM_HOME=... ./mvnw -Ptornado verify} (docs/BACKENDS.md, TornadoVM).
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class TornadoFailureTest {
    /** Time a child JVM may take beyond the compile limit to start TornadoVM and end, on a loaded machine. */
    private static final long STARTUP_SECONDS = 60;
    private static final Pattern AFTER = Pattern.compile("after_ms=(\\d+)");

    @BeforeAll
    static void needsTornado() {
        String reason = TornadoSupport.unavailableReason();
        assumeTrue(reason == null, () -> "TornadoVM is not usable in this JVM: " + reason + " (run with -Ptornado)");
    }

    private record Run(int exit, String output, long wallMillis) {
        long afterMillis() {
            Matcher m = AFTER.matcher(output);
            assertTrue(m.find(), output);
            return Long.parseLong(m.group(1));
        }
    }

    /** Runs {@link TornadoFailureMain} on {@code kernel} and asserts that the process ends in time. */
    private static Run child(String kernel, long limitSeconds, String... jvmOptions) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + System.getenv("TORNADOVM_HOME") + "/tornado-argfile",
                "-Dtornado.load.annotation.parallel=dev.prism.kernels.Parallel", "-Dtornado.recover.bailout=false",
                "-Dtornado.enable.nativeFunctions=false", "-Djdk.graal.MaximumInliningSize=1000"));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TornadoFailureMain.class.getName(), kernel,
                String.valueOf(limitSeconds)));
        Path out = Files.createTempFile("tornado-failure-", ".log");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = p.waitFor(limitSeconds + STARTUP_SECONDS, TimeUnit.SECONDS);
        long wall = (System.nanoTime() - t0) / 1_000_000;
        if (!ended) {
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(out);
        Files.delete(out);
        assertTrue(ended, kernel + ": the process did not end within " + (limitSeconds + STARTUP_SECONDS) + " s:\n" + output);
        System.out.println(kernel + " " + String.join(" ", jvmOptions) + ": the process ended after " + wall + " ms (limit "
                + limitSeconds + " s)");
        return new Run(p.exitValue(), output, wall);
    }

    @Test
    void mathRandomIsRefusedNamingTheKernelTheDeviceThePhaseAndTheLine() throws Exception {
        Run r = child("random", 60);
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("failure: UnsupportedKernelException phase=compile"), r.output());
        assertTrue(r.output().contains("prism: compile of kernel 'refused.random' (RefusedKernels.random) on tornado:0 ("), r.output());
        assertTrue(r.output().contains("calls java.lang.Math.random(), which TornadoVM does not compile at RefusedKernels.java:"
                + KernelScanTest.lineOf("random")), r.output());
        assertTrue(r.afterMillis() < 60_000, r.output());
    }

    @Test
    void aRecursiveKernelIsRefusedBeforeTornadoVMCanHangOnIt() throws Exception {
        Run direct = child("selfRecursive", 60);
        assertEquals(1, direct.exit(), direct.output());
        assertTrue(direct.output().contains("failure: UnsupportedKernelException phase=compile"), direct.output());
        assertTrue(direct.output().contains("recursion: RefusedKernels.selfRecursive → RefusedKernels.selfRecursive"), direct.output());
        Run helpers = child("throughHelpers", 60);
        assertEquals(1, helpers.exit(), helpers.output());
        assertTrue(helpers.output().contains("recursion: RefusedKernels.ping → RefusedKernels.pong → RefusedKernels.ping"
                + " (device code has no call stack; TornadoVM's compiler can hang on it) at RefusedKernels.java:"
                + KernelScanTest.lineOf("pong")), helpers.output());
    }

    @Test
    void aCompilationThatHangsEndsAtTheTimeLimitWithATypedErrorNamingTheKernel() throws Exception {
        // Without the scan, TornadoVM's sketcher deadlocks on this kernel (its lock is held while it waits
        // for a sketch of the recursive call); without the limit the process would never end.
        long limit = 5;
        Run r = child("selfRecursive", limit, "-Dprism.tornado.kernelScan=false");
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("failure: CompileTimeoutException phase=compile"), r.output());
        assertTrue(r.output().contains("prism: compile of kernel 'refused.selfRecursive' (RefusedKernels.selfRecursive) on tornado:0 ("), r.output());
        assertTrue(r.output().contains("TornadoVM did not finish building its task graph (TornadoVM's sketch of the kernel) within 5 s"
                + " (prism.tornado.compileTimeoutSeconds in tornado.properties)"), r.output());
        assertTrue(r.afterMillis() >= limit * 1000 && r.afterMillis() < limit * 1000 + 3000,
                "the failure came " + r.afterMillis() + " ms after compilation began; the limit is " + limit + " s");
    }

    @Test
    void aKernelTornadoVMCannotCompileNamesKernelDeviceAndPhaseAndDoesNotSuggestTheBailout() throws Exception {
        Run r = child("strided", 60);
        assertEquals(1, r.exit(), r.output());
        assertTrue(r.output().contains("failure: DeviceException phase=compile"), r.output());
        assertTrue(r.output().contains("prism: compile of kernel 'refused.strided' (RefusedKernels.strided) on tornado:0 ("), r.output());
        assertTrue(r.output().contains("TornadoVM could not build the kernel's task (its sketch): TornadoBailoutRuntimeException:"
                + " Unable to build sketch for method: strided (Failed to parallelize because of non-constant loop strides"), r.output());
        assertTrue(r.output().contains(TornadoSettings.ALLOW_BAILOUT + " would not help"), r.output());
        // And indeed it does not: with bailouts allowed the same kernel fails the same way.
        Run allowed = child("strided", 60, "-Dtornado.recover.bailout=true");
        assertEquals(1, allowed.exit(), allowed.output());
        assertTrue(allowed.output().contains("Unable to build sketch for method: strided"), allowed.output());
    }

    @Test
    void theBailoutIsSuggestedWhereTornadoVMWouldFallBackAndTheFallbackThenRuns() throws Exception {
        // Math.random() past the scan: TornadoVM's compiler fails with a NullPointerException, which its
        // device driver turns into a bailout when bailouts are allowed.
        Run refused = child("random", 60, "-Dprism.tornado.kernelScan=false");
        assertEquals(1, refused.exit(), refused.output());
        assertTrue(refused.output().contains("failure: DeviceException phase=compile"), refused.output());
        assertTrue(refused.output().contains("prism: compile of kernel 'refused.random' (RefusedKernels.random) on tornado:0 ("), refused.output());
        assertTrue(refused.output().contains("TornadoVM counts this as a bailout: with TornadoSettings.allowBailout it runs the kernel as sequential Java"),
                refused.output());
        Run allowed = child("random", 60, "-Dprism.tornado.kernelScan=false", "-Dtornado.recover.bailout=true");
        assertEquals(0, allowed.exit(), allowed.output());
        assertTrue(allowed.output().contains("as sequential Java on the host, not on the device (a bailout)"), allowed.output());
        assertFalse(allowed.output().contains("failure:"), allowed.output());
    }
}
