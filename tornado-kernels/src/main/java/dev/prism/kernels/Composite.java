package dev.prism.kernels;

import dev.prism.backend.Launch;
import dev.prism.kernels.PrismConv.ChannelPadding;

import java.util.ArrayList;
import java.util.List;

/**
 * Composite operations of the papers, each a checked chain of existing launch factories: PrismAttn
 * (DeepPrism eq. (5)) and the wavelet-gated down- and upsampling WG-Down and WG-Up (Spectral Diffusion
 * §5.1), forward and backward. There are no kernels of their own: every launch is one of
 * {@link PrismConv}, {@link Attention}, {@link Gating}, {@link Gemm}, {@link Activation}, {@link Haar}
 * and {@link Elementwise}, so a device backend runs a composite as the plan of those kernels, with the
 * intermediates in caller-owned buffers that stay on the device.
 *
 * <p>Every factory checks all its sizes and buffers under its own name ({@code composite.prismAttn},
 * {@code composite.wgDown}, …) before any launch is made, naming record components as
 * {@code buffers.q}, {@code weights.wq}, {@code grads.w1}. Outputs and buffers are overwritten, never
 * accumulated into, so a plan may execute a composite any number of times.
 *
 * <h2>Forward state</h2>
 * A backward factory reads the buffers its forward factory filled (the attention probabilities, the
 * gates, …) rather than computing them again: run the forward launches, then the backward ones, on the
 * same buffers, input and weights, and change none of them in between. The backward changes neither
 * them nor its inputs.
 */
public final class Composite {
    private Composite() {
    }

    // ------------------------------------------------------------------------------------------------
    // PrismAttn, DeepPrism eq. (5)
    // ------------------------------------------------------------------------------------------------

    /**
     * The four channel filters of PrismAttn and their scalar biases, or their gradients: {@code wq, wk,
     * wv, wo} of {@code [K]}, {@code bq, bk, bv, bo} of {@code [1]}. A null bias means none (the
     * convolution reads a zero); in a gradient set a null bias gradient is not computed. A filter is
     * never null.
     */
    public record PrismAttnWeights(float[] wq, float[] bq, float[] wk, float[] bk, float[] wv, float[] bv,
                                   float[] wo, float[] bo) {
        /** Zero filters of size {@code k}, with zero biases when {@code bias}: for example a gradient set. */
        public static PrismAttnWeights zeros(int k, boolean bias) {
            Check.of("composite.PrismAttnWeights").odd("k", k);
            return new PrismAttnWeights(new float[k], bias ? new float[1] : null, new float[k], bias ? new float[1] : null,
                    new float[k], bias ? new float[1] : null, new float[k], bias ? new float[1] : null);
        }
    }

    /**
     * The intermediates of {@link #prismAttn}, which {@link #prismAttnBackward} reads again. With
     * {@code P = H·W} and {@code d = C/heads}:
     * <ul>
     *   <li>{@code q, k, v [N,C,H,W]}: {@code Prism(u; wq) + bq} and so on, which is also the attention's
     *       channel-major {@code [N, heads·d, P]};</li>
     *   <li>{@code probs [N·heads, P, P]}: the softmax probabilities, row = query position, column = key
     *       position (at least this many floats);</li>
     *   <li>{@code attn [N,C,H,W]}: {@code Attn(q, k, v)}, the input of the output filter.</li>
     * </ul>
     */
    public record PrismAttnBuffers(float[] q, float[] k, float[] v, float[] probs, float[] attn) {
        public static PrismAttnBuffers allocate(int n, int c, int h, int w, int heads) {
            Check chk = attnShape("composite.PrismAttnBuffers", n, c, h, w, heads);
            int size = chk.size("q", n, c, h, w);
            int probs = chk.size("probs", n, heads, h * w, h * w);
            return new PrismAttnBuffers(new float[size], new float[size], new float[size], new float[probs], new float[size]);
        }
    }

    /**
     * Scratch of {@link #prismAttnBackward}:
     * <ul>
     *   <li>{@code gattn [N,C,H,W]}: the gradient of {@code attn}, later each branch's share of the
     *       gradient of u;</li>
     *   <li>{@code gq, gk, gv [N,C,H,W]}: the gradients of q, k, v;</li>
     *   <li>{@code dprobs [N·heads, P, P]}: the gradient of the attention scores (at least this many);</li>
     *   <li>{@code partials}: per-channel partial sums of a filter gradient, at least
     *       {@code N·C·2·(K + 1)} floats ({@link PrismConv#partialsLength} for a {@code (K,1,1)} filter).</li>
     * </ul>
     */
    public record PrismAttnGradBuffers(float[] gattn, float[] gq, float[] gk, float[] gv, float[] dprobs,
                                       float[] partials) {
        public static PrismAttnGradBuffers allocate(int n, int c, int h, int w, int k, int heads) {
            Check chk = attnShape("composite.PrismAttnGradBuffers", n, c, h, w, heads).odd("k", k);
            int size = chk.size("gq", n, c, h, w);
            int probs = chk.size("dprobs", n, heads, h * w, h * w);
            return new PrismAttnGradBuffers(new float[size], new float[size], new float[size], new float[size],
                    new float[probs], new float[PrismConv.partialsLength(n, c, k, 1, 1)]);
        }
    }

