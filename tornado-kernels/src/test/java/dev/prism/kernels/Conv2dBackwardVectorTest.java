package dev.prism.kernels;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.testing.Backends;
import dev.prism.testing.Inputs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The backward pass of the 2-D convolution on the JVM backend's vector variants, against the plain loops:
 * {@link Conv2dWeightGradVector} (the weight gradient; for 3×3 kernels {@link Conv2dWinogradWeightVector}) and the
 * input gradient of stride-1 layers, which
 * {@link Conv2d#backward} runs as {@link Conv2dKernels#flipWeights} and the forward convolution (so on
 * {@link Conv2dVector}). Every geometry {@link Conv2dTest} uses, the models' layers, and shapes that put the
 * lane ranges, the channel blocks and the tap groups in awkward places. The variants must agree with the
 * reference ({@link Backends#SEQ}) within the shared tolerance and give the same bits on every thread
 * count; the weight gradient must also be within the bound of its float runs summed in double.
 */
class Conv2dBackwardVectorTest {
    private static final List<JvmBackend> TEAMS = List.of(JvmBackend.parallel(1), JvmBackend.parallel(2),
            JvmBackend.parallel(3), JvmBackend.parallel(7));

    @AfterAll
    static void close() {
        TEAMS.forEach(JvmBackend::close);
    }

    private static List<Conv2d.Geometry> geometries() {
        List<Conv2d.Geometry> gs = new ArrayList<>(Conv2dVectorTest.testGeometries());
        // the models' layers: 3×3 at 32², 16², 8² (narrower rows than a vector), the 1-channel first and last layers
        gs.add(Conv2d.Geometry.of(2, 32, 32, 32, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 32, 16, 16, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(4, 32, 8, 8, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 16, 8, 8, 17, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 1, 32, 32, 32, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 32, 32, 32, 1, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 64, 64, 64, 64, 3, 1, 1, 1, 1));
        // channel blocks with a remainder, taps not a multiple of the group, padding wider than the row,
        // a padded 1×1 (not a matrix product), tiny planes, lanes cut inside an output channel
        gs.add(Conv2d.Geometry.of(2, 7, 9, 13, 11, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(3, 5, 6, 7, 6, 5, 1, 2, 1, 1));
        gs.add(new Conv2d.Geometry(1, 3, 4, 3, 5, 3, 3, 1, 1, 2, 2, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 4, 5, 5, 3, 1, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(5, 3, 2, 3, 2, 2, 1, 0, 1, 1));
        gs.add(new Conv2d.Geometry(2, 9, 11, 70, 7, 5, 1, 1, 1, 2, 0, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 13, 4, 9, 3, 3, 1, 1, 1, 1));
        // Conv2dWinogradWeightVector (3×3, stride 1, at least 9 input and 17 output channels): odd output sizes (a last
        // tile half outside), no padding and padding 2, rows of more tiles than one block holds, a single output row,
        // channel counts off the micro-kernel's blocks
        gs.add(Conv2d.Geometry.of(3, 9, 7, 9, 17, 3, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 10, 6, 7, 18, 3, 1, 2, 1, 1));
        gs.add(Conv2d.Geometry.of(1, 9, 5, 300, 17, 3, 1, 1, 1, 1));
        gs.add(Conv2d.Geometry.of(2, 11, 3, 40, 19, 3, 1, 0, 1, 1));
        gs.add(Conv2d.Geometry.of(5, 17, 4, 4, 33, 3, 1, 1, 1, 1));
        return gs;
    }

    /** gx and gw of {@link Conv2d#backward} on {@code backend}, each output poisoned first. */
    private static float[][] backward(JvmBackend backend, float[] x, float[] w, float[] gy, Conv2d.Geometry g) {
        float[] gx = Inputs.poisoned(g.xSize()), gw = Inputs.poisoned(g.wSize());
        for (Launch l : Conv2d.backward(x, w, gy, gx, gw, null, g)) {
            backend.run(l);
        }
        return new float[][] {gx, gw};
    }

    @Test
    void theWeightGradientLaunchCarriesTheVariant() {
        Conv2d.Geometry g = Conv2d.Geometry.of(1, 4, 6, 6, 4, 3, 1, 1, 1, 1);
        List<Launch> launches = Conv2d.backwardDirect(new float[g.xSize()], new float[g.wSize()], new float[g.ySize()], null,
                new float[g.wSize()], null, g);
        assertEquals("conv2d.backwardWeight", launches.getFirst().kernel());
        assertNotNull(launches.getFirst().vector());
    }

    /**
     * The weight gradient is summed in parts of the batch ({@link Conv2dKernels#backwardWeightChunks}, then
     * {@link Conv2dKernels#weightChunksReduce}): {@link Conv2d#WEIGHT_CHUNKS} at most, one per item at most, one for
     * planes of fewer than {@link Conv2d#WEIGHT_CHUNKS_MIN_PLANE} outputs. On the loops it is the single sum's result,
     * each element within an ulp (the parts' double sums, kept unrounded, add in another order), and the parts cover the
     * batch once.
     */
    @Test
    void weightGradientInPartsOfTheBatchIsTheWholeSum() {
        assertEquals(List.of(1, 1, 1), List.of(Conv2d.weightChunks(Conv2d.Geometry.of(1, 4, 16, 16, 4, 3, 1, 1, 1, 1)),
                Conv2d.weightChunks(Conv2d.Geometry.of(8, 4, 15, 17, 4, 3, 1, 1, 1, 1)),
                Conv2d.weightChunks(Conv2d.Geometry.of(64, 64, 8, 8, 64, 3, 1, 1, 1, 1))), "one item; 255 and 64 outputs a plane");
        long stream = 1300;
        for (int n : new int[] {1, 2, 3, 4, 5, 9}) {
            Conv2d.Geometry g = Conv2d.Geometry.of(n, 9, 16, 17, 17, 3, 1, 1, 1, 1);
            List<Launch> launches = Conv2d.backward(new float[g.xSize()], new float[g.wSize()], new float[g.ySize()], null,
                    new float[g.wSize()], null, g);
            assertEquals(List.of("conv2d.backwardWeightChunks", "conv2d.weightChunksReduce"),
                    launches.stream().map(Launch::kernel).toList(), "batch " + n);
            assertNotNull(launches.getFirst().vector());
            int chunks = Math.min(n, Conv2d.WEIGHT_CHUNKS);
            assertEquals(chunks, Conv2d.weightChunks(g), "batch " + n);
            assertEquals(List.of(0, n), List.of(Conv2dKernels.weightChunk(n, chunks, 0), Conv2dKernels.weightChunk(n, chunks, chunks)));
            for (int c = 0; c < chunks; c++) {
                assertTrue(Conv2dKernels.weightChunk(n, chunks, c + 1) > Conv2dKernels.weightChunk(n, chunks, c), "chunk " + c);
            }
            float[] x = Inputs.gaussian(g.xSize(), stream++), gy = Inputs.gaussian(g.ySize(), stream++);
            float[] parts = Inputs.poisoned(g.wSize()), whole = Inputs.poisoned(g.wSize());
            for (Launch l : Conv2d.backward(x, new float[g.wSize()], gy, null, parts, null, g)) {
                Backends.SEQ.run(l);
            }
            for (Launch l : Conv2d.backwardDirect(x, new float[g.wSize()], gy, null, whole, null, g)) {
                Backends.SEQ.run(l);
            }
            for (int i = 0; i < whole.length; i++) {
                assertTrue(Math.abs(parts[i] - whole[i]) <= Math.ulp(whole[i]), String.format(Locale.ROOT,
                        "batch %d, gw[%d]: %s in parts, %s whole", n, i, parts[i], whole[i]));
            }
        }
    }

    /**
     * Which 3×3 layers take Winograd's paths on the JVM backend: the forward (and so the input gradient) from
     * {@link Conv2dWinogradVector#MIN_CIN} input and {@link Conv2dWinogradVector#MIN_COUT} output channels, the weight
     * gradient from {@link Conv2dWinogradWeightVector#MIN_CIN} input and {@link Conv2dWinogradWeightVector#MIN_COUT} output
     * channels;
     * a one-channel first or last layer takes the direct paths (docs/KERNELS.md). Geometry alone decides.
     */
    @Test
    void winogradTakesTheLayersItPaysFor() {
        int[] first = Conv2d.Geometry.of(64, 1, 32, 32, 32, 3, 1, 1, 1, 1).pack();
        int[] last = Conv2d.Geometry.of(64, 32, 32, 32, 1, 3, 1, 1, 1, 1).pack();
        int[] wide = Conv2d.Geometry.of(64, 32, 32, 32, 32, 3, 1, 1, 1, 1).pack();
        assertEquals(List.of(false, false, true), List.of(Conv2dWinogradVector.pays(first), Conv2dWinogradVector.pays(last),
                Conv2dWinogradVector.pays(wide)), "forward: first, last, wide");
        assertEquals(true, Conv2dWinogradVector.pays(Conv2d.Geometry.of(64, 32, 32, 32, 2, 3, 1, 1, 1, 1).pack()),
                "forward: 2 channels out");
        assertEquals(List.of(false, false, true), List.of(Conv2dWinogradWeightVector.pays(first),
                Conv2dWinogradWeightVector.pays(last), Conv2dWinogradWeightVector.pays(wide)), "weight gradient: first, last, wide");
        assertEquals(List.of(false, true), List.of(Conv2dWinogradVector.pays(Conv2d.Geometry.of(1, 3, 8, 8, 8, 3, 1, 1, 1, 1).pack()),
                Conv2dWinogradVector.pays(Conv2d.Geometry.of(1, 4, 8, 8, 8, 3, 1, 1, 1, 1).pack())), "forward: 3 and 4 channels in");
        assertEquals(List.of(false, false, true), List.of(
                Conv2dWinogradWeightVector.pays(Conv2d.Geometry.of(1, 8, 8, 8, 17, 3, 1, 1, 1, 1).pack()),
                Conv2dWinogradWeightVector.pays(Conv2d.Geometry.of(1, 9, 8, 8, 16, 3, 1, 1, 1, 1).pack()),
                Conv2dWinogradWeightVector.pays(Conv2d.Geometry.of(1, 9, 8, 8, 17, 3, 1, 1, 1, 1).pack())),
                "weight gradient: 8 -> 17, 9 -> 16, 9 -> 17");
        assertEquals(false, Conv2dWinogradVector.pays(Conv2d.Geometry.of(1, 32, 8, 8, 32, 3, 2, 1, 1, 1).pack()), "stride 2");
    }

    @Test
    void variantsAgreeWithTheLoopsOnEveryShape() {
        long stream = 700;
        for (Conv2d.Geometry g : geometries()) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] gy = Inputs.gaussian(g.ySize(), stream++);
            float[][] ref = backward(Backends.SEQ, x, w, gy, g);
            float[][] vec = backward(Backends.PAR, x, w, gy, g);
            assertClose("conv2d gx, vector " + g, ref[0], vec[0]);
            assertClose("conv2d gw, vector " + g, ref[1], vec[1]);
        }
    }

    @Test
    void variantsGiveTheSameBitsOnEveryThreadCount() {
        long stream = 900;
        for (Conv2d.Geometry g : geometries()) {
            float[] x = Inputs.gaussian(g.xSize(), stream++), w = Inputs.gaussian(g.wSize(), stream++);
            float[] gy = Inputs.gaussian(g.ySize(), stream++);
            float[][] first = backward(TEAMS.getFirst(), x, w, gy, g);
            for (JvmBackend team : TEAMS.subList(1, TEAMS.size())) {
                float[][] other = backward(team, x, w, gy, g);
                assertIdentical("conv2d gx " + g + " on " + team.threads() + " threads", first[0], other[0]);
                assertIdentical("conv2d gw " + g + " on " + team.threads() + " threads", first[1], other[1]);
            }
        }
    }

    /** The flipped weights' range variant copies what the loop copies, from any range boundary. */
    @Test
    void flippedWeightsAreTheLoopsOverAnyRanges() {
        for (Conv2d.Geometry g : geometries()) {
            if (g.groups() != 1) {
                continue;
            }
            int[] geo = g.pack();
            float[] w = Inputs.gaussian(g.wSize(), 41);
            float[] loop = Inputs.poisoned(g.wSize()), ranges = Inputs.poisoned(g.wSize());
            Conv2dKernels.flipWeights(w, loop, geo);
            int step = Math.max(1, g.wSize() / 7);
            for (int from = 0; from < g.wSize(); from += step) {
                Conv2dVector.flipWeightsRange(w, ranges, geo, from, Math.min(g.wSize(), from + step));
            }
            assertIdentical("flipped weights " + g, loop, ranges);
        }
    }

    /**
     * Inputs with a non-zero mean (x around 1, gy around 0.5), so that a float running sum would drift.
     * Against a float64 sum, each element of the variant's weight gradient must be within the bound of two levels
     * of float sums of {@link Conv2dWeightGradVector#RUN} terms, summed in double and rounded once,
     * {@code ulp(r)/2 + 2·m·2⁻⁵³·Σ|t| + 2·RUN·2⁻²⁴·Σ|t|} for {@code m} terms; and its largest error no larger than
     * that of a float running sum in ascending {@code (n, oy, ox)}, computed here.
     */
    @Test
    void weightGradientIsFloatRunsSummedInDouble() {
        // the direct variant (few channels), Winograd's F(2×2, 3×3) (Conv2dWinogradWeightVector.pays) and, at 256 and
        // 512 bits, F(4×4, 3×3) (Conv2dWinograd4WeightVector.pays: 17 → 18 at 32×32, input channels off the micro-kernel's
        // blocks; 16 → 17 at 16×16)
        for (Conv2d.Geometry g : List.of(Conv2d.Geometry.of(4, 6, 32, 32, 5, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(2, 9, 32, 32, 17, 3, 1, 1, 1, 1), Conv2d.Geometry.of(2, 17, 32, 32, 18, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(3, 16, 16, 16, 17, 3, 1, 1, 1, 1),
                Conv2d.Geometry.of(16, 3, 8, 8, 4, 3, 1, 1, 1, 1), Conv2d.Geometry.of(2, 2, 40, 24, 3, 5, 1, 0, 1, 1))) {
            float[] x = Inputs.uniform(g.xSize(), 0.5f, 1.5f, 31), w = Inputs.gaussian(g.wSize(), 32);
            float[] gy = Inputs.uniform(g.ySize(), -0.25f, 1.25f, 33);
            float[] vec = backward(Backends.PAR, x, w, gy, g)[1];
            int size = g.wSize();
            double[] exact = new double[size], abs = new double[size];
            float[] running = new float[size];
            int[] count = new int[size];
            weightGradientSums(x, gy, g, exact, abs, running, count);
            double errVec = 0, errRunning = 0;
            for (int i = 0; i < size; i++) {
                double e = Math.abs(vec[i] - exact[i]);
                double bound = 0.5 * Math.ulp(vec[i]) + 2.0 * count[i] * 0x1p-53 * abs[i]
                        + 2 * Conv2dWeightGradVector.RUN * 0x1p-24 * abs[i];
                if (!(e <= bound)) {
                    fail(String.format(Locale.ROOT, "conv2d gw %s [%d] = %s, exact %s: off by %.3g, the bound is %.3g",
                            g, i, vec[i], exact[i], e, bound));
                }
                errVec = Math.max(errVec, e);
                errRunning = Math.max(errRunning, Math.abs(running[i] - exact[i]));
            }
            assertTrue(errVec <= errRunning, String.format(Locale.ROOT,
                    "conv2d gw %s: the variant's largest error %.3g, a float running sum's %.3g", g, errVec, errRunning));
        }
    }

    /**
     * Per weight element, for stride 1, dilation 1 and a square kernel: the sum in float64 (compensated), the
     * sum of the terms' magnitudes, the float running sum in ascending {@code (n, oy, ox)}, the term count.
     */
    private static void weightGradientSums(float[] x, float[] gy, Conv2d.Geometry g, double[] exact, double[] abs,
                                           float[] running, int[] count) {
        int k = g.kh();
        double[] comp = new double[exact.length];
        for (int n = 0; n < g.n(); n++) {
            for (int oy = 0; oy < g.oh(); oy++) {
                for (int ox = 0; ox < g.ow(); ox++) {
                    for (int co = 0; co < g.cout(); co++) {
                        float e = gy[((n * g.cout() + co) * g.oh() + oy) * g.ow() + ox];
                        for (int ci = 0; ci < g.cin(); ci++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy + ky - g.ph(), ix = ox + kx - g.pw();
                                    if (iy >= 0 && iy < g.h() && ix >= 0 && ix < g.w()) {
                                        int i = ((co * g.cin() + ci) * k + ky) * k + kx;
                                        float xv = x[((n * g.cin() + ci) * g.h() + iy) * g.w() + ix];
                                        double t = (double) e * xv;
                                        double s = exact[i] + t;
                                        comp[i] += Math.abs(exact[i]) >= Math.abs(t) ? (exact[i] - s) + t : (t - s) + exact[i];
                                        exact[i] = s;
                                        abs[i] += Math.abs(t);
                                        running[i] += e * xv;
                                        count[i]++;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for (int i = 0; i < exact.length; i++) {
            exact[i] += comp[i];
        }
    }
}
