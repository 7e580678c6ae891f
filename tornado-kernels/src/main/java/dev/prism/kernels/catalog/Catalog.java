package dev.prism.kernels.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Every kernel of Prism, set up on random data; see {@link KernelCase}. */
public final class Catalog {
    private static final List<CaseProvider> PROVIDERS = List.of(
            new HaarCases(),
            new PrismConvCases(),
            new DctCases(),
            new DftCases(),
            new ApproxCases(),
            new GatingCases(),
            new NormCases(),
            new ActivationCases(),
            new ResampleCases(),
            new ElementwiseCases(),
            new ConcatCases(),
            new EmbeddingCases(),
            new GemmCases(),
            new Conv2dCases(),
            new AttentionCases(),
            new SamplerCases(),
            new TrainingCases(),
            new ChainCases());

    private Catalog() {
    }

    /** All cases at {@code size}, in family order. */
    public static List<KernelCase> all(Size size) {
        List<KernelCase> out = new ArrayList<>();
        for (CaseProvider p : PROVIDERS) {
            out.addAll(p.cases(size));
        }
        return out;
    }

    /**
     * The cases whose name starts with one of {@code prefixes} (all when none is given).
     *
     * @throws IllegalArgumentException naming a prefix that matches no case
     */
    public static List<KernelCase> select(Size size, List<String> prefixes) {
        return select(all(size), prefixes);
    }

    /**
     * The cases of {@code all} whose name starts with one of {@code prefixes} (all when none is given).
     *
     * @throws IllegalArgumentException naming a prefix that matches no case
     */
    public static List<KernelCase> select(List<KernelCase> all, List<String> prefixes) {
        if (prefixes == null || prefixes.isEmpty()) {
            return all;
        }
        for (String p : prefixes) {
            if (all.stream().noneMatch(c -> c.name().startsWith(p))) {
                throw new IllegalArgumentException("kernel filter '" + p + "' matches no kernel; known: "
                        + String.join(", ", all.stream().map(KernelCase::name).toList()));
            }
        }
        return all.stream().filter(c -> prefixes.stream().anyMatch(p -> c.name().startsWith(p))).toList();
    }

    /** All case names at {@code size}. */
    public static Stream<String> names(Size size) {
        return all(size).stream().map(KernelCase::name);
    }
}
