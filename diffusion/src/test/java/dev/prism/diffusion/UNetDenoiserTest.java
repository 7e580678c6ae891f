package dev.prism.diffusion;

import dev.prism.kernels.ArgumentException;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UNetDenoiserTest {
    @Test
    void aSizeTheUNetCannotHalveNamesTheParameterSize() {
        UNet u = Models.build("unet", Map.of("width", "8", "groups", "4", "levels", "3"), 1).unet();
        var e = assertThrows(ArgumentException.class, () -> new UNetDenoiser(u, 12, 10));
        assertEquals("size", e.argument());
        assertEquals("size expected a height and width divisible by 4 (the UNet downsamples 2 times), found 12x10", e.getMessage());
        assertEquals(16, new UNetDenoiser(u, 16, 12).height());
    }
}
