package dev.prism.kernels.catalog;

import java.util.List;

/** The catalog entries of one kernel family. */
public interface CaseProvider {
    List<KernelCase> cases(Size size);
}
