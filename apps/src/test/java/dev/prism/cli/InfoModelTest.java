package dev.prism.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InfoModelTest {
    @Test
    void infoModelPrintsTheLayersAndTheTableThreeComparison() {
        CliTest.Result r = BenchCommandTest.run("info", "--model", "deepprism-vae", "--width", "256");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("total parameters: 57847"), r.out());
        assertTrue(r.out().contains("DeepPrism Table 3 gives 57.8K for this width: +0.1%"), r.out());
        assertTrue(r.out().contains("    conv_mean (Conv)  21  weight[3, 6, 1, 1]  bias[3]  subtotal 21"), r.out());
        assertTrue(r.out().contains("conv_in (Conv)"), r.out());
    }

    @Test
    void thePlainUNetOfTheTrainingBenchmarkIsTheDdpmPresetAndItsConfigLine() {
        // README: the --config line and the preset give the same 1,112,801-parameter model.
        CliTest.Result byConfig = BenchCommandTest.run("info", "--model", "unet", "--config", "mults=1,2,2", "--config", "skip=concat",
                "--config", "width=32,res=1");
        assertEquals(0, byConfig.code(), byConfig.err());
        assertTrue(byConfig.out().contains("mults=1,2,2, skip=concat}"), byConfig.out());
        assertTrue(byConfig.out().contains("nin_shortcut (Conv)  3104  weight[32, 96, 1, 1]  bias[32]"), byConfig.out());
        assertTrue(byConfig.out().contains("total parameters: 1112801\n"), byConfig.out());
        CliTest.Result preset = BenchCommandTest.run("info", "--model", "ddpm-unet");
        assertEquals(0, preset.code(), preset.err());
        assertEquals(byConfig.out().substring(byConfig.out().indexOf('\n')), preset.out().substring(preset.out().indexOf('\n')));
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
