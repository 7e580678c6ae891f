package dev.prism.backend;

import dev.prism.kernels.Elementwise;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PlanTest {
    @Test
    void aBufferHasOneRoleAmongConstantInputAndState() {
        float[] a = new float[4], b = new float[4];
        var e = assertThrows(IllegalArgumentException.class,
                () -> Plan.builder("p").add(Elementwise.add(a, b, a, 4)).constants(a).state(a).build());
        assertEquals("plan 'p': a buffer of length 4 is declared both state and constant", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Plan.builder("empty").build());
        assertEquals("plan 'empty': expected at least one launch, found none", e.getMessage());
    }

    @Test
    void onlyDeclaredBuffersCanBeFetchedAndStateCarriesOverOnTheJvm() {
        float[] x = new float[3], z = {1, 2, 3}, other = new float[3];
        Plan plan = Plan.builder("acc").add(Elementwise.add(x, z, x, 3)).inputs(z).state(x).fetchable(x).build();
        try (JvmBackend jvm = JvmBackend.parallel(2); Executable e = jvm.compile(plan)) {
            e.execute();
            e.execute();
            e.fetch(x);
            assertEquals(4f, x[1]);
            var err = assertThrows(IllegalArgumentException.class, () -> e.fetch(other));
            assertEquals("plan 'acc': a buffer of length 3 was not declared fetchable (Plan.Builder.fetchable) or output", err.getMessage());
        }
    }
}
