package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Composite;
import dev.prism.kernels.Composite.GateWeights;
import dev.prism.kernels.Composite.PrismAttnBuffers;
import dev.prism.kernels.Composite.PrismAttnGradBuffers;
import dev.prism.kernels.Composite.PrismAttnWeights;
import dev.prism.kernels.Composite.WgBuffers;
import dev.prism.kernels.Composite.WgGradBuffers;
import dev.prism.backend.Launch;
import dev.prism.kernels.PrismConv.ChannelPadding;

import java.util.ArrayList;
import java.util.List;

/**
 * The composite operations as whole plans: PrismAttn (DeepPrism eq. (5)) with the paper's defaults
 * (channel filters of 3, one head, zero padding) at two resolutions, and WG-Down / WG-Up (Spectral
 * Diffusion §5.1) with one gate per band and hidden width 16 at MODEL. Each forward plan and each
 * backward plan; a backward case runs its forward pass on the host while it is built, as the state a
 * training step would have left behind, and takes that state as plan inputs.
 *
 * <p>MODEL: PrismAttn at 1×64×16×16 (P = 256) and, {@code .hires}, 1×64×32×32 (P = 1024); WG-Down of
 * 1×64×64×64; WG-Up of 1×256×32×32 to 1×64×64×64. SMALL: odd shapes of the same form, {@code .hires}
 * again at twice the side.
 */
