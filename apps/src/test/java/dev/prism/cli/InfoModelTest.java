package dev.prism.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InfoModelTest {
    @Test
    void infoModelPrintsTheLayersAndTheTableThreeComparison() {
        CliTest.Result r = BenchCommandTest.run("info", "--model", "deepprism-vae", "--width", "256");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("total parameters: 60499"), r.out());
        assertTrue(r.out().contains("DeepPrism Table 3 gives 57.8K for this width: +4.7%"), r.out());
        assertTrue(r.out().contains("conv_in (Conv)"), r.out());
    }

    @Test
    void infoModelWithBadOptionsOrNothingEndsWithOneLineAndExitCode2() {
        CliTest.Result r = BenchCommandTest.run("info", "--model", "unet", "--config", "conv=fancy");
        assertEquals(2, r.code());
        assertEquals("prism: conv expected one of [standard, deepprism, separable, cosconv, chebconv], found 'fancy'", r.err().strip());
        r = BenchCommandTest.run("info");
        assertEquals(2, r.code());
        assertEquals("prism: info: expected a WEIGHTS file, --model NAME, or both", r.err().strip());
        r = BenchCommandTest.run("info", "--model", "unet", "--config", "width");
        assertEquals(2, r.code());
        assertEquals("prism: --config expected key=value, found 'width'", r.err().strip());
    }
}
