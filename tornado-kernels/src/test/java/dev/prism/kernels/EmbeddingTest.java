package dev.prism.kernels;

import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EmbeddingTest {

    @ParameterizedTest
    @ValueSource(strings = {"n3_dim7", "n5_dim16", "n2_dim4", "n8_dim256"})
    void timestepEmbeddingMatchesTheDdpmFormula(String name) {
        Npz r = Npz.resource("embedding/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], dim = (int) d[1];
        float[] emb = Inputs.poisoned(n * dim);
        Backends.seq(Embedding.timestep(r.f("t"), emb, n, dim));
        assertClose(name, r.f("emb"), emb);
        if (dim % 2 == 1) {
            for (int b = 0; b < n; b++) {
                assertEquals(0f, emb[b * dim + dim - 1], "zero padding of row " + b);
            }
        }
    }

    @Test
    void aCompiledPlanReadsTheTimestepsAnewOnEveryExecution() {
        int n = 2, dim = 32;
        float[] t = {10f, 20f}, emb = Inputs.poisoned(n * dim);
        Plan plan = Plan.builder("embedding").add(Embedding.timestep(t, emb, n, dim)).inputs(t).outputs(emb).build();
        float[] expected = new float[n * dim];
        try (Executable e = Backends.PAR.compile(plan)) {
            e.execute();
            t[0] = 500f;
            t[1] = 999f;
            e.execute();
        }
        Backends.seq(Embedding.timestep(new float[] {500f, 999f}, expected, n, dim));
        assertIdentical("embedding after the timesteps changed", expected, emb);
    }

    @Test
    void parallelBackendIsBitIdenticalToTheLoops() {
        int n = 8, dim = 255;
        float[] t = Inputs.uniform(n, 0, 1000, 91);
        float[] a = Inputs.poisoned(n * dim), b = Inputs.poisoned(n * dim);
        Backends.seq(Embedding.timestep(t, a, n, dim));
        Backends.par(Embedding.timestep(t, b, n, dim));
        assertIdentical("timestep", a, b);
    }

    @Test
    void badArgumentsAreRejectedByName() {
        var e = assertThrows(IllegalArgumentException.class, () -> Embedding.timestep(new float[2], new float[6], 2, 3));
        assertEquals("embedding.timestep: argument 'dim' expected >= 4 (half = dim / 2 must be >= 2: the frequencies"
                + " divide by half - 1), found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.timestep(new float[2], new float[2], 2, 1));
        assertEquals("embedding.timestep: argument 'dim' expected >= 4 (half = dim / 2 must be >= 2: the frequencies"
                + " divide by half - 1), found 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.timestep(new float[3], new float[16], 2, 8));
        assertEquals("embedding.timestep: argument 't' expected length 2, found 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.timestep(new float[2], new float[15], 2, 8));
        assertEquals("embedding.timestep: argument 'emb' expected length 16, found 15", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Embedding.timestep(new float[0], new float[0], 0, 8));
        assertEquals("embedding.timestep: argument 'n' expected > 0, found 0", e.getMessage());
    }
}
