package dev.prism.nn.models;

import dev.prism.kernels.ArgumentException;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelShapeException;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;
import dev.prism.nn.io.WeightFileException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelBuildTest {
    /** DeepPrism Table 3: the autoencoder's parameter counts by width. */
    private static final int[] TABLE_3_WIDTHS = {128, 256, 512, 1024};
    private static final double[] TABLE_3 = {29.5e3, 57.8e3, 114e3, 227e3};

    @Test
    void theDeepPrismVaeIsWithinTwoPercentOfTableThreeAtEveryWidth() {
        for (int i = 0; i < TABLE_3_WIDTHS.length; i++) {
            long n = Models.build("deepprism-vae", Map.of("width", String.valueOf(TABLE_3_WIDTHS[i])), 1).module().parameterCount();
            double off = n / TABLE_3[i] - 1;
            assertTrue(Math.abs(off) < 0.02, "width " + TABLE_3_WIDTHS[i] + ": " + n + " vs " + TABLE_3[i] + " (" + 100 * off + "%)");
            // The table's figures are the counts truncated to three digits.
            assertEquals((long) TABLE_3[i], Math.round(Math.floor(n / Math.pow(10, digits(n) - 3)) * Math.pow(10, digits(n) - 3)),
                    "width " + TABLE_3_WIDTHS[i] + ": " + n);
        }
    }

    private static int digits(long n) {
        return String.valueOf(n).length();
    }

    @Test
    void theDeepPrismVaeCountsTwoHundredTwentyOnePerChannelLayerByLayer() {
        // DeepPrismVae's Javadoc: 221·C + 1271 for in = 3, z = 3, and where each term comes from.
        for (int c : new int[] {64, 128, 256, 512, 1024}) {
            Module vae = Models.build("deepprism-vae", Map.of("width", String.valueOf(c)), 1).module();
            Map<String, Long> parts = new TreeMap<>();
            for (Parameter p : vae.parameters()) {
                parts.merge(part(p), (long) p.numel(), Long::sum);
            }
            Map<String, Long> expected = new TreeMap<>(Map.of(
                    "encoder.conv_in", 28L * c, "encoder.conv_out", 54L * c + 6, "encoder.conv_mean+logvar", 2 * 21L,
                    "decoder.post_quant_conv", 12L, "decoder.conv_in", 28L * c, "decoder.conv_out", 27L * c + 3,
                    "group norms", (19 * 2 + 2 + 2) * 2L * c, "deepprism convolutions", 42 * 28L, "prismattn projections", 8 * 4L));
            assertEquals(expected, parts, "width " + c);
            assertEquals(221L * c + 1271, vae.parameterCount(), "width " + c);
            assertEquals(vae.parameterCount(), DeepPrismVae.parameterCount(3, c, 3), "width " + c);
        }
        // Other image and latent channels: the formula follows them.
        for (int[] o : new int[][] {{1, 16, 4}, {4, 32, 8}}) {
            Module vae = Models.build("deepprism-vae", Map.of("in", String.valueOf(o[0]), "width", String.valueOf(o[1]),
                    "z", String.valueOf(o[2]), "groups", "4"), 1).module();
            assertEquals(vae.parameterCount(), DeepPrismVae.parameterCount(o[0], o[1], o[2]), java.util.Arrays.toString(o));
        }
    }

    private static String part(Parameter p) {
        String n = p.name();
        String layer = n.substring(0, n.lastIndexOf('.'));
        if (n.contains("norm")) {
            return "group norms";
        }
        if (layer.matches(".*\\.(conv1|conv2|downsample\\.conv|upsample\\.conv)")) {
            return "deepprism convolutions";
        }
        if (layer.matches(".*\\.attn\\.(q|k|v|proj_out)")) {
            return "prismattn projections";
        }
        return layer.equals("encoder.conv_mean") || layer.equals("encoder.conv_logvar") ? "encoder.conv_mean+logvar" : layer;
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
        var e = assertThrows(ModelShapeException.class, () -> vae.decode(new Graph("g"), Tensor.zeros(1, 4, 2, 2)));
        assertEquals("layer 'DeepPrismVae' (DeepPrismVae): latent expected [N, 3, h, w], found [1, 4, 2, 2]", e.getMessage());
        e = assertThrows(ModelShapeException.class, () -> vae.encode(new Graph("g"), Tensor.zeros(1, 3, 6, 8)));
        assertEquals("layer 'DeepPrismVae' (DeepPrismVae): input expected [N, 3, H, W] with H and W divisible by 4, found [1, 3, 6, 8]",
                e.getMessage());
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
        var unknown = assertThrows(ArgumentException.class, () -> Models.build("diffusion-xl", Map.of(), 1));
        assertEquals("model", unknown.argument());
        assertEquals("model expected one of unet, wg-unet, ddpm-unet, deepprism-vae, classifier, wavediff, found 'diffusion-xl'", unknown.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("mults", "1,2"), 1));
        assertEquals("option mults expected 1 or 3 values (levels=3), found 2 in '1,2'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("mults", "1,x,2"), 1));
        assertEquals("option mults expected integers, found 'x' in '1,x,2'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("mults", "1,0,2"), 1));
        assertEquals("mults expected values >= 1, found [1, 0, 2]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.build("unet", Map.of("skip", "multiply"), 1));
        assertEquals("skip expected add or concat, found 'multiply'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.structure("wavediff", Map.of("patch", "0")));
        assertEquals("option patch expected >= 1, found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.structure("wavediff", Map.of("patch", "3")));
        assertEquals("option size expected a multiple of patch 3, found 16", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Models.structure("wavediff", Map.of("patch", "4", "size", "20")));
        assertEquals("option size expected a multiple of 16 (2 downsamplings of 4×4 patches), found 20", e.getMessage());
    }

    @Test
    void theDdpmPresetIsThePlainUNetOfTheTrainingBenchmark() {
        // Issue 14's "plain UNet (base 32, channel mults 1,2,2, attention at 8², 1.11M parameters)"; the same
        // count comes from tools/refgen/models.py's PyTorch module with these options.
        Models.Built b = Models.build("ddpm-unet", Map.of(), 1);
        assertEquals(1_112_801, b.module().parameterCount());
        UNet u = b.unet();
        assertEquals("1,2,2", b.options().get("mults"));
        assertEquals("concat", u.config().skip());
        Map<String, int[]> shapes = u.expectedShapes();
        // The DDPM layout: R + 1 = 2 blocks per up level, each on [h, skip] concatenated; 1×1 shortcuts where the width changes.
        assertArrayEquals(new int[] {64, 128, 3, 3}, shapes.get("up.2.res.0.conv1.weight"));
        assertArrayEquals(new int[] {64, 96, 3, 3}, shapes.get("up.1.res.1.conv1.weight"));
        assertArrayEquals(new int[] {32, 96, 1, 1}, shapes.get("up.0.res.0.nin_shortcut.weight"));
        assertArrayEquals(new int[] {64, 32, 1, 1}, shapes.get("down.1.res.0.nin_shortcut.weight"));
        assertEquals(null, shapes.get("down.0.res.0.nin_shortcut.weight"));
        assertEquals(null, shapes.get("up.1.res.2.conv1.weight"));
        assertArrayEquals(new int[] {64}, shapes.get("up.2.attn.1.norm.weight"));
        assertEquals(null, shapes.get("up.1.attn.0.norm.weight"));
        assertArrayEquals(new int[] {1, 32, 3, 3}, shapes.get("conv_out.weight"));
    }

    @Test
    void theSameOptionsAsUnetWithDefaultMultsAndSkipBuildTheSameModel() {
        // mults=1 and skip=add are the UNet as it was before those options: same names, shapes and initial values.
        Map<String, String> o = Map.of("width", "8", "groups", "4", "levels", "3", "conv", "deepprism", "attention", "prism");
        var before = Models.build("unet", o, 3).module();
        var explicit = new java.util.HashMap<>(o);
        explicit.put("mults", "1,1,1");
        explicit.put("skip", "add");
        var after = Models.build("unet", explicit, 3).module();
        assertEquals(before.parameters().size(), after.parameters().size());
        for (int i = 0; i < before.parameters().size(); i++) {
            assertEquals(before.parameters().get(i).name(), after.parameters().get(i).name());
            assertArrayEquals(before.parameters().get(i).value().data(), after.parameters().get(i).value().data());
        }
        assertTrue(before.parameters().stream().noneMatch(p -> p.name().contains("nin_shortcut")));
    }

    @Test
    void widthChangesOfAConstantWidthConvolutionGoThroughAStandardConv1AndAShortcut() {
        // skip=add with multipliers: the down path widens in a level's first block, the up path narrows in its last.
        UNet u = Models.build("unet", Map.of("width", "8", "groups", "4", "levels", "2", "mults", "1,2", "conv", "deepprism",
                "res", "2"), 1).unet();
        Map<String, int[]> shapes = u.expectedShapes();
        assertArrayEquals(new int[] {16, 8, 3, 3}, shapes.get("down.1.res.0.conv1.weight"));
        assertArrayEquals(new int[] {1, 1, 3, 3, 3}, shapes.get("down.1.res.0.conv2.weight"));
        assertArrayEquals(new int[] {1, 1, 3, 3, 3}, shapes.get("down.1.res.1.conv1.weight"));
        assertArrayEquals(new int[] {8, 16, 3, 3}, shapes.get("up.1.res.1.conv1.weight"));
        assertArrayEquals(new int[] {8, 16, 1, 1}, shapes.get("up.1.res.1.nin_shortcut.weight"));
        assertArrayEquals(new int[] {1, 1, 3, 3, 3}, shapes.get("up.1.upsample.conv.weight"));
        Graph g = new Graph("widths");
        Tensor eps = u.forward(g, Tensor.zeros(2, 1, 8, 8), Tensor.zeros(2));
        assertArrayEquals(new int[] {2, 1, 8, 8}, eps.shape());
    }

    @Test
    void aCommaSplitConfigValueIsJoinedBack() {
        // picocli splits --config mults=1,2,2 at its commas.
        assertEquals(Map.of("mults", "1,2,2", "skip", "concat"), Models.parseOptions(java.util.List.of("mults=1", "2", "2", "skip=concat")));
        var e = assertThrows(ArgumentException.class, () -> Models.parseOptions(java.util.List.of("2", "mults=1")));
        assertEquals("options", e.argument());
        assertEquals("options expected key=value, found '2'", e.getMessage());
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
        assertTrue(d.contains("    conv_out (Conv)  6918  weight[6, 128, 3, 3]  bias[6]"), d);
        assertTrue(d.contains("    conv_mean (Conv)  21  weight[3, 6, 1, 1]  bias[3]"), d);
        assertTrue(d.contains("    norm_out (GroupNorm)  256  weight[128]  bias[128]"), d);
        assertTrue(d.contains("    up.2.res.2 (ResBlock)  subtotal 568"), d);
        assertTrue(d.endsWith("total parameters: 29559\n"), d);
    }
}
