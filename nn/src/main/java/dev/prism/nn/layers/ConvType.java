package dev.prism.nn.layers;

import java.util.Arrays;
import java.util.Locale;

/** The convolution a model uses for its hidden, constant-width layers. */
public enum ConvType {
    /** {@code nn.Conv2d(C, C, 3, padding=1)}: C²·9 + C parameters. */
    STANDARD,
    /** DeepPrism eq. (3): one 3×3×3 filter over (C, H, W), {@code nn.Conv3d(1, 1, 3, padding=1)}: 28 parameters. */
    DEEPPRISM,
    /** DeepPrism eq. (2): a shared 3×3 spatial filter, then a size-3 channel filter: 9 + 3 + 1 parameters. */
    SEPARABLE,
    /** ApproxConv eq. (3): the 3×3 kernel synthesised from N×N cosine-series coefficients per (out, in) pair. */
    COSCONV,
    /** ApproxConv eq. (4): the same with Chebyshev polynomials. */
    CHEBCONV;

    /** Whether this type maps C channels to C only (one filter shared across channels), so it cannot change a width. */
    public boolean keepsWidth() {
        return this == DEEPPRISM || this == SEPARABLE;
    }

    /** The name used in configurations: {@code standard}, {@code deepprism}, ... */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the option and the accepted values
     */
    public static ConvType parse(String option, String value) {
        for (ConvType t : values()) {
            if (t.key().equals(value.toLowerCase(Locale.ROOT))) {
                return t;
            }
        }
        throw new IllegalArgumentException(option + " expected one of " + Arrays.stream(values()).map(ConvType::key).toList()
                + ", found '" + value + "'");
    }
}
