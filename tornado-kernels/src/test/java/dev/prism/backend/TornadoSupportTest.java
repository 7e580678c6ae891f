package dev.prism.backend;

import dev.prism.kernels.ArgumentException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TornadoSupportTest {
    @Test
    void openingTornadoWhereItCannotRunNamesTheParameterBackendAndTheReason() {
        String reason = TornadoSupport.unavailableReason();
        assumeTrue(reason != null, "TornadoVM can run in this JVM");
        var e = assertThrows(ArgumentException.class, () -> TornadoSupport.open(new TornadoSettings(0, Map.of(), false, Map.of())));
        assertEquals("backend", e.argument());
        assertEquals("backend tornado: " + reason, e.getMessage());
    }
}