    /**
     * {@link #prismAttn(float[], PrismAttnWeights, PrismAttnBuffers, float[], int, int, int, int, int, int, ChannelPadding)}
     * with the paper's defaults: filters of size 3, one head, zero channel padding.
     */
    public static List<Launch> prismAttn(float[] u, PrismAttnWeights weights, PrismAttnBuffers buffers, float[] out,
                                         int n, int c, int h, int w) {
        return prismAttn(u, weights, buffers, out, n, c, h, w, 3, 1, ChannelPadding.ZEROS);
    }

    /**
     * PrismAttn, DeepPrism eq. (5):
     * <pre>
     *   q = Prism(u; wq) + bq,  k = Prism(u; wk) + bk,  v = Prism(u; wv) + bv      // DeepPrism eq. (5)
     *   out = Prism(Attn(q, k, v); wo) + bo                                         // DeepPrism eq. (5)
     * </pre>
     * {@code Prism(u; w)} is the channel convolution of DeepPrism eq. (1): a 1-D convolution along the
     * channel axis with the filter {@code w[K]} and channel padding {@code K/2} in the given mode, that
     * is {@link PrismConv#forward} with a {@code (K,1,1)} filter. {@code Attn} is multi-head scaled
     * dot-product attention over the {@code P = H·W} positions (DeepPrism eq. (4) for one head):
     * {@code Attn(q,k,v)[n,h,:,p] = Σ_m softmax_m(q[n,h,:,p]·k[n,h,:,m] / √d) v[n,h,:,m]}, head
     * {@code h} taking channels {@code [h·d, (h+1)·d)}, {@code d = C/heads}; with one head the scale is
     * {@code 1/√C} as in eq. (4). The map itself, {@code [N,C,H,W]}, is the attention's channel-major
     * {@code [N, heads·d, P]}, so nothing is transposed.
     *
     * <p>The paper's attention block is the residual layer {@code u + PrismAttn(u)}; the residual is the
     * caller's (for example {@link Elementwise#add}).
     *
     * <p>Reads {@code u[N,C,H,W]} and the weights; writes {@code out[N,C,H,W]} and every buffer of
     * {@code buffers} (see {@link PrismAttnBuffers}). Seven launches: three channel convolutions, the
     * three of {@link Attention#forward}, the output convolution.
     *
     * @param k     the channel filter size K, odd
     * @param heads the number of attention heads, a divisor of C
     */
    public static List<Launch> prismAttn(float[] u, PrismAttnWeights weights, PrismAttnBuffers buffers, float[] out,
                                         int n, int c, int h, int w, int k, int heads, ChannelPadding padding) {
        Check chk = attnShape("composite.prismAttn", n, c, h, w, heads).odd("k", k);
        chk.that(padding != null, "padding", "zeros, replicate or circular", "null");
        int size = chk.size("u", n, c, h, w);
        checkWeights(chk, "weights", weights, k);
        checkBuffers(chk, "buffers", buffers, size, chk.size("probs", n, heads, h * w, h * w));
        chk.length("u", u, size).length("out", out, size);
        distinct(chk, "u", u, "out", out, "buffers.q", buffers.q(), "buffers.k", buffers.k(), "buffers.v", buffers.v(),
                "buffers.probs", buffers.probs(), "buffers.attn", buffers.attn());
        List<Launch> launches = new ArrayList<>(8);
        launches.add(PrismConv.forward(u, weights.wq(), weights.bq(), buffers.q(), n, c, h, w, k, 1, 1, padding));
        launches.add(PrismConv.forward(u, weights.wk(), weights.bk(), buffers.k(), n, c, h, w, k, 1, 1, padding));
        launches.add(PrismConv.forward(u, weights.wv(), weights.bv(), buffers.v(), n, c, h, w, k, 1, 1, padding));
        launches.addAll(Attention.forward(buffers.q(), buffers.k(), buffers.v(), buffers.attn(), buffers.probs(),
                n, heads, c / heads, h * w));
        launches.add(PrismConv.forward(buffers.attn(), weights.wo(), weights.bo(), out, n, c, h, w, k, 1, 1, padding));
        return List.copyOf(launches);
    }

