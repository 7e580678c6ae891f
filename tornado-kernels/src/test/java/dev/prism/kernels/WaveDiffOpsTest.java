package dev.prism.kernels;

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

/**
 * The kernels WaveDiff's generator added (FIR resampling, tanh, PixelNorm, the adaptive norm's modulation),
 * forward and backward, against PyTorch (tools/refgen/families/wavediff_ops.py).
 */
class WaveDiffOpsTest {

    @ParameterizedTest
    @ValueSource(strings = {"upfirdn_n2_c3_4x6_up2_down1_pad21_k4", "upfirdn_n2_c3_6x8_up1_down2_pad11_k4",
            "upfirdn_n1_c2_5x7_up1_down1_pad22_k4", "upfirdn_n1_c3_5x3_up2_down3_pad12_k3", "upfirdn_n2_c1_3x4_up3_down2_pad00_k2"})
    void upfirdnAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("wavediff_ops/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3], up = (int) d[4], down = (int) d[5], p0 = (int) d[6], p1 = (int) d[7];
        float[] taps = r.f("taps");
        int[] ys = r.shape("y");
        assertEquals(ys[2], Resample.upfirdnSize(h, up, down, p0, p1, taps.length), "output height");
        assertEquals(ys[3], Resample.upfirdnSize(w, up, down, p0, p1, taps.length), "output width");
        float[] y = Inputs.poisoned(r.f("y").length), gx = Inputs.poisoned(n * c * h * w);
        Backends.seq(Resample.upfirdn(r.f("x"), taps, y, n, c, h, w, up, down, p0, p1));
        assertClose(name + " forward", r.f("y"), y);
        Backends.seq(Resample.upfirdnBackward(r.f("gy"), taps, gx, n, c, h, w, up, down, p0, p1));
        assertClose(name + " backward", r.f("gx"), gx);
        float[] par = Inputs.poisoned(y.length);
        Backends.par(Resample.upfirdn(r.f("x"), taps, par, n, c, h, w, up, down, p0, p1));
        assertIdentical(name + " parallel", y, par);
    }

    @Test
    void upfirdnRejectsALeadingPadOfTheFilterLengthNamingIt() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Resample.upfirdn(new float[16], new float[] {1, 1}, new float[64], 1, 1, 4, 4, 2, 1, 2, 0));
        assertEquals("resample.upfirdn: argument 'pad0' expected in [0, 1], found 2", e.getMessage());
    }

    @Test
    void tanhAndItsBackwardMatchPyTorch() {
        Npz r = Npz.resource("wavediff_ops/tanh_7x13");
        int len = r.f("x").length;
        float[] y = Inputs.poisoned(len), gx = Inputs.poisoned(len);
        Backends.seq(Activation.tanh(r.f("x"), y, len));
        assertClose("tanh", r.f("y"), y);
        Backends.seq(Activation.tanhBackward(y, r.f("gy"), gx, len));
        assertClose("tanh backward", r.f("gx"), gx);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pixelnorm_3x100", "pixelnorm_2x7"})
    void pixelNormAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("wavediff_ops/" + name);
        int[] s = r.shape("x");
        float[] y = Inputs.poisoned(s[0] * s[1]), gx = Inputs.poisoned(s[0] * s[1]);
        Backends.seq(Norm.pixelNorm(r.f("x"), y, s[0], s[1], 1e-8f));
        assertClose(name, r.f("y"), y);
        Backends.seq(Norm.pixelNormBackward(r.f("x"), r.f("gy"), gx, s[0], s[1], 1e-8f));
        assertClose(name + " backward", r.f("gx"), gx);
    }

    @ParameterizedTest
    @ValueSource(strings = {"modulate_silu0", "modulate_silu1"})
    void modulationAndItsBackwardMatchPyTorch(String name) {
        Npz r = Npz.resource("wavediff_ops/" + name);
        long[] d = r.get("dims").ints();
        int n = (int) d[0], c = (int) d[1], h = (int) d[2], w = (int) d[3];
        boolean silu = d[4] != 0;
        int size = n * c * h * w;
        float[] y = Inputs.poisoned(size), gx = Inputs.poisoned(size), gs = Inputs.poisoned(2 * n * c);
        Backends.seq(Elementwise.modulatePlanes(r.f("x"), r.f("s"), y, n, c, h, w, silu));
        assertClose(name, r.f("y"), y);
        Backends.seq(Elementwise.modulatePlanesBackward(r.f("x"), r.f("s"), r.f("gy"), gx, gs, n, c, h, w, silu));
        assertClose(name + " gx", r.f("gx"), gx);
        assertClose(name + " gs", r.f("gs"), gs);
    }
}