final class CompositeCases implements CaseProvider {
    private static final int K = 3, HEADS = 1;
    private static final ChannelPadding PADDING = ChannelPadding.ZEROS;

    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        List<KernelCase> out = new ArrayList<>();
        int n = small ? 2 : 1, c = small ? 5 : 64;
        for (String variant : new String[] {"", ".hires"}) {
            int times = variant.isEmpty() ? 1 : 2;
            int h = times * (small ? 3 : 16), w = times * (small ? 4 : 16);
            String shape = n + "x" + c + "x" + h + "x" + w + " P" + h * w + " k" + K + " heads" + HEADS;
            String fwd = "composite.prismAttn" + variant, bwd = "composite.prismAttn.backward" + variant;
            out.add(new KernelCase(fwd, shape, seed -> prismAttn(fwd, seed, n, c, h, w)));
            out.add(new KernelCase(bwd, shape, seed -> prismAttnBackward(bwd, seed, n, c, h, w)));
        }
        int hidden = small ? 3 : 16, gates = 1;
        int dc = small ? 5 : 64, dh = small ? 6 : 64, dw = small ? 10 : 64;
        String down = n + "x" + dc + "x" + dh + "x" + dw + " -> " + n + "x" + dc + "x" + dh / 2 + "x" + dw / 2
                + " hidden" + hidden + " G" + gates;
        out.add(new KernelCase("composite.wgDown", down, seed -> wg("composite.wgDown", false, false, seed, n, dc, dh, dw, hidden, gates)));
        out.add(new KernelCase("composite.wgDown.backward", down,
                seed -> wg("composite.wgDown.backward", false, true, seed, n, dc, dh, dw, hidden, gates)));
        int uc = small ? 5 : 64, uh = small ? 3 : 32, uw = small ? 5 : 32;
        String up = n + "x" + 4 * uc + "x" + uh + "x" + uw + " -> " + n + "x" + uc + "x" + 2 * uh + "x" + 2 * uw
                + " hidden" + hidden + " G" + gates;
        out.add(new KernelCase("composite.wgUp", up, seed -> wg("composite.wgUp", true, false, seed, n, uc, uh, uw, hidden, gates)));
        out.add(new KernelCase("composite.wgUp.backward", up,
                seed -> wg("composite.wgUp.backward", true, true, seed, n, uc, uh, uw, hidden, gates)));
        return out;
    }

    private static PrismAttnWeights attnWeights(Rand r) {
        return new PrismAttnWeights(r.gaussian(K, 0.6f), r.gaussian(1, 0.3f), r.gaussian(K, 0.6f), r.gaussian(1, 0.3f),
                r.gaussian(K, 0.6f), r.gaussian(1, 0.3f), r.gaussian(K, 0.6f), r.gaussian(1, 0.3f));
    }

    private static float[][] arrays(PrismAttnWeights p) {
        return new float[][] {p.wq(), p.bq(), p.wk(), p.bk(), p.wv(), p.bv(), p.wo(), p.bo()};
    }

    private static Plan prismAttn(String name, long seed, int n, int c, int h, int w) {
        Rand r = new Rand(seed);
        int len = n * c * h * w;
        float[] u = r.gaussian(len), out = Rand.poisoned(len);
        PrismAttnWeights p = attnWeights(r);
        PrismAttnBuffers b = PrismAttnBuffers.allocate(n, c, h, w, HEADS);
        return Plan.builder(name).addAll(Composite.prismAttn(u, p, b, out, n, c, h, w, K, HEADS, PADDING))
                .constants(arrays(p)).inputs(u).outputs(out).build();
    }

    private static Plan prismAttnBackward(String name, long seed, int n, int c, int h, int w) {
        Rand r = new Rand(seed);
        int len = n * c * h * w;
        float[] u = r.gaussian(len), gout = r.gaussian(len);
        PrismAttnWeights p = attnWeights(r);
        PrismAttnBuffers saved = PrismAttnBuffers.allocate(n, c, h, w, HEADS);
        runOnHost(Composite.prismAttn(u, p, saved, new float[len], n, c, h, w, K, HEADS, PADDING));
        PrismAttnWeights g = new PrismAttnWeights(Rand.poisoned(K), Rand.poisoned(1), Rand.poisoned(K), Rand.poisoned(1),
                Rand.poisoned(K), Rand.poisoned(1), Rand.poisoned(K), Rand.poisoned(1));
        float[] gu = Rand.poisoned(len);
        return Plan.builder(name)
                .addAll(Composite.prismAttnBackward(u, gout, p, saved, PrismAttnGradBuffers.allocate(n, c, h, w, K, HEADS),
                        gu, g, n, c, h, w, K, HEADS, PADDING))
                .constants(arrays(p)).inputs(u, gout, saved.q(), saved.k(), saved.v(), saved.probs(), saved.attn())
                .outputs(gu).outputs(arrays(g)).build();
    }

    /** WG-Down of X[n,c,h,w] or WG-Up of X[n,4c,h,w], forward or backward. */
    private static Plan wg(String name, boolean up, boolean backward, long seed, int n, int c, int h, int w,
                           int hidden, int gates) {
        Rand r = new Rand(seed);
        int cin = up ? 4 * c : c, len = n * cin * h * w, outLen = up ? len : len / 4;
        float[] x = r.gaussian(len);
        GateWeights p = new GateWeights(r.gaussian(hidden * cin, (float) (1 / Math.sqrt(cin))), r.gaussian(hidden, 0.5f),
                r.gaussian(4 * gates * hidden, (float) (1 / Math.sqrt(hidden))), r.gaussian(4 * gates, 0.5f));
        WgBuffers b = up ? WgBuffers.forUp(n, c, h, w, hidden, gates) : WgBuffers.forDown(n, c, h, w, hidden, gates);
        if (!backward) {
            float[] out = Rand.poisoned(outLen);
            List<Launch> fwd = up ? Composite.wgUp(x, p, b, out, n, c, h, w, hidden, gates)
                    : Composite.wgDown(x, p, b, out, n, c, h, w, hidden, gates);
            return Plan.builder(name).addAll(fwd).constants(p.w1(), p.b1(), p.w2(), p.b2()).inputs(x).outputs(out).build();
        }
        float[] gout = r.gaussian(outLen);
        runOnHost(up ? Composite.wgUp(x, p, b, new float[outLen], n, c, h, w, hidden, gates)
                : Composite.wgDown(x, p, b, new float[outLen], n, c, h, w, hidden, gates));
        float[] gx = Rand.poisoned(len);
        GateWeights g = new GateWeights(Rand.poisoned(p.w1().length), Rand.poisoned(hidden), Rand.poisoned(p.w2().length),
                Rand.poisoned(4 * gates));
        List<Launch> bwd = up
                ? Composite.wgUpBackward(x, gout, p, b, WgGradBuffers.forUp(n, c, h, w, hidden, gates), gx, g, n, c, h, w, hidden, gates)
                : Composite.wgDownBackward(x, gout, p, b, WgGradBuffers.forDown(n, c, h, w, hidden, gates), gx, g,
                n, c, h, w, hidden, gates);
        // WG-Up's backward does not read the gated bands; WG-Down's does.
        Plan.Builder plan = Plan.builder(name).addAll(bwd).constants(p.w1(), p.b1(), p.w2(), p.b2())
                .inputs(x, gout, b.pooled(), b.preact(), b.act(), b.gates());
        if (!up) {
            plan.inputs(b.bands());
        }
        return plan.outputs(gx, g.w1(), g.b1(), g.w2(), g.b2()).build();
    }

    /** Runs launches through their kernel loops on the calling thread: the forward state of a backward case. */
    private static void runOnHost(List<Launch> launches) {
        launches.forEach(l -> l.loops().run());
    }
}