    /**
     * {@link #prismAttnBackward(float[], float[], PrismAttnWeights, PrismAttnBuffers, PrismAttnGradBuffers, float[], PrismAttnWeights, int, int, int, int, int, int, ChannelPadding)}
     * with the paper's defaults: filters of size 3, one head, zero channel padding.
     */
    public static List<Launch> prismAttnBackward(float[] u, float[] gout, PrismAttnWeights weights, PrismAttnBuffers saved,
                                                 PrismAttnGradBuffers scratch, float[] gu, PrismAttnWeights grads,
                                                 int n, int c, int h, int w) {
        return prismAttnBackward(u, gout, weights, saved, scratch, gu, grads, n, c, h, w, 3, 1, ChannelPadding.ZEROS);
    }

    /**
     * Gradients of {@link #prismAttn} for {@code gout = ∂L/∂out}, by the chain rule through the
     * launches of the forward pass:
     * <pre>
     *   gattn = Prismᵀ(gout; wo),  gwo, gbo from (attn, gout)          (PrismConv backward)
     *   gq, gk, gv = Attnᵀ(q, k, v, probs; gattn)                       (Attention backward)
     *   gwq, gbq from (u, gq), and likewise for k and v                 (PrismConv backward)
     *   gu = Prismᵀ(gq; wq) + Prismᵀ(gk; wk) + Prismᵀ(gv; wv)           (u feeds three branches)
     * </pre>
     * Reads {@code u}, {@code gout}, the weights and {@code saved}, the buffers of a forward pass on the
     * same {@code u} and weights; changes none of them. Writes {@code gu[N,C,H,W]}, every filter gradient
     * of {@code grads} ({@code [K]} each) and each of its bias gradients that is not null ({@code [1]});
     * uses {@code scratch} (see {@link PrismAttnGradBuffers}). Nineteen launches.
     *
     * <p>The key bias's gradient is zero in exact arithmetic: {@code bk} adds {@code bk·Σ_c q[c,p]} to
     * every score of query p alike, and the softmax cancels it. It is computed like the others, so
     * {@code grads.bk} receives {@code Σ gk}, zero up to rounding.
     */
    public static List<Launch> prismAttnBackward(float[] u, float[] gout, PrismAttnWeights weights, PrismAttnBuffers saved,
                                                 PrismAttnGradBuffers scratch, float[] gu, PrismAttnWeights grads,
                                                 int n, int c, int h, int w, int k, int heads, ChannelPadding padding) {
        Check chk = attnShape("composite.prismAttnBackward", n, c, h, w, heads).odd("k", k);
        chk.that(padding != null, "padding", "zeros, replicate or circular", "null");
        int size = chk.size("u", n, c, h, w);
        int pp = chk.size("probs", n, heads, h * w, h * w);
        checkWeights(chk, "weights", weights, k);
        checkWeights(chk, "grads", grads, k);
        checkBuffers(chk, "saved", saved, size, pp);
        chk.that(scratch != null, "scratch", "a PrismAttnGradBuffers", "null");
        chk.length("scratch.gattn", scratch.gattn(), size).length("scratch.gq", scratch.gq(), size)
                .length("scratch.gk", scratch.gk(), size).length("scratch.gv", scratch.gv(), size)
                .atLeast("scratch.dprobs", scratch.dprobs(), pp)
                .atLeast("scratch.partials", scratch.partials(), PrismConv.partialsLength(n, c, k, 1, 1));
        chk.length("u", u, size).length("gout", gout, size).length("gu", gu, size);
        distinct(chk, "u", u, "gout", gout, "gu", gu, "weights.wq", weights.wq(), "weights.bq", weights.bq(),
                "weights.wk", weights.wk(), "weights.bk", weights.bk(), "weights.wv", weights.wv(), "weights.bv", weights.bv(),
                "weights.wo", weights.wo(), "weights.bo", weights.bo(), "saved.q", saved.q(), "saved.k", saved.k(), "saved.v", saved.v(),
                "saved.probs", saved.probs(), "saved.attn", saved.attn(), "scratch.gattn", scratch.gattn(),
                "scratch.gq", scratch.gq(), "scratch.gk", scratch.gk(), "scratch.gv", scratch.gv(),
                "scratch.dprobs", scratch.dprobs(), "scratch.partials", scratch.partials(),
                "grads.wq", grads.wq(), "grads.bq", grads.bq(), "grads.wk", grads.wk(), "grads.bk", grads.bk(),
                "grads.wv", grads.wv(), "grads.bv", grads.bv(), "grads.wo", grads.wo(), "grads.bo", grads.bo());
        float[] ga = scratch.gattn(), gq = scratch.gq(), gk = scratch.gk(), gv = scratch.gv(), part = scratch.partials();
        List<Launch> launches = new ArrayList<>(19);
        launches.add(PrismConv.backwardData(gout, weights.wo(), ga, n, c, h, w, k, 1, 1, padding));
        launches.addAll(PrismConv.backwardWeight(saved.attn(), gout, part, grads.wo(), grads.bo(), n, c, h, w, k, 1, 1, padding));
        launches.addAll(Attention.backward(saved.q(), saved.k(), saved.v(), saved.probs(), ga, gq, gk, gv, scratch.dprobs(),
                n, heads, c / heads, h * w));
        launches.addAll(PrismConv.backwardWeight(u, gq, part, grads.wq(), grads.bq(), n, c, h, w, k, 1, 1, padding));
        launches.addAll(PrismConv.backwardWeight(u, gk, part, grads.wk(), grads.bk(), n, c, h, w, k, 1, 1, padding));
        launches.addAll(PrismConv.backwardWeight(u, gv, part, grads.wv(), grads.bv(), n, c, h, w, k, 1, 1, padding));
        // gattn is free again: it takes the k and v branches' shares of gu in turn.
        launches.add(PrismConv.backwardData(gq, weights.wq(), gu, n, c, h, w, k, 1, 1, padding));
        launches.add(PrismConv.backwardData(gk, weights.wk(), ga, n, c, h, w, k, 1, 1, padding));
        launches.add(Elementwise.add(gu, ga, gu, size));
        launches.add(PrismConv.backwardData(gv, weights.wv(), ga, n, c, h, w, k, 1, 1, padding));
        launches.add(Elementwise.add(gu, ga, gu, size));
        return List.copyOf(launches);
    }

