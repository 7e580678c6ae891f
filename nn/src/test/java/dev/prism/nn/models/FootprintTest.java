package dev.prism.nn.models;

import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.Heap;
import dev.prism.nn.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The extrapolated arrays of a UNet's plan against the plan really built, array by array. */
class FootprintTest {

    /** Batches and sizes (multiples of the divisor) outside the probes' 1..2 and 1..3. */
    private static final int[][] SHAPES = {{3, 4, 5}, {1, 6, 2}, {5, 1, 1}, {2, 3, 7}};

    @ParameterizedTest
    @ValueSource(strings = {"unet-standard", "unet-deepprism", "unet-separable", "unet-cosconv", "unet-chebconv",
            "unet-prismattn", "wg-unet", "wg-unet-gc", "unet-plain", "unet-deepprism-mults", "wg-unet-mults"})
    void theExtrapolatedArraysAreThoseOfTheRealPlanOneByOne(String name) throws Exception {
        UNet u = ModelsTest.build(ModelsTest.resource(name + ".safetensors")).unet();
        checkAgainstRealPlans(u);
    }

    @Test
    void theDefaultModelsToo() {
        for (String model : Models.DENOISERS) {
            checkAgainstRealPlans(Models.build(model, Map.of("width", "8", "groups", "4"), 0).unet());
        }
        checkAgainstRealPlans(Models.build("unet", Map.of("width", "8", "groups", "4", "attention", "prism", "heads", "2",
                "skip", "concat", "mults", "1,2,2"), 0).unet());
    }

    private static void checkAgainstRealPlans(UNet u) {
        int d = u.config().divisor();
        for (int[] s : SHAPES) {
            int n = s[0], h = d * s[1], w = d * s[2];
            Graph g = new Graph("real");
            Tensor x = Tensor.zeros(n, u.config().inChannels(), h, w), t = Tensor.zeros(n);
            u.forward(g, x, t);
            long[] real = Footprint.arrays(g.forwardLaunches(), x.data(), t.data());
            Footprint f = u.forwardFootprint(h, w);
            assertEquals(real.length, f.count(), "one entry per array (not the fallback's total) at " + Arrays.toString(s));
            assertArrayEquals(real, f.arrays(n), u.config() + " at batch " + n + ", " + h + "x" + w);
        }
    }

    @Test
    void attentionsQuadraticArraysAreExtrapolatedExactlyFarFromTheProbes() {
        // the test UNet's attention at level 1 of a 256x256 image: 128² positions, probabilities 8·128⁴ = 2^31
        UNet u = Models.build("unet", Map.of("width", "8", "levels", "2", "attn", "1", "groups", "4"), 0).unet();
        Footprint f = u.forwardFootprint(256, 256);
        assertEquals(8L * 128 * 128 * 128 * 128, f.largest(8));
        assertTrue(f.bytes(8) > 8L << 30, Heap.format(f.bytes(8)));
    }

    @Test
    void aSizeTheModelCannotTakeIsRefused() {
        UNet u = Models.build("unet", Map.of("width", "8", "groups", "4"), 0).unet();
        var e = assertThrows(dev.prism.nn.ModelShapeException.class, () -> u.forwardFootprint(6, 8));
        assertTrue(e.getMessage().contains("H and W positive multiples of 4"), e.getMessage());
    }
}
