/**
 * The catalog: named cases of every kernel at fixed sizes with reproducible random inputs, from which
 * {@code prism kernels --check} compares each backend with the sequential loops and {@code prism bench}
 * times them. A new family adds a {@link dev.prism.kernels.catalog.CaseProvider} to
 * {@link dev.prism.kernels.catalog.Catalog}.
 */
package dev.prism.kernels.catalog;