    private static Check attnShape(String name, int n, int c, int h, int w, int heads) {
        Check chk = Check.of(name).positive("n", n).positive("c", c).positive("h", h).positive("w", w)
                .positive("heads", heads);
        return chk.that(c % heads == 0, "heads", "a divisor of c = " + c, heads);
    }

    private static void checkWeights(Check chk, String set, PrismAttnWeights p, int k) {
        chk.that(p != null, set, "a PrismAttnWeights", "null");
        chk.length(set + ".wq", p.wq(), k).length(set + ".wk", p.wk(), k).length(set + ".wv", p.wv(), k)
                .length(set + ".wo", p.wo(), k);
        float[][] biases = {p.bq(), p.bk(), p.bv(), p.bo()};
        String[] names = {"bq", "bk", "bv", "bo"};
        for (int i = 0; i < 4; i++) {
            if (biases[i] != null) {
                chk.length(set + "." + names[i], biases[i], 1);
            }
        }
    }

    private static void checkBuffers(Check chk, String set, PrismAttnBuffers b, int size, int pp) {
        chk.that(b != null, set, "a PrismAttnBuffers", "null");
        chk.length(set + ".q", b.q(), size).length(set + ".k", b.k(), size).length(set + ".v", b.v(), size)
                .atLeast(set + ".probs", b.probs(), pp).length(set + ".attn", b.attn(), size);
    }

    // ------------------------------------------------------------------------------------------------
    // Wavelet gating, Spectral Diffusion §5.1
    // ------------------------------------------------------------------------------------------------

    /**
     * The gate network of WG-Down and WG-Up, {@code FFN(m) = W2·ReLU(W1·m + b1) + b2} in PyTorch's
     * {@code nn.Linear} layout, or its gradients: {@code w1[hidden, Cin]}, {@code b1[hidden]},
     * {@code w2[4·G, hidden]}, {@code b2[4·G]}, output row {@code j} of the second layer being band
     * {@code j / G}, gate {@code j mod G} (band-major {@code [4, G]}). A null bias means none; in a
     * gradient set a null bias gradient is not computed. {@code Cin} is C for WG-Down and 4C for WG-Up.
     */
    public record GateWeights(float[] w1, float[] b1, float[] w2, float[] b2) {
        /** Zero weights (with zero biases when {@code bias}): for example a gradient set. */
        public static GateWeights zeros(int cin, int hidden, int gates, boolean bias) {
            Check chk = Check.of("composite.GateWeights").positive("cin", cin).positive("hidden", hidden)
                    .positive("gates", gates);
            return new GateWeights(new float[chk.size("w1", hidden, cin)], bias ? new float[hidden] : null,
                    new float[chk.size("w2", 4, gates, hidden)], bias ? new float[4 * gates] : null);
        }
    }

    /**
     * The intermediates of {@link #wgDown} and {@link #wgUp}, which their backward passes read again:
     * <ul>
     *   <li>{@code pooled [N, Cin]}: {@code AvgPool(X)};</li>
     *   <li>{@code preact [N, hidden]}: the first layer's output before the ReLU;</li>
     *   <li>{@code act [N, hidden]}: after the ReLU;</li>
     *   <li>{@code logits [N, 4·G]}: the second layer's output;</li>
     *   <li>{@code gates [N, 4, G]}: {@code sigmoid(logits)}, the gates;</li>
     *   <li>{@code bands [N, 4, C, h, w]} (as long as X in both operations): WG-Down's {@code DWT(X)},
     *       WG-Up's gated sub-bands, the IDWT's input.</li>
     * </ul>
     */
    public record WgBuffers(float[] pooled, float[] preact, float[] act, float[] logits, float[] gates, float[] bands) {
        /** Buffers for {@link #wgDown} of {@code X[N,C,H,W]}. */
        public static WgBuffers forDown(int n, int c, int h, int w, int hidden, int gates) {
            Check chk = gateShape("composite.WgBuffers", n, c, h, w, hidden, gates);
            return allocate(chk, n, c, chk.size("bands", n, c, h, w), hidden, gates);
        }

