package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.testing.Backends;
import dev.prism.testing.FiniteDifference;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PrismConvTest {

    /** Reference cases of tools/refgen/families/prismconv.py: n, c, h×w, filter kc×kh×kw, padding, bias. */
    static Stream<String> prismCases() {
        return Stream.of(
                "n2_c5_7x9_k3x3x3_zeros_bias", "n2_c5_7x9_k3x3x3_replicate_bias", "n2_c5_7x9_k3x3x3_circular_bias",
                "n2_c5_7x9_k5x3x3_zeros", "n2_c5_7x9_k5x3x3_replicate", "n2_c5_7x9_k5x3x3_circular",
                "n1_c3_6x5_k3x5x5_zeros_bias", "n2_c6_5x7_k3x5x5_circular_bias", "n2_c3_6x5_k3x5x5_replicate",
                "n2_c5_7x9_k1x3x3_replicate_bias", "n2_c5_7x9_k3x1x1_circular", "n2_c5_7x9_k3x1x1_replicate_bias",
                "n2_c1_5x6_k3x3x3_replicate_bias", "n2_c1_5x6_k3x3x3_circular",
                "n1_c2_5x6_k5x3x3_replicate_bias", "n1_c2_5x6_k5x3x3_circular_bias",
                "n2_c1_4x5_k5x3x3_circular", "n1_c2_4x5_k7x3x3_circular_bias",
                "n1_c3_2x3_k3x5x5_zeros_bias");
    }

    static Stream<String> separableCases() {
        return Stream.of("sep_n2_c5_7x9_k3_zeros_bias", "sep_n2_c5_7x9_k3_replicate_bias", "sep_n2_c5_7x9_k3_circular",
                "sep_n1_c6_9x7_k5_circular_bias", "sep_n2_c1_5x6_k3_replicate_bias");
    }

    /** One reference case with its sizes decoded. */
    private record Ref(String name, Npz npz, int n, int c, int h, int w, int kc, int kh, int kw, ChannelPadding padding) {
        static Ref of(String name) {
            Npz r = Npz.resource("prismconv/" + name);
            long[] d = r.get("dims").ints();
            ChannelPadding p = ChannelPadding.ofCode(r.i("mode"));
            return d.length == 7
                    ? new Ref(name, r, (int) d[0], (int) d[1], (int) d[2], (int) d[3], (int) d[4], (int) d[5], (int) d[6], p)
                    : new Ref(name, r, (int) d[0], (int) d[1], (int) d[2], (int) d[3], (int) d[4], (int) d[4], (int) d[4], p);
        }

        float[] f(String key) {
            return npz.f(key);
        }

        /** The bias, or null for a case without one. */
        float[] bias() {
            return npz.has("b") ? npz.f("b") : null;
        }

        int size() {
            return n * c * h * w;
        }
    }

    // ---- Prism convolution against PyTorch (DeepPrism eq. (3)) ----

    @ParameterizedTest
    @MethodSource("prismCases")
    void forwardMatchesConv3dWithChannelPadding(String name) {
        Ref r = Ref.of(name);
        float[] y = Inputs.poisoned(r.size());
        Backends.seq(PrismConv.forward(r.f("x"), r.f("f"), r.bias(), y, r.n, r.c, r.h, r.w, r.kc, r.kh, r.kw, r.padding));
        assertClose("forward " + name, r.f("y"), y);
    }

    @ParameterizedTest
    @MethodSource("prismCases")
    void backwardDataMatchesAutograd(String name) {
        Ref r = Ref.of(name);
        float[] gx = Inputs.poisoned(r.size());
        Backends.seq(PrismConv.backwardData(r.f("gy"), r.f("f"), gx, r.n, r.c, r.h, r.w, r.kc, r.kh, r.kw, r.padding));
        assertClose("gx " + name, r.f("gx"), gx);
    }

    @ParameterizedTest
    @MethodSource("prismCases")
    void backwardFilterAndBiasMatchAutograd(String name) {
        Ref r = Ref.of(name);
        float[] partials = Inputs.poisoned(PrismConv.partialsLength(r.n, r.c, r.kc, r.kh, r.kw) + 3);
        float[] gf = Inputs.poisoned(r.kc * r.kh * r.kw);
        float[] gb = r.bias() == null ? null : Inputs.poisoned(1);
        PrismConv.backwardWeight(r.f("x"), r.f("gy"), partials, gf, gb, r.n, r.c, r.h, r.w, r.kc, r.kh, r.kw, r.padding)
                .forEach(Backends::seq);
        assertClose("gf " + name, r.f("gf"), gf);
        if (gb != null) {
            assertClose("gb " + name, r.f("gb"), gb);
        }
    }

    // ---- Separable PrismConv against PyTorch (DeepPrism eq. (2)) ----

    @ParameterizedTest
    @MethodSource("separableCases")
    void separableForwardMatchesConv2dThenChannelConv(String name) {
        Ref r = Ref.of(name);
        float[] t = Inputs.poisoned(r.size()), y = Inputs.poisoned(r.size());
        PrismConv.separableForward(r.f("x"), r.f("fs"), r.f("fc"), r.bias(), t, y, r.n, r.c, r.h, r.w, r.kc, r.padding)
                .forEach(Backends::seq);
        assertClose("separable forward " + name, r.f("y"), y);
    }

    @ParameterizedTest
    @MethodSource("separableCases")
    void separableBackwardMatchesAutograd(String name) {
        Ref r = Ref.of(name);
        int k = r.kc;
        float[] t = Inputs.poisoned(r.size()), gx = Inputs.poisoned(r.size());
        float[] partials = Inputs.poisoned(PrismConv.separablePartialsLength(r.n, r.c, k));
        float[] gfs = Inputs.poisoned(k * k), gfc = Inputs.poisoned(k);
        float[] gb = r.bias() == null ? null : Inputs.poisoned(1);
        PrismConv.separableBackward(r.f("x"), r.f("gy"), r.f("fs"), r.f("fc"), t, partials, gx, gfs, gfc, gb,
                r.n, r.c, r.h, r.w, k, r.padding).forEach(Backends::seq);
        assertClose("separable gx " + name, r.f("gx"), gx);
        assertClose("separable gfs " + name, r.f("gfs"), gfs);
        assertClose("separable gfc " + name, r.f("gfc"), gfc);
        if (gb != null) {
            assertClose("separable gb " + name, r.f("gb"), gb);
        }
    }

    // ---- What each channel padding means (DeepPrism Table 1), exactly ----

    /** y[c] = x[c + shift] through a (KC,1,1) filter that is 1 at one tap: a pure channel shift. */
    private static float[] shiftChannels(float[] x, int n, int c, int h, int w, int kc, int tap, ChannelPadding p) {
        float[] f = new float[kc];
        f[tap] = 1f;
        float[] y = Inputs.poisoned(x.length);
        Backends.seq(PrismConv.forward(x, f, null, y, n, c, h, w, kc, 1, 1, p));
        return y;
    }

    private static float[] plane(float[] a, int n, int c, int h, int w, int img, int ch) {
        float[] out = new float[h * w];
        System.arraycopy(a, (img * c + ch) * h * w, out, 0, h * w);
        return out;
    }

    @Test
    void circularPaddingWrapsChannels() {
        int n = 2, c = 5, h = 3, w = 4;
        float[] x = Inputs.gaussian(n * c * h * w, 11);
        float[] next = shiftChannels(x, n, c, h, w, 3, 2, ChannelPadding.CIRCULAR);
        float[] prev = shiftChannels(x, n, c, h, w, 3, 0, ChannelPadding.CIRCULAR);
        for (int img = 0; img < n; img++) {
            for (int ch = 0; ch < c; ch++) {
                assertIdentical("y[" + img + "," + ch + "] = x[c+1 mod C]",
                        plane(x, n, c, h, w, img, (ch + 1) % c), plane(next, n, c, h, w, img, ch));
                assertIdentical("y[" + img + "," + ch + "] = x[c-1 mod C]",
                        plane(x, n, c, h, w, img, (ch + c - 1) % c), plane(prev, n, c, h, w, img, ch));
            }
        }
    }

    @Test
    void circularPaddingKeepsWrappingWhenTheFilterIsDeeperThanTheChannels() {
        // KC = 7 over C = 2: KC/2 = 3 > C, which F.pad refuses; Prism defines it as q mod C.
        int n = 1, c = 2, h = 2, w = 3, kc = 7;
        float[] x = Inputs.gaussian(n * c * h * w, 12);
        for (int tap = 0; tap < kc; tap++) {
            float[] y = shiftChannels(x, n, c, h, w, kc, tap, ChannelPadding.CIRCULAR);
            for (int ch = 0; ch < c; ch++) {
                int src = Math.floorMod(ch + tap - kc / 2, c);
                assertIdentical("tap " + tap + ", y[" + ch + "] = x[" + src + "]",
                        plane(x, n, c, h, w, 0, src), plane(y, n, c, h, w, 0, ch));
            }
        }
    }

    @Test
    void replicatePaddingRepeatsEdgeChannels() {
        int n = 2, c = 5, h = 3, w = 4, kc = 5;
        float[] x = Inputs.gaussian(n * c * h * w, 13);
        for (int tap = 0; tap < kc; tap++) {
            float[] y = shiftChannels(x, n, c, h, w, kc, tap, ChannelPadding.REPLICATE);
            for (int img = 0; img < n; img++) {
                for (int ch = 0; ch < c; ch++) {
                    int src = Math.clamp(ch + tap - kc / 2, 0, c - 1);
                    assertIdentical("tap " + tap + ", y[" + img + "," + ch + "] = x[" + src + "]",
                            plane(x, n, c, h, w, img, src), plane(y, n, c, h, w, img, ch));
                }
            }
        }
    }

    @Test
    void zeroPaddingReadsZeroOutsideTheChannels() {
        int n = 1, c = 4, h = 3, w = 2, kc = 5;
        float[] x = Inputs.gaussian(n * c * h * w, 14);
        for (int tap = 0; tap < kc; tap++) {
            float[] y = shiftChannels(x, n, c, h, w, kc, tap, ChannelPadding.ZEROS);
            for (int ch = 0; ch < c; ch++) {
                int src = ch + tap - kc / 2;
                float[] expected = src >= 0 && src < c ? plane(x, n, c, h, w, 0, src) : new float[h * w];
                assertIdentical("tap " + tap + ", y[" + ch + "]", expected, plane(y, n, c, h, w, 0, ch));
            }
        }
    }

    @Test
    void replicateBackwardSendsEveryClampedTapToTheEdgeChannel() {
        // A (5,1,1) filter reading channel c-2: outputs 0, 1 and 2 of C = 3 all clamp onto channel 0.
        int n = 1, c = 3, h = 2, w = 3, hw = h * w;
        float[] f = {1f, 0f, 0f, 0f, 0f};
        float[] gy = Inputs.gaussian(n * c * hw, 15);
        float[] gx = Inputs.poisoned(gy.length);
        Backends.seq(PrismConv.backwardData(gy, f, gx, n, c, h, w, 5, 1, 1, ChannelPadding.REPLICATE));
        float[] expected = new float[gy.length];
        for (int k = 0; k < hw; k++) {
            expected[k] = gy[k] + gy[hw + k] + gy[2 * hw + k];
        }
        assertIdentical("gx = gy summed onto channel 0", expected, gx);
    }

    // ---- Finite differences, every padding ----

    /**
     * Every map checked here is affine in the argument that varies, so a central difference has no
     * truncation error at any step: what limits it is the fp32 rounding of the loss divided by the
     * step. With up to 45 taps per output that rounding is about ε32·Σ|gy|·Σ|f·x| ≈ 3e-5 on these
     * shapes, which over {@code FiniteDifference}'s step 2h = 2e-2 reaches its floor
     * {@code 1e-6·Σ|gy·y|}: at that step this (exactly adjoint) kernel failed on 3–40% of 200 random
     * seeds per shape, on directions along which the true derivative nearly cancels. So the check runs
     * in the variable {@code u = a / S} with {@code S = 256}, {@code g(u) = f(S·u)}, whose gradient is
     * exactly {@code S·∂L/∂a} (S is a power of two, so every scaling is exact): the effective step is
     * 256 times longer and the rounding noise 256 times smaller (then at most 1 of 200 seeds failed per
     * shape, by about 2e-3 relative, on a filter coordinate whose exact gradient had cancelled to
     * below 1e-3 of its typical size), while a wrong term still misses by order one.
     */
    private static void checkScaled(String what, Function<float[], float[]> f, float[] a, float[] gy, float[] ga,
                                    int directions, int coords) {
        FiniteDifference.check(what, u -> f.apply(times(u, FD_SCALE)), times(a, 1f / FD_SCALE), gy, times(ga, FD_SCALE),
                directions, coords);
    }

    private static final float FD_SCALE = 256f;

    private static float[] times(float[] a, float s) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * s;
        }
        return out;
    }

    static Stream<Arguments> finiteDifferenceShapes() {
        return Stream.of(ChannelPadding.values()).flatMap(p -> Stream.of(
                Arguments.of(p, 2, 3, 4, 5, 3, 3, 3),
                Arguments.of(p, 1, 2, 3, 4, 5, 3, 3),
                Arguments.of(p, 2, 1, 3, 3, 3, 3, 3)));
    }

    @ParameterizedTest
    @MethodSource("finiteDifferenceShapes")
    void backwardAgreesWithFiniteDifferences(ChannelPadding p, int n, int c, int h, int w, int kc, int kh, int kw) {
        String at = p + " " + n + "x" + c + "x" + h + "x" + w + " k" + kc + "x" + kh + "x" + kw;
        int size = n * c * h * w, taps = kc * kh * kw;
        float[] x = Inputs.gaussian(size, 21), f = Inputs.gaussian(taps, 22), b = Inputs.gaussian(1, 23);
        float[] gy = Inputs.gaussian(size, 24);
        float[] gx = Inputs.poisoned(size), gf = Inputs.poisoned(taps), gb = Inputs.poisoned(1);
        Backends.seq(PrismConv.backwardData(gy, f, gx, n, c, h, w, kc, kh, kw, p));
        PrismConv.backwardWeight(x, gy, new float[PrismConv.partialsLength(n, c, kc, kh, kw)], gf, gb,
                n, c, h, w, kc, kh, kw, p).forEach(Backends::seq);
        checkScaled("gx " + at, in -> run(PrismConv.forward(in, f, b, new float[size], n, c, h, w, kc, kh, kw, p)),
                x, gy, gx, 3, 12);
        checkScaled("gf " + at, in -> run(PrismConv.forward(x, in, b, new float[size], n, c, h, w, kc, kh, kw, p)),
                f, gy, gf, 3, taps);
        checkScaled("gb " + at, in -> run(PrismConv.forward(x, f, in, new float[size], n, c, h, w, kc, kh, kw, p)),
                b, gy, gb, 1, 1);
    }

    @ParameterizedTest
    @EnumSource(ChannelPadding.class)
    void separableBackwardAgreesWithFiniteDifferences(ChannelPadding p) {
        int n = 2, c = 3, h = 4, w = 5, k = 3, size = n * c * h * w;
        float[] x = Inputs.gaussian(size, 31), fs = Inputs.gaussian(k * k, 32), fc = Inputs.gaussian(k, 33);
        float[] b = Inputs.gaussian(1, 34), gy = Inputs.gaussian(size, 35);
        float[] gx = Inputs.poisoned(size), gfs = Inputs.poisoned(k * k), gfc = Inputs.poisoned(k), gb = Inputs.poisoned(1);
        PrismConv.separableBackward(x, gy, fs, fc, new float[size], new float[PrismConv.separablePartialsLength(n, c, k)],
                gx, gfs, gfc, gb, n, c, h, w, k, p).forEach(Backends::seq);
        checkScaled("separable gx " + p, in -> separable(in, fs, fc, b, n, c, h, w, k, p), x, gy, gx, 3, 12);
        checkScaled("separable gfs " + p, in -> separable(x, in, fc, b, n, c, h, w, k, p), fs, gy, gfs, 3, k * k);
        checkScaled("separable gfc " + p, in -> separable(x, fs, in, b, n, c, h, w, k, p), fc, gy, gfc, 3, k);
        checkScaled("separable gb " + p, in -> separable(x, fs, fc, in, n, c, h, w, k, p), b, gy, gb, 1, 1);
    }

    private static float[] run(Launch l) {
        Backends.seq(l);
        return l.outputs()[0];
    }

    private static float[] separable(float[] x, float[] fs, float[] fc, float[] b, int n, int c, int h, int w, int k,
                                     ChannelPadding p) {
        float[] y = new float[x.length];
        PrismConv.separableForward(x, fs, fc, b, new float[x.length], y, n, c, h, w, k, p).forEach(Backends::seq);
        return y;
    }

    // ---- Determinism ----

    @ParameterizedTest
    @EnumSource(ChannelPadding.class)
    void parallelBackendIsBitIdenticalToTheLoops(ChannelPadding p) {
        int n = 3, c = 7, h = 11, w = 13, kc = 5, kh = 3, kw = 3, size = n * c * h * w, taps = kc * kh * kw;
        float[] x = Inputs.gaussian(size, 41), f = Inputs.gaussian(taps, 42), b = Inputs.gaussian(1, 43);
        float[] gy = Inputs.gaussian(size, 44);
        float[] partials = new float[PrismConv.partialsLength(n, c, kc, kh, kw)];
        float[][] seq = new float[4][], par = new float[4][];
        for (int pass = 0; pass < 2; pass++) {
            float[] y = Inputs.poisoned(size), gx = Inputs.poisoned(size), gf = Inputs.poisoned(taps), gb = Inputs.poisoned(1);
            List<Launch> launches = new java.util.ArrayList<>();
            launches.add(PrismConv.forward(x, f, b, y, n, c, h, w, kc, kh, kw, p));
            launches.add(PrismConv.backwardData(gy, f, gx, n, c, h, w, kc, kh, kw, p));
            launches.addAll(PrismConv.backwardWeight(x, gy, partials, gf, gb, n, c, h, w, kc, kh, kw, p));
            launches.forEach(pass == 0 ? Backends::seq : Backends::par);
            (pass == 0 ? seq : par)[0] = y;
            (pass == 0 ? seq : par)[1] = gx;
            (pass == 0 ? seq : par)[2] = gf;
            (pass == 0 ? seq : par)[3] = gb;
        }
        String[] what = {"y", "gx", "gf", "gb"};
        for (int i = 0; i < 4; i++) {
            assertIdentical(what[i] + " " + p, seq[i], par[i]);
        }
    }

    // ---- Arguments ----

    @Test
    void paddingCodesAndNamesRoundTrip() {
        for (ChannelPadding p : ChannelPadding.values()) {
            assertEquals(p, ChannelPadding.ofCode(p.code()));
            assertEquals(p, ChannelPadding.ofTorchName(p.torchName()));
        }
        assertEquals(PrismConvKernels.ZEROS, ChannelPadding.ZEROS.code());
        assertEquals(PrismConvKernels.REPLICATE, ChannelPadding.REPLICATE.code());
        assertEquals(PrismConvKernels.CIRCULAR, ChannelPadding.CIRCULAR.code());
    }

    @Test
    void badArgumentsAreRejectedByName() {
        int n = 2, c = 5, h = 7, w = 9, size = n * c * h * w;
        float[] x = new float[size], y = new float[size], f = new float[27], b = new float[1];
        ChannelPadding z = ChannelPadding.ZEROS;

        var e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.forward(x, new float[36], b, y, n, c, h, w, 4, 3, 3, z));
        assertEquals("prismconv.forward: argument 'kc' expected an odd size, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.backwardData(x, f, y, n, c, h, w, 3, 3, 2, z));
        assertEquals("prismconv.backwardData: argument 'kw' expected an odd size, found 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.forward(x, new float[26], b, y, n, c, h, w, z));
        assertEquals("prismconv.forward: argument 'f' expected length 27, found 26", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.forward(x, f, b, new float[size - 1], n, c, h, w, z));
        assertEquals("prismconv.forward: argument 'y' expected length 630, found 629", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.forward(x, f, new float[2], y, n, c, h, w, z));
        assertEquals("prismconv.forward: argument 'b' expected length 1, found 2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.forward(x, f, b, x, n, c, h, w, z));
        assertEquals("prismconv.forward: argument 'y' expected an array distinct from 'x'"
                + " (the kernel reads one while writing the other), found the same array", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.forward(x, f, b, y, n, c, h, w, null));
        assertEquals("prismconv.forward: argument 'padding' expected zeros, replicate or circular, found null", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChannelPadding.ofCode(3));
        assertEquals("unknown channel padding code 3: expected 0 (zeros), 1 (replicate) or 2 (circular)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ChannelPadding.ofTorchName("reflect"));
        assertEquals("unknown channel padding 'reflect': expected zeros, replicate or circular", e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.backwardWeight(x, y, new float[559], f, b, n, c, h, w, 3, 3, 3, z));
        assertEquals("prismconv.weightPartials: argument 'partials' expected length >= 560, found 559", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.backwardWeight(x, y, new float[560], new float[9], b, n, c, h, w, 3, 3, 3, z));
        assertEquals("prismconv.weightReduce: argument 'gf' expected length 27, found 9", e.getMessage());

        float[] fs = new float[9], fc = new float[3], t = new float[size];
        e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.separableForward(x, new float[16], new float[4], b, t, y, n, c, h, w, 4, z));
        assertEquals("prismconv.separable.forward: argument 'k' expected an odd size, found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> PrismConv.separableForward(x, fs, fc, b, new float[size + 1], y, n, c, h, w, 3, z));
        assertEquals("prismconv.separable.forward: argument 't' expected length 630, found 631", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.separableBackward(x, y, fs, fc, t,
                new float[199], new float[size], new float[9], new float[3], b, n, c, h, w, 3, z));
        assertEquals("prismconv.separable.backward: argument 'partials' expected length >= 200, found 199", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PrismConv.separableBackward(x, y, fs, new float[5], t,
                new float[200], new float[size], new float[9], new float[3], b, n, c, h, w, 3, z));
        assertEquals("prismconv.separable.backward: argument 'fc' expected length 3, found 5", e.getMessage());
    }
}
