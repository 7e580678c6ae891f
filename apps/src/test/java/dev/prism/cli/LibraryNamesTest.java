package dev.prism.cli;

import dev.prism.backend.DeviceException;
import dev.prism.backend.TornadoSettings;
import dev.prism.kernels.ArgumentException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Library errors name library parameters; the command line names its flags. */
class LibraryNamesTest {
    @Test
    void anUnknownModelIsReportedWithTheFlag() {
        CliTest.Result r = BenchCommandTest.run("info", "--model", "diffusion-xl");
        assertEquals(2, r.code());
        assertEquals("prism: --model expected one of unet, wg-unet, ddpm-unet, deepprism-vae, classifier, wavediff, found 'diffusion-xl'", r.err().strip());
    }

    @Test
    void aParameterTheCommandDoesNotTakeFromAFlagKeepsItsLibraryName() {
        LibraryNames sample = () -> Map.of("model", "--model");
        var e = ArgumentException.expected("size", "a multiple of 4", "10x10");
        assertEquals("size expected a multiple of 4, found 10x10", Main.message(e, sample));
        assertEquals("--model expected x, found y", Main.message(ArgumentException.expected("model", "x", "y"), sample));
        assertEquals("model expected x, found y", Main.message(ArgumentException.expected("model", "x", "y"), new Object()));
    }

    @Test
    void theBailoutSettingIsNamedAsTheFlag() {
        var e = new DeviceException("k", "tornado:0", DeviceException.Phase.COMPILE,
                "TornadoVM counts this as a bailout: with " + TornadoSettings.ALLOW_BAILOUT + " it runs the kernel as Java", null);
        assertEquals("compile of kernel k on tornado:0 failed: TornadoVM counts this as a bailout: with --allow-bailout it runs the kernel as Java",
                Main.message(e, new Object()));
    }
}