        /** Buffers for {@link #wgUp} of {@code X[N,4C,h,w]}. */
        public static WgBuffers forUp(int n, int c, int h, int w, int hidden, int gates) {
            Check chk = gateShape("composite.WgBuffers", n, c, h, w, hidden, gates);
            return allocate(chk, n, chk.size("pooled", 4, c), chk.size("bands", n, 4, c, h, w), hidden, gates);
        }

        private static WgBuffers allocate(Check chk, int n, int cin, int bands, int hidden, int gates) {
            int g = chk.size("gates", n, 4, gates);
            return new WgBuffers(new float[chk.size("pooled", n, cin)], new float[chk.size("preact", n, hidden)],
                    new float[n * hidden], new float[g], new float[g], new float[bands]);
        }
    }

    /**
     * Scratch of {@link #wgDownBackward} and {@link #wgUpBackward}, each the gradient of the
     * {@link WgBuffers} component of its name: {@code pooled [N, Cin]}, {@code preact} and {@code act}
     * {@code [N, hidden]}, {@code logits} and {@code gates [N, 4·G]}, {@code bands} (as long as X),
     * which afterwards holds the pooling path's share of the gradient of X; and {@code partial}
     * ({@link Gating#partialLength} floats), per-channel partial sums of the gate gradient when one gate
     * serves C > 1 channels.
     */
    public record WgGradBuffers(float[] pooled, float[] preact, float[] act, float[] logits, float[] gates,
                                float[] bands, float[] partial) {
        /** Scratch for {@link #wgDownBackward} of {@code X[N,C,H,W]}. */
        public static WgGradBuffers forDown(int n, int c, int h, int w, int hidden, int gates) {
            return of(WgBuffers.forDown(n, c, h, w, hidden, gates), n, c);
        }

        /** Scratch for {@link #wgUpBackward} of {@code X[N,4C,h,w]}. */
        public static WgGradBuffers forUp(int n, int c, int h, int w, int hidden, int gates) {
            return of(WgBuffers.forUp(n, c, h, w, hidden, gates), n, c);
        }

        private static WgGradBuffers of(WgBuffers b, int n, int c) {
            return new WgGradBuffers(b.pooled(), b.preact(), b.act(), b.logits(), b.gates(), b.bands(), new float[Gating.partialLength(n, c)]);
        }
    }

    /**
     * WG-Down, the wavelet-gated downsampling of Spectral Diffusion §5.1:
     * <pre>
     *   g   = sigmoid(FFN(AvgPool(X)))           g[N, 4, G]          // Spectral Diffusion §5.1
     *   out = Σ_k g_k ⊙ DWT(X)_k                 k = cA, cH, cV, cD  // Spectral Diffusion §5.1
     * </pre>
     * for {@code X[N,C,H,W]} with H, W even and {@code out[N,C,H/2,W/2]}. {@code FFN} is the paper's
     * "2 layer feed-forward network", {@code Linear(C → hidden) → ReLU → Linear(hidden → 4G)}
     * ({@link GateWeights}); the ReLU is {@link Activation#leakyRelu} with slope 0, as in the
     * channel-attention (squeeze-and-excitation) blocks the paper builds the gate after. DWT is the
     * orthonormal Haar transform of {@link Haar#dwt2}, bands in PyWavelets' order.
     *
     * <p>Why G gates per band: the paper calls g "the gating score of each wavelet band", computed like
     * channel attention from the pooled feature of one sample, so the default {@code gates = 1} gives
     * each sample one score per band, shared by all its channels; {@code gates = C} gives one per band
     * and channel (an FFN with 4C outputs), squeeze-and-excitation's per-channel form. See
     * {@link Gating}.
     *
     * <p>Reads X and the weights; writes {@code out} and every buffer of {@code buffers}
     * ({@link WgBuffers#forDown}). Launches: average pool, the two linear layers (one or two launches
     * each), ReLU, sigmoid, DWT, gated sum.
     *
     * @param hidden the FFN's hidden width, > 0
     * @param gates  gates per band: 1 or C
     */
    public static List<Launch> wgDown(float[] x, GateWeights weights, WgBuffers buffers, float[] out,
                                      int n, int c, int h, int w, int hidden, int gates) {
        Check chk = gateShape("composite.wgDown", n, c, h, w, hidden, gates).even("h", h).even("w", w);
        int size = chk.size("x", n, c, h, w);
        checkGate(chk, "weights", weights, c, hidden, gates);
        checkWgBuffers(chk, "buffers", buffers, n, c, size, hidden, gates);
        chk.length("x", x, size).length("out", out, size / 4);
        distinct(chk, "x", x, "out", out, "buffers.pooled", buffers.pooled(), "buffers.preact", buffers.preact(),
                "buffers.act", buffers.act(), "buffers.logits", buffers.logits(), "buffers.gates", buffers.gates(),
                "buffers.bands", buffers.bands());
        List<Launch> launches = gateForward(x, weights, buffers, n, c, h, w, hidden, gates);
        launches.add(Haar.dwt2(x, buffers.bands(), n, c, h, w));
        launches.add(Gating.gatedSum(buffers.bands(), buffers.gates(), out, n, c, h / 2, w / 2, gates));
        return List.copyOf(launches);
    }

