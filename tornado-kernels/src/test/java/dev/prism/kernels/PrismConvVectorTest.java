package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * {@link PrismConvVector}, the Vector API variant that the parallel JVM backend runs, against the plain
 * loops of {@link PrismConvKernels} that the sequential backend runs: bit-identical on every shape of
 * {@link PrismConvTest} and on rows wide enough to take each of its paths (one, four and eight blocks,
 * overlapping last blocks, widths 1 and 5, filters wider than a vector, groups of narrow rows,
 * channel-only filters).
 */
class PrismConvVectorTest {
    /** Fails this run unless the variants run at the width its surefire execution pinned. */
    @BeforeAll
    static void pinnedWidth() {
        VectorWidths.assertPinned();
    }


    /** Every shape of PrismConvTest's reference cases, with their inputs. */
    static Stream<String> referenceCases() {
        return Stream.concat(PrismConvTest.prismCases(), PrismConvTest.separableCases());
    }

    /** n, c, h, w, kc, kh, kw: widths around one, four and eight vectors of 8 (and 16) lanes. */
    static Stream<Arguments> wideShapes() {
        int[][] shapes = {
                {1, 3, 4, 8, 3, 3, 3}, {2, 5, 3, 9, 3, 3, 3}, {1, 4, 3, 16, 3, 3, 3}, {1, 3, 5, 17, 3, 3, 3},
                {1, 2, 3, 31, 3, 3, 3}, {2, 3, 4, 32, 3, 3, 3}, {1, 3, 2, 33, 3, 3, 3}, {1, 5, 3, 64, 3, 3, 3},
                {1, 2, 3, 65, 3, 3, 3}, {1, 2, 2, 72, 3, 3, 3}, {1, 2, 2, 128, 3, 3, 3}, {2, 4, 1, 64, 3, 3, 3},
                {1, 3, 4, 64, 3, 5, 5}, {1, 3, 4, 64, 5, 3, 3}, {1, 4, 3, 40, 3, 1, 1}, {1, 4, 3, 40, 1, 3, 3},
                {1, 3, 3, 20, 1, 1, 7}, {1, 2, 3, 24, 1, 1, 17}, {1, 2, 3, 24, 1, 1, 19}, {1, 1, 1, 64, 7, 3, 3},
                // narrow rows that go in groups of 8V/w rows (one to eight rows, the plane's edges inside a group)
                {2, 4, 8, 8, 3, 3, 3}, {1, 3, 16, 16, 3, 3, 3}, {2, 3, 5, 32, 3, 3, 3}, {1, 2, 9, 8, 3, 5, 3},
                {1, 2, 3, 16, 1, 1, 3}, {1, 2, 1, 8, 3, 3, 3}, {1, 3, 7, 24, 3, 3, 3}, {3, 5, 11, 8, 5, 3, 3},
                {1, 2, 2, 8, 3, 5, 3},
                // rows narrower than a vector of 16 (and of 8, 4): several rows per vector, the plane's edges inside a vector
                {1, 3, 9, 4, 3, 5, 3}, {2, 3, 6, 2, 3, 3, 3}, {1, 2, 5, 1, 3, 3, 3}, {2, 5, 8, 8, 3, 3, 3}, {1, 4, 13, 8, 3, 3, 3},
                {1, 2, 4, 12, 3, 3, 3},
                // widths that are no multiple of 16 lanes, and multiples of 16 that are no multiple of 64
                {1, 3, 3, 20, 3, 3, 3}, {1, 2, 3, 48, 3, 3, 3}, {1, 2, 3, 80, 3, 3, 3}, {1, 2, 2, 144, 3, 3, 3}, {1, 2, 3, 96, 3, 5, 5},
                // channel-only filters: one span per plane, masked tails
                {2, 5, 3, 7, 5, 1, 1}, {1, 6, 1, 1, 3, 1, 1}, {4, 8, 8, 8, 3, 1, 1}, {1, 3, 5, 13, 7, 1, 1}};
        List<Arguments> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (ChannelPadding p : ChannelPadding.values()) {
                out.add(Arguments.of(s, p));
            }
        }
        return out.stream();
    }

    @ParameterizedTest
    @MethodSource("referenceCases")
    void forwardIsBitIdenticalToThePlainLoopOnEveryTestShape(String name) {
        Npz r = Npz.resource("prismconv/" + name);
        long[] d = r.get("dims").ints();
        ChannelPadding pad = ChannelPadding.ofCode(r.i("mode"));
        float[] b = r.has("b") ? r.f("b") : null;
        if (d.length == 7) {
            compare(name, r.f("x"), r.f("f"), b, (int) d[0], (int) d[1], (int) d[2], (int) d[3],
                    (int) d[4], (int) d[5], (int) d[6], pad);
        } else {
            // Separable: the spatial (1,K,K) pass, then the channel (K,1,1) pass.
            int k = (int) d[4];
            compare(name + " spatial", r.f("x"), r.f("fs"), null, (int) d[0], (int) d[1], (int) d[2], (int) d[3],
                    1, k, k, ChannelPadding.ZEROS);
            compare(name + " channel", r.f("x"), r.f("fc"), b, (int) d[0], (int) d[1], (int) d[2], (int) d[3],
                    k, 1, 1, pad);
        }
    }

    @ParameterizedTest
    @MethodSource("wideShapes")
    void forwardIsBitIdenticalToThePlainLoopOnWideRows(int[] s, ChannelPadding pad) {
        int n = s[0], c = s[1], h = s[2], w = s[3], kc = s[4], kh = s[5], kw = s[6];
        float[] x = Inputs.gaussian(n * c * h * w, 1);
        float[] f = Inputs.gaussian(kc * kh * kw, 2);
        float[] b = Inputs.gaussian(1, 3);
        compare("forward", x, f, b, n, c, h, w, kc, kh, kw, pad);
    }

    @ParameterizedTest
    @MethodSource("wideShapes")
    void theEdgeColumnsNeverReadTheNeighbouringRow(int[] s, ChannelPadding pad) {
        // NaN in the last column of every row, then in the first: an edge lane that read past its row
        // would carry the NaN into the other edge of the next or previous row, where the plain loop has none.
        int n = s[0], c = s[1], h = s[2], w = s[3], kc = s[4], kh = s[5], kw = s[6];
        float[] f = Inputs.gaussian(kc * kh * kw, 2);
        for (int col : new int[] {w - 1, 0}) {
            float[] x = Inputs.gaussian(n * c * h * w, 1);
            for (int row = 0; row < n * c * h; row++) {
                x[row * w + col] = Float.NaN;
            }
            compare("NaN in column " + col, x, f, null, n, c, h, w, kc, kh, kw, pad);
        }
    }

    private static void compare(String what, float[] x, float[] f, float[] b, int n, int c, int h, int w,
                                int kc, int kh, int kw, ChannelPadding pad) {
        float[] plain = Inputs.poisoned(x.length);
        float[] vector = Inputs.poisoned(x.length);
        Backends.seq(PrismConv.forward(x, f, b, plain, n, c, h, w, kc, kh, kw, pad));
        Launch l = PrismConv.forward(x, f, b, vector, n, c, h, w, kc, kh, kw, pad);
        assertNotNull(l.vector(), "prismconv.forward carries a vector variant");
        Backends.par(l);
        assertIdentical(what + " " + n + "x" + c + "x" + h + "x" + w + " k" + kc + "x" + kh + "x" + kw + " " + pad,
                plain, vector);
    }
}
