package dev.prism.kernels;

import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link PrismConvWeightVector}, the Vector API variant of the filter-gradient partial sums, against the
 * plain loop: both sum in double, in different orders, and the reduction kernel rounds once, so every
 * filter and bias gradient must be the same float or its neighbour. On {@link PrismConvVectorTest}'s wide
 * shapes (rows around one, four and eight vectors, filters of 1 to 19 taps) and on a plane wide enough
 * for the eight-column steps to dominate.
 */
class PrismConvWeightVectorTest {
    static Stream<Arguments> shapes() {
        return Stream.concat(PrismConvVectorTest.wideShapes(),
                Stream.of(ChannelPadding.values()).map(p -> Arguments.of(new int[] {2, 5, 37, 67, 3, 3, 3}, p)));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void filterGradientIsWithinAnUlpOfThePlainLoop(int[] s, ChannelPadding pad) {
        int n = s[0], c = s[1], h = s[2], w = s[3], kc = s[4], kh = s[5], kw = s[6];
        int taps = kc * kh * kw;
        // a non-zero mean, so that the sums are large against their terms
        float[] x = Inputs.uniform(n * c * h * w, -0.5f, 1.5f, 4);
        float[] gy = Inputs.uniform(n * c * h * w, -0.75f, 1.25f, 5);
        float[][] loop = {Inputs.poisoned(taps), Inputs.poisoned(1)};
        float[][] vec = {Inputs.poisoned(taps), Inputs.poisoned(1)};
        PrismConv.backwardWeight(x, gy, Inputs.poisoned(PrismConv.partialsLength(n, c, kc, kh, kw)), loop[0], loop[1],
                n, c, h, w, kc, kh, kw, pad).forEach(Backends::seq);
        PrismConv.backwardWeight(x, gy, Inputs.poisoned(PrismConv.partialsLength(n, c, kc, kh, kw)), vec[0], vec[1],
                n, c, h, w, kc, kh, kw, pad).forEach(Backends::par);
        for (int k = 0; k < 2; k++) {
            for (int t = 0; t < loop[k].length; t++) {
                assertTrue(Math.abs(loop[k][t] - vec[k][t]) <= Math.ulp(loop[k][t]),
                        java.util.Arrays.toString(s) + " " + pad + (k == 0 ? " gf[" : " gb[") + t + "]: loop "
                                + loop[k][t] + ", vector " + vec[k][t]);
            }
        }
    }
}
