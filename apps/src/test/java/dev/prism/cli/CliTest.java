package dev.prism.cli;

import dev.prism.backend.TornadoSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CliTest {
    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void devicesListsTheJvmBackendsAndTornadoDevicesOrWhyNot() {
        Result r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("jvm-seq"), r.out());
        assertTrue(r.out().contains("jvm-plain"), r.out());
        assertTrue(r.out().contains("default: jvm"), r.out());
        String reason = TornadoSupport.unavailableReason();
        if (reason == null) {
            assertTrue(r.out().contains("tornado:0"), r.out());
        } else {
            assertTrue(r.out().contains("not in use: " + reason), r.out());
        }
    }

    @Test
    void everyCommandPrintsItsUsageOnHelpEvenWithRequiredOptionsMissing() {
        for (String command : new String[] {"devices", "kernels", "bench", "sample", "info", "convert"}) {
            Result r = run(command, "--help");
            assertEquals(0, r.code(), command + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: prism " + command), command + ": " + r.out());
        }
    }

    @Test
    void topLevelHelpNamesTheSparkCommandsThatOnlyTheLauncherAdds() {
        Result r = run("--help");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("  sample-many  One image per seed"), r.out());
        assertTrue(r.out().contains("  eval-many    The Frechet distance"), r.out());
    }

    @Test
    void kernelCheckPassesOnEveryKernelAtSmallSize() {
        Result r = run("kernels", "--check", "--size", "small", "--threads", "3");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("kernels match the reference"), r.out());
        assertTrue(r.out().contains("haar.dwt2"), r.out());
    }

    @Test
    void badOptionValuesEndWithOneLineNamingTheOptionAndExitCode2() {
        Result r = run("kernels", "--check", "--backend", "gpu");
        assertEquals(2, r.code());
        assertEquals("prism: --backend expected one of jvm, jvm-plain, jvm-seq, tornado, found 'gpu'", r.err().strip());

        r = run("kernels", "--check", "--size", "huge");
        assertEquals(2, r.code());
        assertEquals("prism: --size expected small or model, found 'huge'", r.err().strip());

        r = run("kernels", "--check", "-k", "nosuchkernel");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: kernel filter 'nosuchkernel' matches no kernel; known: "), r.err());

        r = run("kernels", "--check", "--threads", "-3");
        assertEquals(2, r.code());
        assertEquals("prism: --threads expected 0 to 1024 (0: one per processor), found -3", r.err().strip());
    }

    @Test
    void tornadoBackendWithoutTornadoVmIsAnErrorWithTheReason() {
        assumeTrue(TornadoSupport.unavailableReason() != null, "TornadoVM is usable in this JVM");
        Result r = run("kernels", "--check", "--backend", "tornado");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("prism: --backend tornado: "), r.err());
    }

    @Test
    @Tag("tornado")
    void kernelCheckOnTornadoMatchesTheReference() {
        assumeTrue(TornadoSupport.unavailableReason() == null, () -> "TornadoVM not usable: " + TornadoSupport.unavailableReason());
        Result r = run("kernels", "--check", "--size", "small", "--device", "tornado:0", "-k", "haar,chain");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("backend: tornado"), r.out());
        assertTrue(r.out().contains("chain.resblocks"), r.out());
    }
}