    /**
     * Gradients of {@link #wgDown} for {@code gout = ∂L/∂out [N,C,H/2,W/2]}. X feeds two paths, so its
     * gradient is their sum:
     * <pre>
     *   gbands, gg = gatedSumᵀ(bands, g; gout);  gX_band = DWTᵀ(gbands) = IDWT(gbands)
     *   glogits = g(1 − g) ⊙ gg;  then the FFN's backward to gw2, gb2, gw1, gb1 and gpooled
     *   gX = gX_band + AvgPoolᵀ(gpooled)
     * </pre>
     * Reads X, {@code gout}, the weights and {@code saved}, the buffers of a forward pass on the same X
     * and weights; changes none of them. Writes {@code gx[N,C,H,W]}, {@code grads.w1}, {@code grads.w2}
     * and each of {@code grads.b1}, {@code grads.b2} that is not null; uses {@code scratch}
     * ({@link WgGradBuffers#forDown}).
     */
    public static List<Launch> wgDownBackward(float[] x, float[] gout, GateWeights weights, WgBuffers saved,
                                              WgGradBuffers scratch, float[] gx, GateWeights grads,
                                              int n, int c, int h, int w, int hidden, int gates) {
        Check chk = gateShape("composite.wgDownBackward", n, c, h, w, hidden, gates).even("h", h).even("w", w);
        int size = chk.size("x", n, c, h, w);
        checkGate(chk, "weights", weights, c, hidden, gates);
        checkGate(chk, "grads", grads, c, hidden, gates);
        checkWgBuffers(chk, "saved", saved, n, c, size, hidden, gates);
        checkWgScratch(chk, scratch, n, c, c, size, hidden, gates);
        chk.length("x", x, size).length("gout", gout, size / 4).length("gx", gx, size);
        distinctBackward(chk, x, gout, gx, weights, saved, scratch, grads);
        List<Launch> launches = new ArrayList<>();
        launches.addAll(Gating.gatedSumBackward(saved.bands(), saved.gates(), gout, scratch.bands(), scratch.partial(),
                scratch.gates(), n, c, h / 2, w / 2, gates));
        launches.add(Haar.dwt2Backward(scratch.bands(), gx, n, c, h, w));
        launches.addAll(gateBackward(x, weights, saved, scratch, gx, grads, n, c, h, w, hidden, gates));
        return List.copyOf(launches);
    }

    /**
     * WG-Up, the wavelet-gated upsampling of Spectral Diffusion §5.1: the input {@code X[N,4C,h,w]} is
     * split into four chunks of C channels taken as the sub-bands cA, cH, cV, cD, each is weighted by its
     * gate, and the inverse Haar transform gives {@code out[N,C,2h,2w]}:
     * <pre>
     *   g   = sigmoid(FFN(AvgPool(X)))           g[N, 4, G]              // Spectral Diffusion §5.1
     *   out = IDWT(g_k ⊙ X_k for k = cA, cH, cV, cD)                      // Spectral Diffusion §5.1
     * </pre>
     * The FFN, its ReLU and the meaning of G are those of {@link #wgDown}, here with {@code Cin = 4C}
     * inputs; G is 1 or C, C being the output's channels. Chunk k of X is exactly band k of the
     * band-major {@code [N,4,C,h,w]} that {@link Haar#idwt2} reads, so nothing is copied.
     *
     * <p>Reads X and the weights; writes {@code out} and every buffer of {@code buffers}
     * ({@link WgBuffers#forUp}).
     *
     * @param c the output's channels C (X has 4C)
     * @param h the input's height (the output's is 2h)
     * @param w the input's width (the output's is 2w)
     */
    public static List<Launch> wgUp(float[] x, GateWeights weights, WgBuffers buffers, float[] out,
                                    int n, int c, int h, int w, int hidden, int gates) {
        Check chk = gateShape("composite.wgUp", n, c, h, w, hidden, gates);
        int size = chk.size("x", n, 4, c, h, w);
        chk.size("out", n, c, 2 * h, 2 * w);
        checkGate(chk, "weights", weights, 4 * c, hidden, gates);
        checkWgBuffers(chk, "buffers", buffers, n, 4 * c, size, hidden, gates);
        chk.length("x", x, size).length("out", out, size);
        distinct(chk, "x", x, "out", out, "buffers.pooled", buffers.pooled(), "buffers.preact", buffers.preact(),
                "buffers.act", buffers.act(), "buffers.logits", buffers.logits(), "buffers.gates", buffers.gates(),
                "buffers.bands", buffers.bands());
        List<Launch> launches = gateForward(x, weights, buffers, n, 4 * c, h, w, hidden, gates);
        launches.add(Gating.bandGate(x, buffers.gates(), buffers.bands(), n, c, h, w, gates));
        launches.add(Haar.idwt2(buffers.bands(), out, n, c, 2 * h, 2 * w));
        return List.copyOf(launches);
    }

