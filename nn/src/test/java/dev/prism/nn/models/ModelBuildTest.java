package dev.prism.nn.models;

import dev.prism.nn.Graph;
import dev.prism.nn.ModelShapeException;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFileException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelBuildTest {
    @Test
    void theDeepPrismVaeCountsTwoHundredThirtyTwoParametersPerChannelAgainstTheTable() {
        // DeepPrism Table 3: 29.5K, 57.8K, 114K, 227K. The faithful reading (DeepPrismVae's Javadoc)
        // gives 232·C + 1107, 4.4% to 5.2% above: the count per layer is printed by describe().
        int[] widths = {128, 256, 512, 1024};
        double[] paper = {29.5e3, 57.8e3, 114e3, 227e3};
        for (int i = 0; i < widths.length; i++) {
            long n = Models.build("deepprism-vae", Map.of("width", String.valueOf(widths[i])), 1).module().parameterCount();
            assertEquals(232L * widths[i] + 1107, n, "width " + widths[i]);
            assertTrue(Math.abs(n / paper[i] - 1) < 0.053, "width " + widths[i] + ": " + n + " vs " + paper[i]);
        }
    }

    @Test
    void anInputTheUNetCannotTakeFailsNamingTheLayerBeforeAnyComputation() {
        UNet u = Models.build("unet", Map.of("width", "8", "groups", "4", "levels", "3"), 1).unet();
        Graph g = new Graph("bad");
        var e = assertThrows(ModelShapeException.class, () -> u.forward(g, Tensor.zeros(1, 1, 10, 10), Tensor.zeros(1)));
        assertEquals("layer 'UNet' (UNet): input expected [N, 1, H, W] with H and W divisible by 4, found [1, 1, 10, 10]", e.getMessage());
        e = assertThrows(ModelShapeException.class, () -> u.forward(g, Tensor.zeros(2, 3, 8, 8), Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("input expected [N, 1, H, W]"), e.getMessage());
        e = assertThrows(ModelShapeException.class, () -> u.forward(g, Tensor.zeros(2, 1, 8, 8), Tensor.zeros(3)));
        assertEquals("layer 'UNet' (UNet): timesteps expected [2], found [3]", e.getMessage());
        assertEquals(0, g.forwardLaunches().size(), "nothing may be added before the shapes are checked");
    }

    @Test
    void aLayerGivenTheWrongWidthNamesItsPath() {
        DeepPrismVae vae = (DeepPrismVae) Models.build("deepprism-vae", Map.of("width", "8", "groups", "4"), 1).module();
        var e = assertThrows(ModelShapeException.class, () -> vae.decode(new Graph("g"), Tensor.zeros(1, 3, 2, 2)));
        assertEquals("layer 'DeepPrismVae' (DeepPrismVae): latent expected [N, 4, h, w], found [1, 3, 2, 2]", e.getMessage());
        var layer = new dev.prism.nn.layers.ResBlock(8, 4, dev.prism.nn.layers.ConvType.DEEPPRISM, 0,
                dev.prism.kernels.PrismConv.ChannelPadding.ZEROS);
        e = assertThrows(ModelShapeException.class, () -> layer.forward(new Graph("g"), Tensor.zeros(1, 6, 4, 4)));
        assertEquals("layer 'norm1' (GroupNorm): input expected [N, 8, H, W], found [1, 6, 4, 4]", e.getMessage());
    }

    @Test
    void badOptionsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("widht", "8"), 1));
        assertTrue(e.getMessage().startsWith("model 'unet': unknown option 'widht'; options: in, width,"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("conv", "fancy"), 1));
        assertEquals("conv expected one of [standard, deepprism, separable, cosconv, chebconv], found 'fancy'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("width", "24", "groups", "5"), 1));
        assertEquals("groups expected a divisor of width 24, found 5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("diffusion-xl", Map.of(), 1));
        assertEquals("--model expected one of unet, wg-unet, deepprism-vae, classifier, found 'diffusion-xl'", e.getMessage());
    }

    @Test
    void weightsOfAnotherModelAreRejectedListingEveryProblem() throws Exception {
        // The UNet's weights into the VAE: every name is missing or unexpected, and the file is named.
        Path unetFile = Path.of(ModelBuildTest.class.getResource("/models/unet-standard.safetensors").toURI());
        var vae = Models.build("deepprism-vae", Map.of("width", "8", "groups", "4"), 1).module();
        var e = assertThrows(WeightFileException.class, () -> ModelWeights.load(vae, unetFile, null));
        assertTrue(e.getMessage().contains("unet-standard.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("missing 'encoder.conv_in.weight'"), e.getMessage());
        assertTrue(e.getMessage().contains("unexpected 'conv_in.weight'"), e.getMessage());
    }

    @Test
    void describeListsEveryLayerWithItsParameters() {
        var vae = Models.build("deepprism-vae", Map.of("width", "128"), 1).module();
        String d = vae.describe();
        assertTrue(d.contains("conv_mean (Conv)  4612  weight[4, 128, 3, 3]  bias[4]"), d);
        assertTrue(d.endsWith("total parameters: 30803\n"), d);
    }
}
