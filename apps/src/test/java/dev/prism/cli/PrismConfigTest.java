package dev.prism.cli;

import dev.prism.backend.TornadoSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrismConfigTest {
    static PrismConfig read(Path dir, String text) throws IOException {
        Path f = dir.resolve("tornado.properties");
        Files.writeString(f, text);
        return PrismConfig.read(f);
    }

    @Test
    void everySettingIsRead(@TempDir Path dir) throws IOException {
        PrismConfig c = read(dir, """
                prism.backend=tornado
                prism.jvm.threads=3
                prism.tornado.device=1
                prism.tornado.device.sampler=2
                prism.tornado.workgroup.haar.dwt2=8, 4
                prism.tornado.memoryLimitMb=512
                prism.tornado.compileTimeoutSeconds=45
                prism.tornado.cpuWorkGroup=16
                prism.tornado.deviceKernels=ON
                """);
        assertEquals("tornado", c.backend());
        assertEquals(3, c.jvmThreads());
        assertEquals(1, c.tornado().device());
        assertEquals(2, c.tornado().deviceFor("sampler"));
        assertEquals(1, c.tornado().deviceFor("other"));
        assertArrayEquals(new int[] {8, 4}, c.tornado().workGroups().get("haar.dwt2"));
        assertEquals(512, c.tornado().memoryLimitMb());
        assertEquals(45, c.tornado().compileTimeoutSeconds());
        assertEquals(16, c.tornado().cpuWorkGroup());
        assertEquals(16, c.tornado().with(0, true).cpuWorkGroup(), "the command line's device and bailout flags keep the work-group");
        assertEquals(TornadoSettings.DeviceKernels.ON, c.tornado().deviceKernels());
        assertEquals(TornadoSettings.DeviceKernels.ON, c.tornado().with(0, true).deviceKernels(), "the flags keep the choice");
        assertEquals(45, c.tornado().with(0, true).compileTimeoutSeconds(), "the command line's device and bailout flags keep the limit");
    }

    @Test
    void theCompileTimeLimitHasADefaultAndTheShippedFileStatesIt(@TempDir Path dir) throws IOException {
        assertEquals(TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS, read(dir, "prism.backend=jvm\n").tornado().compileTimeoutSeconds());
        // The repository's tornado.properties (the module runs in apps/) says what the default is.
        PrismConfig shipped = PrismConfig.read(Path.of("..", PrismConfig.FILE));
        assertEquals(TornadoSettings.DEFAULT_COMPILE_TIMEOUT_SECONDS, shipped.tornado().compileTimeoutSeconds());
    }

    @Test
    void theCpuWorkGroupHasADefaultAndTheShippedFileStatesIt(@TempDir Path dir) throws IOException {
        assertEquals(TornadoSettings.DEFAULT_CPU_WORK_GROUP, read(dir, "prism.backend=jvm\n").tornado().cpuWorkGroup());
        PrismConfig shipped = PrismConfig.read(Path.of("..", PrismConfig.FILE));
        assertEquals(TornadoSettings.DEFAULT_CPU_WORK_GROUP, shipped.tornado().cpuWorkGroup());
    }

    @Test
    void deviceKernelsDefaultToAutoWhichSkipsCpusAndTheShippedFileStatesIt(@TempDir Path dir) throws IOException {
        assertEquals(TornadoSettings.DeviceKernels.AUTO, read(dir, "prism.backend=jvm\n").tornado().deviceKernels());
        PrismConfig shipped = PrismConfig.read(Path.of("..", PrismConfig.FILE));
        assertEquals(TornadoSettings.DeviceKernels.AUTO, shipped.tornado().deviceKernels());
        assertFalse(TornadoSettings.DeviceKernels.AUTO.appliesTo("CPU"));
        assertTrue(TornadoSettings.DeviceKernels.AUTO.appliesTo("GPU"));
        assertTrue(TornadoSettings.DeviceKernels.ON.appliesTo("CPU"));
        assertFalse(TornadoSettings.DeviceKernels.OFF.appliesTo("GPU"));
    }

    @Test
    void badSettingsNameTheFileAndTheKey(@TempDir Path dir) {
        String f = dir.resolve("tornado.properties").toString();
        var e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.backend=gpu\n"));
        assertEquals(f + ": prism.backend expected one of jvm, jvm-plain, jvm-seq, tornado, found 'gpu'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.workgroup.haar.dwt2=8,x\n"));
        assertEquals(f + ": prism.tornado.workgroup.haar.dwt2 expected 1 to 3 comma-separated integers, found '8,x'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.workgroup.haar.dwt2=8,0\n"));
        assertEquals(f + ": work-group size of kernel 'haar.dwt2' expected > 0 in every dimension, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.memoryLimitMb=-5\n"));
        assertEquals(f + ": prism.tornado.memoryLimitMb expected >= 0 (0: no limit), found -5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.compileTimeoutSeconds=0\n"));
        assertEquals(f + ": prism.tornado.compileTimeoutSeconds expected > 0, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.cpuWorkGroup=-1\n"));
        assertEquals(f + ": prism.tornado.cpuWorkGroup expected >= 0 (0: TornadoVM's CPU scheduler), found -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.tornado.deviceKernels=yes\n"));
        assertEquals(f + ": prism.tornado.deviceKernels expected auto, on or off, found 'yes'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> read(dir, "prism.jvm.thread=2\n"));
        assertEquals(f + ": unknown setting 'prism.jvm.thread'; expected prism.backend, prism.jvm.threads, prism.tornado.device[.<plan>],"
                + " prism.tornado.workgroup.<kernel>, prism.tornado.memoryLimitMb, prism.tornado.compileTimeoutSeconds, prism.tornado.cpuWorkGroup"
                + " or prism.tornado.deviceKernels",
                e.getMessage());
    }
}