    /**
     * Gradients of {@link #wgUp} for {@code gout = ∂L/∂out [N,C,2h,2w]}:
     * <pre>
     *   gz = IDWTᵀ(gout) = DWT(gout);  gX_band, gg = bandGateᵀ(X, g; gz)
     *   glogits = g(1 − g) ⊙ gg;  then the FFN's backward to gw2, gb2, gw1, gb1 and gpooled
     *   gX = gX_band + AvgPoolᵀ(gpooled)
     * </pre>
     * Reads X, {@code gout}, the weights and {@code saved} (a forward pass's buffers; its {@code bands}
     * are not needed); changes none of them. Writes {@code gx[N,4C,h,w]}, {@code grads.w1},
     * {@code grads.w2} and each of {@code grads.b1}, {@code grads.b2} that is not null; uses
     * {@code scratch} ({@link WgGradBuffers#forUp}).
     */
    public static List<Launch> wgUpBackward(float[] x, float[] gout, GateWeights weights, WgBuffers saved,
                                            WgGradBuffers scratch, float[] gx, GateWeights grads,
                                            int n, int c, int h, int w, int hidden, int gates) {
        Check chk = gateShape("composite.wgUpBackward", n, c, h, w, hidden, gates);
        int size = chk.size("x", n, 4, c, h, w);
        chk.size("gout", n, c, 2 * h, 2 * w);
        checkGate(chk, "weights", weights, 4 * c, hidden, gates);
        checkGate(chk, "grads", grads, 4 * c, hidden, gates);
        checkWgBuffers(chk, "saved", saved, n, 4 * c, size, hidden, gates);
        checkWgScratch(chk, scratch, n, c, 4 * c, size, hidden, gates);
        chk.length("x", x, size).length("gout", gout, size).length("gx", gx, size);
        distinctBackward(chk, x, gout, gx, weights, saved, scratch, grads);
        List<Launch> launches = new ArrayList<>();
        launches.add(Haar.idwt2Backward(gout, scratch.bands(), n, c, 2 * h, 2 * w));
        launches.addAll(Gating.bandGateBackward(x, saved.gates(), scratch.bands(), gx, scratch.partial(), scratch.gates(),
                n, c, h, w, gates));
        launches.addAll(gateBackward(x, weights, saved, scratch, gx, grads, n, 4 * c, h, w, hidden, gates));
        return List.copyOf(launches);
    }

    /** {@code gates = sigmoid(FFN(AvgPool(x)))} over {@code x[N, cin, h, w]}: Spectral Diffusion §5.1. */
    private static List<Launch> gateForward(float[] x, GateWeights p, WgBuffers b, int n, int cin, int h, int w,
                                            int hidden, int gates) {
        int outs = 4 * gates;
        List<Launch> launches = new ArrayList<>();
        launches.add(Gating.avgPool(x, b.pooled(), n, cin, h, w));
        launches.addAll(Gemm.linear(b.pooled(), p.w1(), p.b1(), b.preact(), n, cin, hidden));
        launches.add(Activation.leakyRelu(b.preact(), b.act(), n * hidden, 0f));
        launches.addAll(Gemm.linear(b.act(), p.w2(), p.b2(), b.logits(), n, hidden, outs));
        launches.add(Activation.sigmoid(b.logits(), b.gates(), n * outs));
        return launches;
    }

