package dev.prism.nn;

import dev.prism.backend.Plan;
import dev.prism.kernels.Activation;
import dev.prism.kernels.Approx;
import dev.prism.kernels.Attention;
import dev.prism.kernels.Check;
import dev.prism.kernels.Composite;
import dev.prism.kernels.Concat;
import dev.prism.kernels.Conv2d;
import dev.prism.kernels.Elementwise;
import dev.prism.kernels.Embedding;
import dev.prism.kernels.Gating;
import dev.prism.kernels.Gemm;
import dev.prism.backend.Launch;
import dev.prism.kernels.Norm;
import dev.prism.kernels.PrismConv;
import dev.prism.kernels.Resample;
import dev.prism.kernels.Training;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model's computation recorded as kernel launches over buffers allocated once: what a plan is made of.
 *
 * <p>Each op allocates its output, adds its forward launches, and records a backward rule. Building the
 * graph is the model's shape check: every op validates its sizes through the launch factories and the
 * modules check their inputs first, naming the layer, so a model that cannot run on a shape fails here,
 * before any computation. {@link #backward} replays the rules in reverse and adds the launches that
 * compute gradients; a tensor used by several ops receives the sum of their contributions. Gradients
 * are computed only for tensors that depend on a parameter or on an input marked as needing one.
 *
 * <p>The launches are not run here: {@link #addForwardTo} and {@link #addBackwardTo} put them into a
 * {@link Plan}, with the parameters declared as constants.
 */
public final class Graph {
    /** Computes the gradients of an op's inputs from the gradient of its output. */
    private interface Rule {
        void backward(Tensor gy);
    }

    private record Step(Tensor output, Rule rule) {
    }

    private final String name;
    private final List<Launch> forward = new ArrayList<>();
    private final List<Launch> backward = new ArrayList<>();
    private final List<Step> tape = new ArrayList<>();
    private final Set<float[]> constants = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<float[]> tables = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<float[]> needsGrad = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Map<float[], Tensor> grads = new IdentityHashMap<>();
    private final Map<float[], Parameter> params = new IdentityHashMap<>();
    private boolean backwardDone;

    public Graph(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    // ---------------------------------------------------------------- buffers

    /** A fresh activation buffer. */
    public Tensor buffer(int... shape) {
        return Tensor.zeros(shape);
    }

    /** Marks {@code x} (a plan input) as needing a gradient, as a training input would. */
    public Tensor requiresGrad(Tensor x) {
        needsGrad.add(x.data());
        return x;
    }

    /** A parameter's value, registered as a constant of the plan and as needing a gradient. */
    private float[] use(Parameter p) {
        if (p == null) {
            return null;
        }
        float[] d = p.value().data();
        constants.add(d);
        needsGrad.add(d);
        params.put(d, p);
        return d;
    }

    /** A table the graph's launches read and nobody changes (a basis, cosine factors): a constant. */
    public float[] table(float[] t) {
        constants.add(t);
        tables.add(t);
        return t;
    }

    private boolean needs(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && needsGrad.contains(t.data())) {
                return true;
            }
        }
        return false;
    }

    private boolean needs(Parameter... ps) {
        for (Parameter p : ps) {
            if (p != null) {
                return true;
            }
        }
        return false;
    }

    private Tensor record(Tensor out, boolean differentiable, Rule rule) {
        if (differentiable) {
            needsGrad.add(out.data());
            tape.add(new Step(out, rule));
        }
        return out;
    }

    // ---------------------------------------------------------------- ops

    /** {@code F.conv2d(x, w, b, stride, padding)}: x [N,Cin,H,W], w [Cout,Cin,K,K], b [Cout] or null. */
    public Tensor conv2d(Tensor x, Parameter w, Parameter b, int stride, int padding) {
        int[] ws = w.shape();
        Conv2d.Geometry g = new Conv2d.Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), ws[0], ws[2], ws[3],
                stride, stride, padding, padding, 1, 1, 1);
        return conv2d(x, use(w), w, b, g);
    }

    private Tensor conv2d(Tensor x, float[] wData, Parameter wParam, Parameter b, Conv2d.Geometry g) {
        Tensor y = buffer(g.n(), g.cout(), g.oh(), g.ow());
        float[] bias = use(b);
        forward.addAll(Conv2d.forward(x.data(), wData, bias, y.data(), g));
        return record(y, needs(x) || wParam != null || b != null || needsGrad.contains(wData), gy -> {
            Tensor gx = needs(x) ? buffer(x.shape()) : null;
            Tensor gw = needsGrad.contains(wData) ? Tensor.zeros(wParam != null ? wParam.shape() : new int[] {wData.length}) : null;
            Tensor gb = b != null ? Tensor.zeros(b.shape()) : null;
            backward.addAll(Conv2d.backward(x.data(), wData, gy.data(), gx == null ? null : gx.data(),
                    gw == null ? null : gw.data(), gb == null ? null : gb.data(), g));
            accumulate(x, gx);
            accumulate(wData, gw);
            if (b != null) {
                accumulate(b.value().data(), gb);
            }
        });
    }

    /**
     * DeepPrism eq. (3): the single-filter 3-D convolution over (C, H, W); f [KC,KH,KW] (any leading
     * ones, as in PyTorch's Conv3d(1,1,k) weight [1,1,KC,KH,KW]), b [1] or null.
     */
    public Tensor prismConv(Tensor x, Parameter f, Parameter b, PrismConv.ChannelPadding padding) {
        int[] fs = f.shape();
        int kc = fs[fs.length - 3], kh = fs[fs.length - 2], kw = fs[fs.length - 1];
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(x.shape());
        float[] fd = use(f);
        float[] bd = use(b);
        forward.add(PrismConv.forward(x.data(), fd, bd, y.data(), n, c, h, w, kc, kh, kw, padding));
        return record(y, true, gy -> {
            if (needs(x)) {
                Tensor gx = buffer(x.shape());
                backward.add(PrismConv.backwardData(gy.data(), fd, gx.data(), n, c, h, w, kc, kh, kw, padding));
                accumulate(x, gx);
            }
            float[] partials = new float[PrismConv.partialsLength(n, c, kc, kh, kw)];
            Tensor gf = Tensor.zeros(f.shape());
            Tensor gb = b != null ? Tensor.zeros(b.shape()) : null;
            backward.addAll(PrismConv.backwardWeight(x.data(), gy.data(), partials, gf.data(), gb == null ? null : gb.data(),
                    n, c, h, w, kc, kh, kw, padding));
            accumulate(fd, gf);
            if (b != null) {
                accumulate(bd, gb);
            }
        });
    }

    /**
     * ApproxConv (eqs. 3–4): the kernel {@code w = Bᵀ a B} synthesised from the coefficients
     * {@code a [Cout,Cin,N,N]} with the basis table {@code table} ({@link Approx#basisTable}), then a
     * standard convolution with stride 1 and "same" padding. Gradients reach the coefficients through the
     * synthesis.
     */
    public Tensor approxConv(Tensor x, Parameter coeff, float[] table, Parameter b, int k) {
        int[] cs = coeff.shape();
        int cout = cs[0], cin = cs[1], n = cs[2];
        float[] a = use(coeff);
        table(table);
        Tensor w = buffer(cout, cin, k, k);
        forward.add(Approx.synthesize(a, table, w.data(), cout, cin, n, k));
        needsGrad.add(w.data());
        Conv2d.Geometry g = new Conv2d.Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), cout, k, k, 1, 1, k / 2, k / 2, 1, 1, 1);
        // The synthesis is its own op: the conv's weight gradient flows back into the coefficients.
        tape.add(new Step(w, gw -> {
            Tensor ga = Tensor.zeros(coeff.shape());
            backward.add(Approx.synthesizeBackward(gw.data(), table, ga.data(), cout, cin, n, k));
            accumulate(a, ga);
        }));
        return conv2d(x, w.data(), null, b, g);
    }

    /** {@code F.group_norm(x, groups, gamma, beta, eps)}, then SiLU when {@code silu}. */
    public Tensor groupNorm(Tensor x, Parameter gamma, Parameter beta, int groups, float eps, boolean silu) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(x.shape());
        float[] stats = new float[2 * n * groups];
        float[] g = use(gamma), bt = use(beta);
        forward.addAll(Norm.groupNorm(x.data(), g, bt, stats, y.data(), n, c, h, w, groups, eps, silu));
        return record(y, needs(x) || gamma != null, gy -> {
            Tensor gx = buffer(x.shape());
            float[] partials = new float[2 * n * c];
            Tensor gg = gamma != null ? Tensor.zeros(gamma.shape()) : null;
            Tensor gbt = beta != null ? Tensor.zeros(beta.shape()) : null;
            backward.addAll(Norm.groupNormBackward(x.data(), gy.data(), stats, g, bt, partials, gx.data(),
                    gg == null ? null : gg.data(), gbt == null ? null : gbt.data(), n, c, h, w, groups, silu));
            accumulate(x, gx);
            if (gamma != null) {
                accumulate(g, gg);
                accumulate(bt, gbt);
            }
        });
    }

    public Tensor silu(Tensor x) {
        Tensor y = buffer(x.shape());
        forward.add(Activation.silu(x.data(), y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Activation.siluBackward(x.data(), gy.data(), gx.data(), x.numel()));
            accumulate(x, gx);
        });
    }

    public Tensor gelu(Tensor x) {
        Tensor y = buffer(x.shape());
        forward.add(Activation.gelu(x.data(), y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Activation.geluBackward(x.data(), gy.data(), gx.data(), x.numel()));
            accumulate(x, gx);
        });
    }

    /** {@code a + b}, same shapes. */
    public Tensor add(Tensor a, Tensor b) {
        if (!a.hasShape(b.shape())) {
            throw new ModelShapeException("graph '" + name + "': add of " + a + " and " + b + ": expected equal shapes");
        }
        Tensor y = buffer(a.shape());
        forward.add(Elementwise.add(a.data(), b.data(), y.data(), a.numel()));
        return record(y, needs(a, b), gy -> {
            accumulate(a, gy);
            accumulate(b, gy);
        });
    }

    /**
     * {@code torch.cat([a, b], 1)}: a [N, Ca, H, W] and b [N, Cb, H, W] side by side on the channel axis,
     * [N, Ca + Cb, H, W]. The gradients are the two channel slices of the output's.
     */
    public Tensor concat(Tensor a, Tensor b) {
        if (a.rank() != 4 || b.rank() != 4 || a.dim(0) != b.dim(0) || a.dim(2) != b.dim(2) || a.dim(3) != b.dim(3)) {
            throw new ModelShapeException("graph '" + name + "': concat of " + a + " and " + b
                    + ": expected [N, Ca, H, W] and [N, Cb, H, W] with equal N, H, W");
        }
        int n = a.dim(0), ca = a.dim(1), cb = b.dim(1), h = a.dim(2), w = a.dim(3);
        Tensor y = buffer(n, ca + cb, h, w);
        forward.add(Concat.channels(a.data(), b.data(), y.data(), n, ca, cb, h, w));
        return record(y, needs(a, b), gy -> {
            Tensor ga = buffer(a.shape()), gb = buffer(b.shape());
            backward.add(Concat.channelsBackward(gy.data(), ga.data(), gb.data(), n, ca, cb, h, w));
            accumulate(a, ga);
            accumulate(b, gb);
        });
    }

    /** {@code x + v[:, :, None, None]}: adds a per-(n, c) vector to every pixel (time-embedding injection). */
    public Tensor addPlanes(Tensor x, Tensor v) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (!v.hasShape(n, c)) {
            throw new ModelShapeException("graph '" + name + "': addPlanes of " + x + " and " + v + ": expected v [" + n + ", " + c + "]");
        }
        Tensor y = buffer(x.shape());
        forward.add(Elementwise.addPlanes(x.data(), v.data(), y.data(), n, c, h, w));
        return record(y, needs(x, v), gy -> {
            accumulate(x, gy);
            if (needs(v)) {
                Tensor gv = buffer(v.shape());
                backward.add(Elementwise.addPlanesBackward(gy.data(), gv.data(), n, c, h, w));
                accumulate(v, gv);
            }
        });
    }

    /** {@code F.linear(x, w, b)}: x [rows, in], w [out, in], b [out] or null. */
    public Tensor linear(Tensor x, Parameter w, Parameter b) {
        int rows = x.dim(0), in = x.dim(1), out = w.shape()[0];
        Tensor y = buffer(rows, out);
        float[] wd = use(w), bd = use(b);
        forward.addAll(Gemm.linear(x.data(), wd, bd, y.data(), rows, in, out));
        return record(y, true, gy -> {
            Tensor gx = needs(x) ? buffer(x.shape()) : null;
            Tensor gw = Tensor.zeros(w.shape());
            Tensor gb = b != null ? Tensor.zeros(b.shape()) : null;
            backward.addAll(Gemm.linearBackward(x.data(), wd, gy.data(), gx == null ? null : gx.data(), gw.data(),
                    gb == null ? null : gb.data(), rows, in, out));
            accumulate(x, gx);
            accumulate(wd, gw);
            if (b != null) {
                accumulate(bd, gb);
            }
        });
    }

    /**
     * Multi-head scaled dot-product attention over the H·W positions of feature maps q, k, v
     * [N, heads·d, H, W]: {@code softmax(qᵀk/√d) v} per head.
     */
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        int n = q.dim(0), c = q.dim(1), positions = q.dim(2) * q.dim(3);
        int d = c / heads;
        Tensor out = buffer(q.shape());
        // n·heads·P² can exceed an int where q itself does not: sized (and refused) before it is allocated
        float[] probs = new float[Check.of("graph '" + name + "': attention").size("probs", n, heads, positions, positions)];
        forward.addAll(Attention.forward(q.data(), k.data(), v.data(), out.data(), probs, n, heads, d, positions));
        return record(out, needs(q, k, v), gy -> {
            Tensor gq = buffer(q.shape()), gk = buffer(k.shape()), gv = buffer(v.shape());
            float[] dprobs = new float[probs.length];
            backward.addAll(Attention.backward(q.data(), k.data(), v.data(), probs, gy.data(), gq.data(), gk.data(), gv.data(),
                    dprobs, n, heads, d, positions));
            accumulate(q, gq);
            accumulate(k, gk);
            accumulate(v, gv);
        });
    }

    /**
     * PrismAttn, DeepPrism eq. (5): q, k, v and the output projection are channel convolutions of size
     * {@code k} (filters [1,1,k,1,1] as in PyTorch's Conv3d) around single- or multi-head attention.
     */
    public Tensor prismAttn(Tensor u, Parameter[] wqkvo, Parameter[] bqkvo, int heads, PrismConv.ChannelPadding padding) {
        int n = u.dim(0), c = u.dim(1), h = u.dim(2), w = u.dim(3);
        int k = wqkvo[0].numel();
        float[][] wd = new float[4][];
        float[][] bd = new float[4][];
        for (int i = 0; i < 4; i++) {
            wd[i] = use(wqkvo[i]);
            bd[i] = bqkvo == null ? null : use(bqkvo[i]);
        }
        Composite.PrismAttnWeights weights = new Composite.PrismAttnWeights(wd[0], bd[0], wd[1], bd[1], wd[2], bd[2], wd[3], bd[3]);
        Composite.PrismAttnBuffers saved = Composite.PrismAttnBuffers.allocate(n, c, h, w, heads);
        Tensor out = buffer(u.shape());
        forward.addAll(Composite.prismAttn(u.data(), weights, saved, out.data(), n, c, h, w, k, heads, padding));
        return record(out, true, gy -> {
            Tensor gu = buffer(u.shape());
            Composite.PrismAttnGradBuffers scratch = Composite.PrismAttnGradBuffers.allocate(n, c, h, w, k, heads);
            Composite.PrismAttnWeights g = Composite.PrismAttnWeights.zeros(k, bqkvo != null);
            backward.addAll(Composite.prismAttnBackward(u.data(), gy.data(), weights, saved, scratch, gu.data(), g,
                    n, c, h, w, k, heads, padding));
            accumulate(u, gu);
            float[][] gw = {g.wq(), g.wk(), g.wv(), g.wo()};
            float[][] gb = {g.bq(), g.bk(), g.bv(), g.bo()};
            for (int i = 0; i < 4; i++) {
                accumulate(wd[i], Tensor.of(gw[i], wqkvo[i].shape()));
                if (bqkvo != null) {
                    accumulate(bd[i], Tensor.of(gb[i], bqkvo[i].shape()));
                }
            }
        });
    }

    /** Nearest-neighbour 2× upsampling. */
    public Tensor upsample2x(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(n, c, 2 * h, 2 * w);
        forward.add(Resample.upsample2x(x.data(), y.data(), n, c, h, w));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Resample.upsample2xBackward(gy.data(), gx.data(), n, c, h, w));
            accumulate(x, gx);
        });
    }

    /** 2×2 average pooling (H, W even). */
    public Tensor avgPool2x(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(n, c, h / 2, w / 2);
        forward.add(Resample.avgPool2x(x.data(), y.data(), n, c, h, w));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Resample.avgPool2xBackward(gy.data(), gx.data(), n, c, h, w));
            accumulate(x, gx);
        });
    }

    /** Global average pooling, {@code x.mean((2, 3))}: x [N,C,H,W] → [N,C]. */
    public Tensor globalAvgPool(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(n, c);
        forward.add(Gating.avgPool(x.data(), y.data(), n, c, h, w));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Gating.avgPoolBackward(gy.data(), gx.data(), n, c, h, w));
            accumulate(x, gx);
        });
    }

    /**
     * WG-Down (Spectral Diffusion §5.1): x [N,C,H,W] → [N,C,H/2,W/2]; the gate network's weights are
     * {@code w1 [hidden, C], b1 [hidden], w2 [4·gates, hidden], b2 [4·gates]}.
     */
    public Tensor wgDown(Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates) {
        return waveletGating(x, w1, b1, w2, b2, gates, true);
    }

    /** WG-Up (Spectral Diffusion §5.1): x [N,4C,h,w] → [N,C,2h,2w]; gate network as in {@link #wgDown}, with input 4C. */
    public Tensor wgUp(Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates) {
        return waveletGating(x, w1, b1, w2, b2, gates, false);
    }

    private Tensor waveletGating(Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates, boolean down) {
        int n = x.dim(0), h = x.dim(2), w = x.dim(3);
        int c = down ? x.dim(1) : x.dim(1) / 4;
        int hidden = w1.shape()[0];
        Composite.GateWeights weights = new Composite.GateWeights(use(w1), use(b1), use(w2), use(b2));
        Composite.WgBuffers saved = down ? Composite.WgBuffers.forDown(n, c, h, w, hidden, gates)
                : Composite.WgBuffers.forUp(n, c, h, w, hidden, gates);
        Tensor out = down ? buffer(n, c, h / 2, w / 2) : buffer(n, c, 2 * h, 2 * w);
        forward.addAll(down ? Composite.wgDown(x.data(), weights, saved, out.data(), n, c, h, w, hidden, gates)
                : Composite.wgUp(x.data(), weights, saved, out.data(), n, c, h, w, hidden, gates));
        return record(out, true, gy -> {
            Tensor gx = buffer(x.shape());
            Composite.WgGradBuffers scratch = down ? Composite.WgGradBuffers.forDown(n, c, h, w, hidden, gates)
                    : Composite.WgGradBuffers.forUp(n, c, h, w, hidden, gates);
            Composite.GateWeights g = Composite.GateWeights.zeros(down ? c : 4 * c, hidden, gates, b1 != null);
            backward.addAll(down ? Composite.wgDownBackward(x.data(), gy.data(), weights, saved, scratch, gx.data(), g,
                    n, c, h, w, hidden, gates)
                    : Composite.wgUpBackward(x.data(), gy.data(), weights, saved, scratch, gx.data(), g, n, c, h, w, hidden, gates));
            accumulate(x, gx);
            accumulate(weights.w1(), Tensor.of(g.w1(), w1.shape()));
            accumulate(weights.w2(), Tensor.of(g.w2(), w2.shape()));
            if (b1 != null) {
                accumulate(weights.b1(), Tensor.of(g.b1(), b1.shape()));
                accumulate(weights.b2(), Tensor.of(g.b2(), b2.shape()));
            }
        });
    }

    /** The DDPM sinusoidal embedding of timesteps t [N] → [N, dim]; not differentiable (t is data). */
    public Tensor timestepEmbedding(Tensor t, int dim) {
        Tensor emb = buffer(t.dim(0), dim);
        forward.add(Embedding.timestep(t.data(), emb.data(), t.dim(0), dim));
        return emb;
    }

    /**
     * The forward diffusion of DDPM eq. (4), {@code xt = coef[2s]·x0 + coef[2s+1]·eps} per sample s, for
     * x0 and eps {@code [N, ...]} and {@code coef [2N]}; not differentiable (its inputs are data).
     */
    public Tensor qSample(Tensor x0, Tensor eps, Tensor coef) {
        if (!x0.hasShape(eps.shape()) || x0.rank() < 2 || !coef.hasShape(2 * x0.dim(0))) {
            throw new ModelShapeException("graph '" + name + "': qSample of " + x0 + ", " + eps + " and " + coef
                    + ": expected x0 and eps of one shape [N, ...] and coef [2N]");
        }
        Tensor y = buffer(x0.shape());
        int n = x0.dim(0);
        forward.add(Training.qSample(x0.data(), eps.data(), coef.data(), y.data(), n, x0.numel() / n));
        return y;
    }

    /**
     * The mean squared error {@code Σ (pred − target)² / numel} as a tensor of shape [1]; the gradient
     * reaches {@code pred} only (the target is data, as DDPM's ε).
     */
    public Tensor meanSquaredError(Tensor pred, Tensor target) {
        if (!pred.hasShape(target.shape())) {
            throw new ModelShapeException("graph '" + name + "': meanSquaredError of " + pred + " and " + target + ": expected equal shapes");
        }
        int len = pred.numel();
        Tensor loss = buffer(1);
        float[] partials = new float[Training.blocks(len)];
        forward.addAll(Training.meanSquaredError(pred.data(), target.data(), partials, loss.data(), len));
        return record(loss, needs(pred), gy -> {
            Tensor gp = buffer(pred.shape());
            backward.add(Training.meanSquaredErrorBackward(pred.data(), target.data(), gy.data(), gp.data(), len));
            accumulate(pred, gp);
        });
    }

    /**
     * The mean softmax cross-entropy of {@code logits [N, K]} against the classes {@code labels [N]}
     * (integers 0 … K−1 held as floats), {@code F.cross_entropy(logits, labels)}, as a tensor of shape
     * [1]; the gradient reaches the logits only. A label outside 0 … K−1 makes the loss NaN.
     */
    public Tensor crossEntropy(Tensor logits, Tensor labels) {
        if (logits.rank() != 2 || !labels.hasShape(logits.dim(0))) {
            throw new ModelShapeException("graph '" + name + "': crossEntropy of " + logits + " and " + labels
                    + ": expected logits [N, K] and labels [N]");
        }
        int rows = logits.dim(0), classes = logits.dim(1);
        Tensor loss = buffer(1);
        float[] partials = new float[rows];
        forward.addAll(Training.crossEntropy(logits.data(), labels.data(), partials, loss.data(), rows, classes));
        return record(loss, needs(logits), gy -> {
            Tensor gz = buffer(logits.shape());
            backward.add(Training.crossEntropyBackward(logits.data(), labels.data(), gy.data(), gz.data(), rows, classes));
            accumulate(logits, gz);
        });
    }

    // ---------------------------------------------------------------- backward

    private void accumulate(Tensor target, Tensor contribution) {
        if (target != null && contribution != null) {
            accumulate(target.data(), contribution);
        }
    }

    /** Adds {@code contribution} to the gradient of the buffer {@code target}. */
    private void accumulate(float[] target, Tensor contribution) {
        if (target == null || contribution == null || !needsGrad.contains(target)) {
            return;
        }
        Tensor g = grads.get(target);
        if (g == null) {
            grads.put(target, contribution);
        } else {
            // A second use: sum into a fresh buffer, so no contribution is overwritten while still read.
            Tensor sum = buffer(g.shape());
            backward.add(Elementwise.add(g.data(), contribution.data(), sum.data(), g.numel()));
            grads.put(target, sum);
        }
    }

    /**
     * Adds the launches that compute every gradient of the graph given {@code gradOutput}, the gradient
     * of the scalar loss with respect to {@code output}. Call once.
     */
    public void backward(Tensor output, Tensor gradOutput) {
        if (backwardDone) {
            throw new IllegalStateException("graph '" + name + "': backward was already built");
        }
        if (!output.hasShape(gradOutput.shape())) {
            throw new ModelShapeException("graph '" + name + "': gradient " + gradOutput + " does not match output " + output);
        }
        backwardDone = true;
        grads.put(output.data(), gradOutput);
        for (int i = tape.size() - 1; i >= 0; i--) {
            Step s = tape.get(i);
            Tensor gy = grads.get(s.output().data());
            if (gy != null) {
                s.rule().backward(gy);
            }
        }
    }

    /** The gradient of {@code t} after {@link #backward}, or null when none reached it. */
    public Tensor gradOf(Tensor t) {
        return grads.get(t.data());
    }

    /** The gradient of {@code p} after {@link #backward}, or null when none reached it. */
    public Tensor gradOf(Parameter p) {
        Tensor g = grads.get(p.value().data());
        return g == null ? null : g.reshape(p.shape());
    }

    // ---------------------------------------------------------------- plans

    /** The forward launches, in order. */
    public List<Launch> forwardLaunches() {
        return Collections.unmodifiableList(forward);
    }

    /** The backward launches, in order (empty before {@link #backward}). */
    public List<Launch> backwardLaunches() {
        return Collections.unmodifiableList(backward);
    }

    /** The parameters the graph uses, by identity of their values. */
    public List<Parameter> parameters() {
        return new ArrayList<>(params.values());
    }

    /** Adds the forward launches to {@code plan} and declares the parameters and tables as constants. */
    public Plan.Builder addForwardTo(Plan.Builder plan) {
        plan.constants(constants.toArray(float[][]::new));
        return plan.addAll(forward);
    }

    /** Adds forward and backward launches to {@code plan}, with the constants. */
    public Plan.Builder addBackwardTo(Plan.Builder plan) {
        addForwardTo(plan);
        return plan.addAll(backward);
    }

    /**
     * Adds forward and backward launches to {@code plan} for training: the parameters the graph uses are
     * declared state (an optimiser updates them in the plan, so they are no longer constants), the
     * tables constants.
     */
    public Plan.Builder addTrainingTo(Plan.Builder plan) {
        plan.constants(tables.toArray(float[][]::new));
        plan.state(params.keySet().toArray(float[][]::new));
        return plan.addAll(forward).addAll(backward);
    }
}
