package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Embedding;

import java.util.List;

/** The DDPM timestep embedding for one timestep and for a batch (MODEL: dim 256, N = 1 and N = 8). */
final class EmbeddingCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int dim = small ? 7 : 256;
        return List.of(timestep("embedding.timestep", small ? 3 : 1, dim),
                timestep("embedding.timestep.batch", small ? 5 : 8, small ? 18 : dim));
    }

    private static KernelCase timestep(String name, int n, int dim) {
        return new KernelCase(name, "N" + n + " dim " + dim, seed -> {
            float[] t = new Rand(seed).uniform(n, 0, 1000), emb = Rand.poisoned(n * dim);
            return Plan.builder(name).add(Embedding.timestep(t, emb, n, dim)).inputs(t).outputs(emb).build();
        });
    }
}