    /**
     * From the gate gradient in {@code s.gates()} back through the sigmoid and the FFN to the weights
     * and {@code s.pooled()}, then the pooling path's share of the gradient of x added to {@code gx},
     * which holds the band path's share. {@code s.bands()} is free by then and takes the pooling share.
     */
    private static List<Launch> gateBackward(float[] x, GateWeights p, WgBuffers saved, WgGradBuffers s, float[] gx,
                                             GateWeights grads, int n, int cin, int h, int w, int hidden, int gates) {
        int outs = 4 * gates;
        List<Launch> launches = new ArrayList<>();
        launches.add(Activation.sigmoidBackward(saved.gates(), s.gates(), s.logits(), n * outs));
        launches.addAll(Gemm.linearBackward(saved.act(), p.w2(), s.logits(), s.act(), grads.w2(), grads.b2(), n, hidden, outs));
        launches.add(Activation.leakyReluBackward(saved.preact(), s.act(), s.preact(), n * hidden, 0f));
        launches.addAll(Gemm.linearBackward(saved.pooled(), p.w1(), s.preact(), s.pooled(), grads.w1(), grads.b1(),
                n, cin, hidden));
        launches.add(Gating.avgPoolBackward(s.pooled(), s.bands(), n, cin, h, w));
        launches.add(Elementwise.add(gx, s.bands(), gx, x.length));
        return launches;
    }

    private static Check gateShape(String name, int n, int c, int h, int w, int hidden, int gates) {
        Check chk = Check.of(name).positive("n", n).positive("c", c).positive("h", h).positive("w", w)
                .positive("hidden", hidden);
        return chk.that(gates == 1 || gates == c, "gates", "1 or c = " + c, gates);
    }

    private static void checkGate(Check chk, String set, GateWeights p, int cin, int hidden, int gates) {
        chk.that(p != null, set, "a GateWeights", "null");
        chk.length(set + ".w1", p.w1(), (long) hidden * cin).length(set + ".w2", p.w2(), 4L * gates * hidden);
        if (p.b1() != null) {
            chk.length(set + ".b1", p.b1(), hidden);
        }
        if (p.b2() != null) {
            chk.length(set + ".b2", p.b2(), 4L * gates);
        }
    }

    private static void checkWgBuffers(Check chk, String set, WgBuffers b, int n, int cin, int size, int hidden, int gates) {
        chk.that(b != null, set, "a WgBuffers", "null");
        chk.length(set + ".pooled", b.pooled(), (long) n * cin).length(set + ".preact", b.preact(), (long) n * hidden)
                .length(set + ".act", b.act(), (long) n * hidden).length(set + ".logits", b.logits(), 4L * n * gates)
                .length(set + ".gates", b.gates(), 4L * n * gates).length(set + ".bands", b.bands(), size);
    }

    private static void checkWgScratch(Check chk, WgGradBuffers s, int n, int c, int cin, int size, int hidden, int gates) {
        chk.that(s != null, "scratch", "a WgGradBuffers", "null");
        if (gates != c || s.partial() != null) { // needed only when one gate serves C > 1 channels
            chk.length("scratch.partial", s.partial(), Gating.partialLength(n, c));
        }
        chk.length("scratch.pooled", s.pooled(), (long) n * cin).length("scratch.preact", s.preact(), (long) n * hidden)
                .length("scratch.act", s.act(), (long) n * hidden).length("scratch.logits", s.logits(), 4L * n * gates)
                .length("scratch.gates", s.gates(), 4L * n * gates).length("scratch.bands", s.bands(), size);
    }

    private static void distinctBackward(Check chk, float[] x, float[] gout, float[] gx, GateWeights weights,
                                         WgBuffers saved, WgGradBuffers s, GateWeights grads) {
        distinct(chk, "x", x, "gout", gout, "gx", gx, "weights.w1", weights.w1(), "weights.b1", weights.b1(),
                "weights.w2", weights.w2(), "weights.b2", weights.b2(),
                "saved.pooled", saved.pooled(), "saved.preact", saved.preact(), "saved.act", saved.act(),
                "saved.logits", saved.logits(), "saved.gates", saved.gates(), "saved.bands", saved.bands(),
                "scratch.pooled", s.pooled(), "scratch.preact", s.preact(), "scratch.act", s.act(),
                "scratch.logits", s.logits(), "scratch.gates", s.gates(), "scratch.bands", s.bands(),
                "scratch.partial", s.partial(),
                "grads.w1", grads.w1(), "grads.b1", grads.b1(), "grads.w2", grads.w2(), "grads.b2", grads.b2());
    }

    /**
     * Fails naming the later of the first two arguments that are the same array ({@code pairs} of name,
     * array; null arrays are skipped): the buffers of a composite are read and written by different
     * launches, so none may stand in for another.
     */
    private static void distinct(Check chk, Object... pairs) {
        for (int i = 1; i < pairs.length; i += 2) {
            float[] a = (float[]) pairs[i];
            if (a == null) {
                continue;
            }
            for (int j = i + 2; j < pairs.length; j += 2) {
                float[] b = (float[]) pairs[j];
                if (a == b) {
                    throw chk.fail((String) pairs[j - 1], "an array distinct from '" + pairs[i - 1] + "'", "the same array");
                }
            }
        }
    }
}
