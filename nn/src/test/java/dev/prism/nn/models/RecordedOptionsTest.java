package dev.prism.nn.models;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The options a built model records (weight files and checkpoints keep them) rebuild the same model. */
class RecordedOptionsTest {
    @Test
    void theDefaultGroupCountIsRecordedAsTheOneUsed() {
        // 32 groups do not divide 16 channels: the default falls back to 16, and that is what is recorded
        Models.Built first = Models.build("ddpm-unet", Map.of("width", "16"), 0);
        assertEquals("16", first.options().get("groups"));
        Models.Built again = Models.build("ddpm-unet", first.options(), 0);
        assertEquals(first.options(), again.options());
        assertEquals(first.module().expectedShapes().keySet(), again.module().expectedShapes().keySet());
        assertEquals(first.module().parameterCount(), again.module().parameterCount());

        Models.Built vae = Models.build("deepprism-vae", Map.of("width", "24"), 0);
        assertEquals("24", vae.options().get("groups"));
        assertEquals(vae.options(), Models.build("deepprism-vae", vae.options(), 0).options());
    }

    @Test
    void aGivenGroupCountIsRecordedAsGiven() {
        assertEquals("4", Models.build("unet", Map.of("width", "8", "groups", "4"), 0).options().get("groups"));
    }
}
