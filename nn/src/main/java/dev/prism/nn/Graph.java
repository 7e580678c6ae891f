package dev.prism.nn;

import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
import dev.prism.kernels.Activation;
import dev.prism.kernels.Approx;
import dev.prism.kernels.Attention;
import dev.prism.kernels.Check;
import dev.prism.kernels.Concat;
import dev.prism.kernels.Conv2d;
import dev.prism.kernels.Dft;
import dev.prism.kernels.Elementwise;
import dev.prism.kernels.Embedding;
import dev.prism.kernels.Gating;
import dev.prism.kernels.Gemm;
import dev.prism.kernels.Haar;
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
    /** Parameters this graph reads but does not differentiate ({@link #freeze}). */
    private final Set<float[]> frozen = Collections.newSetFromMap(new IdentityHashMap<>());
    /** The frozen parameters the graph's launches read: constants of a training plan. */
    private final Set<float[]> frozenUsed = Collections.newSetFromMap(new IdentityHashMap<>());
    private boolean backwardDone;
    /** Whether {@link #conv2d} runs a batch of narrow planes side by side ({@link Conv2d#forwardSideBySide}). */
    private boolean sideBySide;

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

    /**
     * From now on, the ops of this graph read {@code ps} without computing their gradients: a network that
     * another optimiser trains (a GAN's discriminator while its generator learns, and the other way round).
     * Gradients still flow through their ops to the inputs that need them. Call before the ops that use them.
     *
     * @return this
     */
    public Graph freeze(List<Parameter> ps) {
        for (Parameter p : ps) {
            float[] d = p.value().data();
            if (params.containsKey(d)) {
                throw new IllegalStateException("graph '" + name + "': parameter '" + p.name() + "' is already in use; freeze it before the ops that read it");
            }
            frozen.add(d);
        }
        return this;
    }

    /**
     * A parameter's value, registered as a constant of the plan and as needing a gradient (as a constant
     * only when it is {@link #freeze frozen}).
     */
    private float[] use(Parameter p) {
        if (p == null) {
            return null;
        }
        float[] d = p.value().data();
        constants.add(d);
        if (frozen.contains(d)) {
            frozenUsed.add(d);
            return d;
        }
        needsGrad.add(d);
        params.put(d, p);
        return d;
    }

    /** Whether {@code p} is given and receives a gradient (not {@link #freeze frozen}). */
    private boolean trainable(Parameter p) {
        return p != null && !frozen.contains(p.value().data());
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
            if (trainable(p)) {
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
    /**
     * From now on, whether the convolutions recorded run a batch of planes at most {@link Conv2d#TILED_MAX_WIDTH} wide
     * side by side ({@link Conv2d#forwardSideBySide}: the same results, whole vectors on the JVM backend, two scratch
     * arrays per layer that a model's {@code Footprint} does not model). Off by default.
     *
     * @return the setting before this call, to restore it
     */
    public boolean narrowConvolutionsSideBySide(boolean on) {
        boolean before = sideBySide;
        sideBySide = on;
        return before;
    }

    public Tensor conv2d(Tensor x, Parameter w, Parameter b, int stride, int padding) {
        int[] ws = w.shape();
        Conv2d.Geometry g = new Conv2d.Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), ws[0], ws[2], ws[3],
                stride, stride, padding, padding, 1, 1, 1);
        return conv2d(x, use(w), w, b, g);
    }

    private Tensor conv2d(Tensor x, float[] wData, Parameter wParam, Parameter b, Conv2d.Geometry g) {
        Tensor y = buffer(g.n(), g.cout(), g.oh(), g.ow());
        float[] bias = use(b);
        forward.addAll(sideBySide ? Conv2d.forwardSideBySide(x.data(), wData, bias, y.data(), g)
                : Conv2d.forward(x.data(), wData, bias, y.data(), g));
        return record(y, needs(x) || needs(b) || needsGrad.contains(wData), gy -> {
            Tensor gx = needs(x) ? buffer(x.shape()) : null;
            Tensor gw = needsGrad.contains(wData) ? Tensor.zeros(wParam != null ? wParam.shape() : new int[] {wData.length}) : null;
            Tensor gb = needs(b) ? Tensor.zeros(b.shape()) : null;
            backward.addAll(Conv2d.backward(x.data(), wData, gy.data(), gx == null ? null : gx.data(),
                    gw == null ? null : gw.data(), gb == null ? null : gb.data(), g));
            accumulate(x, gx);
            accumulate(wData, gw);
            if (gb != null) {
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
        return record(y, needs(x) || needs(f, b), gy -> {
            if (needs(x)) {
                Tensor gx = buffer(x.shape());
                backward.add(PrismConv.backwardData(gy.data(), fd, gx.data(), n, c, h, w, kc, kh, kw, padding));
                accumulate(x, gx);
            }
            if (!needs(f, b)) {
                return;
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
        Conv2d.Geometry g = new Conv2d.Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), cout, k, k, 1, 1, k / 2, k / 2, 1, 1, 1);
        if (!trainable(coeff)) {
            return conv2d(x, w.data(), null, b, g);
        }
        needsGrad.add(w.data());
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
        return record(y, needs(x) || needs(gamma, beta), gy -> {
            Tensor gx = buffer(x.shape());
            float[] partials = new float[2 * n * c];
            // the kernel writes both affine gradients when the norm has them; a frozen norm's are scratch, not accumulated
            Tensor gg = gamma != null ? Tensor.zeros(gamma.shape()) : null;
            Tensor gbt = beta != null ? Tensor.zeros(beta.shape()) : null;
            // a gradient that already reached x (a residual's, whose path the tape meets first) is added in the kernel's
            // last pass, where accumulate would add the two in an elementwise.add of its own: the same floats
            Tensor prior = needsGrad.contains(x.data()) ? grads.get(x.data()) : null;
            backward.addAll(Norm.groupNormBackward(x.data(), gy.data(), stats, g, bt, partials, gx.data(),
                    prior == null ? null : prior.data(), gg == null ? null : gg.data(), gbt == null ? null : gbt.data(),
                    n, c, h, w, groups, silu));
            if (prior != null) {
                grads.put(x.data(), gx);
            } else {
                accumulate(x, gx);
            }
            if (needs(gamma)) {
                accumulate(g, gg);
            }
            if (needs(beta)) {
                accumulate(bt, gbt);
            }
        });
    }

    /** {@code F.silu(x)}, any shape. */
    public Tensor silu(Tensor x) {
        return pointwise(x, Activation::silu, Activation::siluBackward, false);
    }

    /** {@code F.gelu(x)} (exact, not the tanh approximation), any shape. */
    public Tensor gelu(Tensor x) {
        return pointwise(x, Activation::gelu, Activation::geluBackward, false);
    }

    /** {@code F.relu(x)}, any shape: {@link #leakyRelu} with slope 0. */
    public Tensor relu(Tensor x) {
        return leakyRelu(x, 0f);
    }

    /** {@code F.leaky_relu(x, slope)}, any shape; the gradient at 0 is {@code slope·gy}, as PyTorch's. */
    public Tensor leakyRelu(Tensor x, float slope) {
        return pointwise(x, (in, out, len) -> Activation.leakyRelu(in, out, len, slope),
                (in, gy, gx, len) -> Activation.leakyReluBackward(in, gy, gx, len, slope), false);
    }

    /** {@code torch.sigmoid(x)}, any shape; the backward reads the output, {@code gx = gy·y·(1 − y)}. */
    public Tensor sigmoid(Tensor x) {
        return pointwise(x, Activation::sigmoid, Activation::sigmoidBackward, true);
    }

    /** An element-wise kernel {@code out = f(in)} over {@code len} elements. */
    private interface Pointwise {
        Launch launch(float[] in, float[] out, int len);
    }

    /** Its backward, {@code gx = gy·f'(…)} from the forward input or output {@code saved}. */
    private interface PointwiseBackward {
        Launch launch(float[] saved, float[] gy, float[] gx, int len);
    }

    private Tensor pointwise(Tensor x, Pointwise f, PointwiseBackward df, boolean backwardReadsOutput) {
        Tensor y = buffer(x.shape());
        forward.add(f.launch(x.data(), y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(df.launch(backwardReadsOutput ? y.data() : x.data(), gy.data(), gx.data(), x.numel()));
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
        return record(y, needs(x) || needs(w, b), gy -> {
            Tensor gx = needs(x) ? buffer(x.shape()) : null;
            Tensor gw = needs(w) ? Tensor.zeros(w.shape()) : null;
            Tensor gb = needs(b) ? Tensor.zeros(b.shape()) : null;
            backward.addAll(Gemm.linearBackward(x.data(), wd, gy.data(), gx == null ? null : gx.data(), gw == null ? null : gw.data(),
                    gb == null ? null : gb.data(), rows, in, out));
            accumulate(x, gx);
            accumulate(wd, gw);
            if (gb != null) {
                accumulate(bd, gb);
            }
        });
    }

    /**
     * Multi-head scaled dot-product attention over the H·W positions of feature maps q, k, v
     * [N, heads·d, H, W]: {@code softmax(qᵀk/√d) v} per head, head h taking channels
     * {@code [h·d, (h+1)·d)} (DeepPrism eq. (4) for one head). The map itself is the attention's
     * channel-major {@code [N, heads·d, H·W]}, so nothing is transposed.
     */
    public Tensor attention(Tensor q, Tensor k, Tensor v, int heads) {
        if (q.rank() != 4 || !k.hasShape(q.shape()) || !v.hasShape(q.shape())) {
            throw new ModelShapeException("graph '" + name + "': attention of " + q + ", " + k + " and " + v
                    + ": expected q, k, v of one shape [N, C, H, W]");
        }
        int n = q.dim(0), c = q.dim(1), positions = q.dim(2) * q.dim(3);
        if (heads < 1 || c % heads != 0) {
            throw new ModelShapeException("graph '" + name + "': attention of " + q + ": heads expected a divisor of "
                    + c + " channels, found " + heads);
        }
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
     * PrismAttn, DeepPrism eq. (5), as a composition of this graph's ops:
     * <pre>
     *   q = Prism(u; wq) + bq,  k = Prism(u; wk) + bk,  v = Prism(u; wv) + bv      // DeepPrism eq. (5)
     *   out = Prism(attention(q, k, v); wo) + bo                                    // DeepPrism eq. (5)
     * </pre>
     * {@code Prism(u; w)} is the channel convolution of DeepPrism eq. (1), {@link #prismConv} with a filter
     * {@code [1, 1, K, 1, 1]} (PyTorch's {@code Conv3d(1, 1, (K, 1, 1))}), channel padding K/2 in
     * {@code padding}; {@link #attention} runs over the H·W positions. Its gradients come from those ops'
     * rules; u feeds three branches, so its gradient is their sum. The key bias's gradient is zero in exact
     * arithmetic (the softmax cancels a shift common to a query's scores) and rounding noise in fp32.
     *
     * <p>The paper's attention block is the residual {@code u + PrismAttn(u)}; the residual is the caller's.
     *
     * @param wqkvo the filters of q, k, v and the output, each {@code [1, 1, K, 1, 1]} (or any shape
     *              ending in {@code K, 1, 1}), K odd
     * @param bqkvo their scalar biases {@code [1]}, or null for none
     */
    public Tensor prismAttn(Tensor u, Parameter[] wqkvo, Parameter[] bqkvo, int heads, PrismConv.ChannelPadding padding) {
        if (wqkvo == null || wqkvo.length != 4 || (bqkvo != null && bqkvo.length != 4)) {
            throw new ModelShapeException("graph '" + name + "': prismAttn: expected the four filters of q, k, v and the"
                    + " output, and four biases or none");
        }
        for (Parameter f : wqkvo) {
            int[] fs = f.shape();
            if (fs.length < 3 || fs[fs.length - 2] != 1 || fs[fs.length - 1] != 1) {
                throw new ModelShapeException("graph '" + name + "': prismAttn filter " + f
                        + ": expected a channel filter [1, 1, K, 1, 1]");
            }
        }
        Parameter[] b = bqkvo == null ? new Parameter[4] : bqkvo;
        Tensor q = prismConv(u, wqkvo[0], b[0], padding);
        Tensor k = prismConv(u, wqkvo[1], b[1], padding);
        Tensor v = prismConv(u, wqkvo[2], b[2], padding);
        return prismConv(attention(q, k, v, heads), wqkvo[3], b[3], padding);
    }

    /** Nearest-neighbour 2× upsampling. */
    public Tensor upsample2x(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return linearMap(x, buffer(n, c, 2 * h, 2 * w), Resample::upsample2x, Resample::upsample2xBackward, n, c, h, w);
    }

    /** 2×2 average pooling (H, W even). */
    public Tensor avgPool2x(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return linearMap(x, buffer(n, c, h / 2, w / 2), Resample::avgPool2x, Resample::avgPool2xBackward, n, c, h, w);
    }

    /** Global average pooling, {@code x.mean((2, 3))}: x [N,C,H,W] → [N,C]. */
    public Tensor globalAvgPool(Tensor x) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return linearMap(x, buffer(n, c), Gating::avgPool, Gating::avgPoolBackward, n, c, h, w);
    }

    /**
     * The orthonormal 2-D Haar transform of x [N, C, H, W] (H, W even): [N, 4C, H/2, W/2], the sub-bands
     * cA, cH, cV, cD (PyWavelets' {@code dwt2(x, 'haar')} order) as four consecutive chunks of C channels,
     * {@code torch.cat([cA, cH, cV, cD], 1)}. Its gradient is {@link #haarIdwt} of the output's.
     */
    public Tensor haarDwt(Tensor x) {
        if (x.rank() != 4 || x.dim(2) % 2 != 0 || x.dim(3) % 2 != 0) {
            throw new ModelShapeException("graph '" + name + "': haarDwt of " + x + ": expected [N, C, H, W] with even H and W");
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return linearMap(x, buffer(n, 4 * c, h / 2, w / 2), Haar::dwt2, Haar::dwt2Backward, n, c, h, w);
    }

    /**
     * The inverse of {@link #haarDwt}: sub-bands y [N, 4C, h, w] (chunks cA, cH, cV, cD) to the image
     * [N, C, 2h, 2w], PyWavelets' {@code idwt2(…, 'haar')}. Its gradient is {@link #haarDwt} of the output's.
     */
    public Tensor haarIdwt(Tensor y) {
        if (y.rank() != 4 || y.dim(1) % 4 != 0) {
            throw new ModelShapeException("graph '" + name + "': haarIdwt of " + y + ": expected [N, 4C, h, w]");
        }
        int n = y.dim(0), c = y.dim(1) / 4, h = 2 * y.dim(2), w = 2 * y.dim(3);
        return linearMap(y, buffer(n, c, h, w), Haar::idwt2, Haar::idwt2Backward, n, c, h, w);
    }

    /**
     * Non-overlapping p×p patches of x [N, C, H, W] as channels: [N, C·p², H/p, W/p], channel {@code (p1·p + p2)·C + c}
     * ({@code channelMajor} false: einops {@code "n c (h p1) (w p2) -> n (p1 p2 c) h w"}, the official WaveDiff generator's
     * patchify) or {@code c·p² + p1·p + p2} (true: {@code "... -> n (c p1 p2) h w"}). A permutation: its gradient is
     * {@link #unpatchify} of the output's, with the same order.
     */
    public Tensor patchify(Tensor x, int p, boolean channelMajor) {
        if (x.rank() != 4 || p < 1 || x.dim(2) % p != 0 || x.dim(3) % p != 0) {
            throw new ModelShapeException("graph '" + name + "': patchify of " + x + " with patch " + p
                    + ": expected [N, C, H, W] with H and W multiples of the patch (>= 1)");
        }
        if (p == 1) {
            return x;
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        return linearMap(x, buffer(n, c * p * p, h / p, w / p),
                (in, out, nn, cc, hh, ww) -> Resample.patchify(in, out, nn, cc, hh, ww, p, channelMajor),
                (in, out, nn, cc, hh, ww) -> Resample.patchifyBackward(in, out, nn, cc, hh, ww, p, channelMajor), n, c, h, w);
    }

    /**
     * The inverse of {@link #patchify}: y [N, C·p², h, w] to the image [N, C, h·p, w·p], channel order as there
     * ({@code channelMajor} true: einops {@code "n (c p1 p2) h w -> n c (h p1) (w p2)"}, the official generator's
     * unpatchify). Its gradient is {@link #patchify} of the output's.
     */
    public Tensor unpatchify(Tensor y, int p, boolean channelMajor) {
        if (y.rank() != 4 || p < 1 || y.dim(1) % (p * p) != 0) {
            throw new ModelShapeException("graph '" + name + "': unpatchify of " + y + " with patch " + p
                    + ": expected [N, C·p², h, w] with channels a multiple of p² (p >= 1)");
        }
        if (p == 1) {
            return y;
        }
        int n = y.dim(0), c = y.dim(1) / (p * p), h = p * y.dim(2), w = p * y.dim(3);
        return linearMap(y, buffer(n, c, h, w),
                (in, out, nn, cc, hh, ww) -> Resample.unpatchify(in, out, nn, cc, hh, ww, p, channelMajor),
                (in, out, nn, cc, hh, ww) -> Resample.unpatchifyBackward(in, out, nn, cc, hh, ww, p, channelMajor), n, c, h, w);
    }

    /** A kernel {@code out = A(in)} declared with the sizes n, c, h, w (of the image it reads or writes). */
    private interface Map4 {
        Launch launch(float[] in, float[] out, int n, int c, int h, int w);
    }

    /** {@code y = A(x)} for a linear map A whose backward, {@code gx = Aᵀ(gy)}, is another kernel of the same sizes. */
    private Tensor linearMap(Tensor x, Tensor y, Map4 map, Map4 transpose, int n, int c, int h, int w) {
        forward.add(map.launch(x.data(), y.data(), n, c, h, w));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(transpose.launch(gy.data(), gx.data(), n, c, h, w));
            accumulate(x, gx);
        });
    }

    /**
     * WG-Down's gated band sum (Spectral Diffusion §5.1): {@code out[n, c] = Σ_k g[n, k, c or 0]·bands[n, k·C + c]}
     * for sub-bands [N, 4C, h, w] as {@link #haarDwt} writes them and gates g [N, 4·G] read as band-major
     * [N, 4, G], G = 1 (one gate per band, shared by the channels) or C: [N, C, h, w].
     */
    public Tensor gatedSum(Tensor bands, Tensor gates) {
        int g = gateCount("gatedSum", bands, gates);
        int n = bands.dim(0), c = bands.dim(1) / 4, h = bands.dim(2), w = bands.dim(3);
        Tensor out = buffer(n, c, h, w);
        forward.add(Gating.gatedSum(bands.data(), gates.data(), out.data(), n, c, h, w, g));
        return record(out, needs(bands, gates), gy -> {
            Tensor gb = buffer(bands.shape()), gg = buffer(gates.shape());
            backward.addAll(Gating.gatedSumBackward(bands.data(), gates.data(), gy.data(), gb.data(), partials(n, c, g),
                    gg.data(), n, c, h, w, g));
            accumulate(bands, gb);
            accumulate(gates, gg);
        });
    }

    /**
     * WG-Up's band gating (Spectral Diffusion §5.1): x [N, 4C, h, w] read as the four sub-band chunks,
     * chunk k multiplied by its gate {@code g[n, k, c or 0]}; gates as in {@link #gatedSum}: [N, 4C, h, w].
     */
    public Tensor bandGate(Tensor x, Tensor gates) {
        int g = gateCount("bandGate", x, gates);
        int n = x.dim(0), c = x.dim(1) / 4, h = x.dim(2), w = x.dim(3);
        Tensor z = buffer(x.shape());
        forward.add(Gating.bandGate(x.data(), gates.data(), z.data(), n, c, h, w, g));
        return record(z, needs(x, gates), gz -> {
            Tensor gx = buffer(x.shape()), gg = buffer(gates.shape());
            backward.addAll(Gating.bandGateBackward(x.data(), gates.data(), gz.data(), gx.data(), partials(n, c, g),
                    gg.data(), n, c, h, w, g));
            accumulate(x, gx);
            accumulate(gates, gg);
        });
    }

    /** G of gates [N, 4G] for sub-bands [N, 4C, h, w]: 1 or C. */
    private int gateCount(String op, Tensor bands, Tensor gates) {
        int c = bands.rank() == 4 ? bands.dim(1) / 4 : 0;
        int g = gates.rank() == 2 ? gates.dim(1) / 4 : 0;
        if (c == 0 || bands.dim(1) % 4 != 0 || g == 0 || gates.dim(1) % 4 != 0 || gates.dim(0) != bands.dim(0)
                || (g != 1 && g != c)) {
            throw new ModelShapeException("graph '" + name + "': " + op + " of " + bands + " and " + gates
                    + ": expected sub-bands [N, 4C, h, w] and gates [N, 4] or [N, 4C]");
        }
        return g;
    }

    /** Scratch of a gate gradient summed over C channels per gate ({@link Gating#partialLength}); none when G = C. */
    private static float[] partials(int n, int c, int gates) {
        return gates == c ? null : new float[Gating.partialLength(n, c)];
    }

    /**
     * WG-Down (Spectral Diffusion §5.1): x [N, C, H, W] → [N, C, H/2, W/2], as a composition of this graph's ops:
     * <pre>
     *   g   = sigmoid(FFN(AvgPool(x)))        g [N, 4·G]                 // Spectral Diffusion §5.1
     *   out = Σ_k g_k ⊙ DWT(x)_k              k = cA, cH, cV, cD           // Spectral Diffusion §5.1
     * </pre>
     * FFN is the paper's 2-layer feed-forward network, {@code linear(w1, b1) → relu → linear(w2, b2)}:
     * {@code w1 [hidden, C], b1 [hidden], w2 [4·gates, hidden], b2 [4·gates]} (biases may be null). x feeds
     * the pool and the transform, so its gradient is the sum of both paths'.
     *
     * @param gates gates per band G: 1 (the paper's "gating score of each wavelet band") or C
     */
    public Tensor wgDown(Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates) {
        return gatedSum(haarDwt(x), waveletGates("wgDown", x, w1, b1, w2, b2, gates));
    }

    /**
     * WG-Up (Spectral Diffusion §5.1): x [N, 4C, h, w], its four chunks of C channels taken as the sub-bands
     * cA, cH, cV, cD, each multiplied by its gate, then the inverse transform: [N, C, 2h, 2w].
     * <pre>
     *   g   = sigmoid(FFN(AvgPool(x)))                                    // Spectral Diffusion §5.1
     *   out = IDWT(g_k ⊙ x_k for k = cA, cH, cV, cD)                       // Spectral Diffusion §5.1
     * </pre>
     * The gate network as in {@link #wgDown}, with {@code w1 [hidden, 4C]}; G is 1 or C, C the output's channels.
     */
    public Tensor wgUp(Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates) {
        return haarIdwt(bandGate(x, waveletGates("wgUp", x, w1, b1, w2, b2, gates)));
    }

    /** {@code sigmoid(FFN(AvgPool(x)))}, the gates [N, 4·gates] of Spectral Diffusion §5.1. */
    private Tensor waveletGates(String op, Tensor x, Parameter w1, Parameter b1, Parameter w2, Parameter b2, int gates) {
        if (w2.shape().length != 2 || w2.shape()[0] != 4 * gates) {
            throw new ModelShapeException("graph '" + name + "': " + op + " gate weight " + w2 + ": expected [" + 4 * gates
                    + ", hidden] for " + gates + " gate(s) per band");
        }
        return sigmoid(linear(relu(linear(globalAvgPool(x), w1, b1)), w2, b2));
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
     * A reparameterised sample of the diagonal Gaussian N(mean, exp(logvar)),
     * {@code z = mean + exp(½·clamp(logvar, −30, 20))·eps}, as LDM's {@code DiagonalGaussianDistribution.sample()}
     * with the noise {@code eps} (data, drawn by the caller) given; mean, logvar and eps of one shape.
     * Gradients reach the mean and the log-variance.
     */
    public Tensor gaussianSample(Tensor mean, Tensor logvar, Tensor eps) {
        if (!mean.hasShape(logvar.shape()) || !mean.hasShape(eps.shape())) {
            throw new ModelShapeException("graph '" + name + "': gaussianSample of " + mean + ", " + logvar + " and " + eps
                    + ": expected mean, logvar and eps of one shape");
        }
        int len = mean.numel();
        Tensor z = buffer(mean.shape());
        forward.add(Training.gaussianSample(mean.data(), logvar.data(), eps.data(), z.data(), len));
        return record(z, needs(mean, logvar), gz -> {
            accumulate(mean, gz);
            if (needs(logvar)) {
                Tensor gl = buffer(logvar.shape());
                backward.add(Training.gaussianSampleBackward(logvar.data(), eps.data(), gz.data(), gl.data(), len));
                accumulate(logvar, gl);
            }
        });
    }

    /**
     * The KL divergence of N(mean, exp(logvar)) from N(0, I), summed over each sample's elements and
     * averaged over the batch (the first axis), as a tensor of shape [1]: LDM's
     * {@code posterior.kl().sum() / N}, DeepPrism eq. (8) with σ₂ = 1 (log-variance clamped to [−30, 20]).
     */
    public Tensor klNormal(Tensor mean, Tensor logvar) {
        if (!mean.hasShape(logvar.shape()) || mean.rank() < 2) {
            throw new ModelShapeException("graph '" + name + "': klNormal of " + mean + " and " + logvar
                    + ": expected mean and logvar of one shape [N, ...]");
        }
        int len = mean.numel();
        float scale = 1f / mean.dim(0);
        Tensor loss = buffer(1);
        float[] partials = new float[Training.blocks(len)];
        forward.addAll(Training.klNormal(mean.data(), logvar.data(), partials, loss.data(), len, scale));
        return record(loss, needs(mean, logvar), gy -> {
            Tensor gm = buffer(mean.shape()), gl = buffer(logvar.shape());
            backward.add(Training.klNormalBackward(mean.data(), logvar.data(), gy.data(), gm.data(), gl.data(), len, scale));
            accumulate(mean, gm);
            accumulate(logvar, gl);
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

    // ---------------------------------------------------------------- ops of WaveDiff's adversarial training (DDGAN)

    /**
     * StyleGAN's minibatch standard deviation as WaveDiff's discriminator appends it (one feature): x [N,C,H,W] →
     * [N,1,H,W], {@code out[i] = s_{i mod M}} with {@code G = min(N, group)} dividing N, {@code M = N/G} and
     * {@code s_m} the mean over (C, H, W) of {@code √(var + 1e-8)}, the biased variance over the G samples
     * {@code g·M + m} ({@link Training#minibatchStddev}). The gradient reaches x.
     */
    public Tensor minibatchStddev(Tensor x, int group) {
        if (x.rank() != 4 || x.dim(0) <= 0 || group <= 0 || x.dim(0) % Math.min(x.dim(0), group) != 0) {
            throw new ModelShapeException("graph '" + name + "': minibatchStddev of " + x + " with group " + group
                    + ": expected x [N, C, H, W] and a group > 0 whose min(N, group) divides N");
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor y = buffer(n, 1, h, w);
        float[] partials = new float[Training.stddevPartialsLength(n, c, h, w, group)];
        forward.addAll(Training.minibatchStddev(x.data(), partials, y.data(), n, c, h, w, group));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            float[] sums = new float[n / Math.min(n, group)];
            backward.addAll(Training.minibatchStddevBackward(x.data(), gy.data(), sums, gx.data(), n, c, h, w, group));
            accumulate(x, gx);
        });
    }

    /**
     * DDGAN's softplus GAN loss {@code F.softplus(sign·d).mean()} (beta 1, threshold 20) of the discriminator's
     * outputs {@code d} (any shape) as a tensor of shape [1]: sign −1 for real samples and for the generator's
     * loss, +1 for the fakes in the discriminator's. The gradient reaches {@code d}.
     */
    public Tensor softplusMean(Tensor d, float sign) {
        int len = d.numel();
        Tensor loss = buffer(1);
        float[] partials = new float[Training.blocks(len)];
        forward.addAll(Training.softplusMean(d.data(), partials, loss.data(), len, sign));
        return record(loss, needs(d), gy -> {
            Tensor gd = buffer(d.shape());
            backward.add(Training.softplusMeanBackward(d.data(), gy.data(), gd.data(), len, sign));
            accumulate(d, gd);
        });
    }

    /**
     * The mean absolute error {@code F.l1_loss(pred, target)} (WaveDiff's reconstruction loss) as a tensor of
     * shape [1]; the gradient reaches {@code pred} only, {@code sign(pred − target)/numel} with {@code sign(0) = 0}.
     */
    public Tensor meanAbsoluteError(Tensor pred, Tensor target) {
        if (!pred.hasShape(target.shape())) {
            throw new ModelShapeException("graph '" + name + "': meanAbsoluteError of " + pred + " and " + target + ": expected equal shapes");
        }
        int len = pred.numel();
        Tensor loss = buffer(1);
        float[] partials = new float[Training.blocks(len)];
        forward.addAll(Training.meanAbsoluteError(pred.data(), target.data(), partials, loss.data(), len));
        return record(loss, needs(pred), gy -> {
            Tensor gp = buffer(pred.shape());
            backward.add(Training.meanAbsoluteErrorBackward(pred.data(), target.data(), gy.data(), gp.data(), len));
            accumulate(pred, gp);
        });
    }

    // ---------------------------------------------------------------- backward passes as differentiable ops (R1's double back-propagation)

    /**
     * The input gradient of {@link #conv2d} as an op of its own: {@code gx = conv2d_transpose(gy, w)} for a
     * convolution of stride 1 whose input is {@code [N, Cin, H, W]} (H, W the output's for "same" padding), differentiable
     * in both {@code gy} and {@code w}: its gradient with respect to gy is the convolution of the upstream gradient u
     * with w, and with respect to w the weight gradient of that convolution ({@code Σ gy ⋆ u}). What the R1 penalty's
     * double back-propagation runs through a discriminator's convolutions.
     */
    public Tensor conv2dInputGrad(Tensor gy, Parameter w, int padding) {
        int[] ws = w.shape();
        if (gy.rank() != 4 || gy.dim(1) != ws[0] || ws[2] != ws[3] || 2 * padding != ws[2] - 1) {
            throw new ModelShapeException("graph '" + name + "': conv2dInputGrad of " + gy + " with " + w
                    + ": expected gy [N, Cout, H, W] and a square odd kernel with \"same\" padding");
        }
        Conv2d.Geometry g = new Conv2d.Geometry(gy.dim(0), ws[1], gy.dim(2), gy.dim(3), ws[0], ws[2], ws[3], 1, 1, padding, padding, 1, 1, 1);
        float[] wd = use(w);
        Tensor gx = buffer(g.n(), g.cin(), g.h(), g.w());
        float[] unusedX = table(new float[gx.numel()]);
        forward.addAll(Conv2d.backward(unusedX, wd, gy.data(), gx.data(), null, null, g));
        return record(gx, needs(gy) || needsGrad.contains(wd), u -> {
            if (needs(gy)) {
                Tensor ggy = buffer(gy.shape());
                backward.addAll(Conv2d.forward(u.data(), wd, null, ggy.data(), g));
                accumulate(gy, ggy);
            }
            if (needsGrad.contains(wd)) {
                Tensor gw = Tensor.zeros(w.shape());
                backward.addAll(Conv2d.backward(u.data(), wd, gy.data(), null, gw.data(), null, g));
                accumulate(wd, gw);
            }
        });
    }

    /**
     * The input gradient of {@link #linear} as an op of its own: {@code gx = gy·w} for {@code gy [rows, out]} and
     * {@code w [out, in]}, differentiable in both (with respect to gy: {@code u·wᵀ}; to w: {@code gyᵀ·u}).
     */
    public Tensor linearInputGrad(Tensor gy, Parameter w) {
        int[] ws = w.shape();
        if (gy.rank() != 2 || ws.length != 2 || gy.dim(1) != ws[0]) {
            throw new ModelShapeException("graph '" + name + "': linearInputGrad of " + gy + " with " + w + ": expected gy [rows, " + ws[0] + "]");
        }
        int rows = gy.dim(0), out = ws[0], in = ws[1];
        float[] wd = use(w);
        Tensor gx = buffer(rows, in);
        float[] unusedX = table(new float[rows * in]);
        forward.addAll(Gemm.linearBackward(unusedX, wd, gy.data(), gx.data(), null, null, rows, in, out));
        return record(gx, needs(gy) || needsGrad.contains(wd), u -> {
            if (needs(gy)) {
                Tensor ggy = buffer(gy.shape());
                forwardOf(u, wd, ggy, rows, in, out);
                accumulate(gy, ggy);
            }
            if (needsGrad.contains(wd)) {
                Tensor gw = Tensor.zeros(w.shape());
                backward.addAll(Gemm.linearBackward(u.data(), wd, gy.data(), null, gw.data(), null, rows, in, out));
                accumulate(wd, gw);
            }
        });
    }

    private void forwardOf(Tensor u, float[] wd, Tensor y, int rows, int in, int out) {
        backward.addAll(Gemm.linear(u.data(), wd, null, y.data(), rows, in, out));
    }

    /**
     * The input gradient of {@link #upfirdn} as an op of its own ({@link Resample#upfirdnBackward} of {@code gy} onto an
     * input of {@code inShape}); linear, so its gradient is {@link #upfirdn} of the upstream gradient.
     */
    public Tensor upfirdnInputGrad(Tensor gy, int[] inShape, float[] taps, int up, int down, int pad0, int pad1) {
        int n = inShape[0], c = inShape[1], h = inShape[2], w = inShape[3];
        table(taps);
        Tensor gx = buffer(inShape);
        forward.add(Resample.upfirdnBackward(gy.data(), taps, gx.data(), n, c, h, w, up, down, pad0, pad1));
        return record(gx, needs(gy), u -> {
            Tensor ggy = buffer(gy.shape());
            backward.add(Resample.upfirdn(u.data(), taps, ggy.data(), n, c, h, w, up, down, pad0, pad1));
            accumulate(gy, ggy);
        });
    }

    /**
     * LeakyReLU's derivative at {@code x}, 1 where x > 0 and {@code slope} elsewhere, as data (not differentiated: its
     * derivative is zero almost everywhere, as PyTorch's double back-propagation takes it). {@code multiply(g, mask)} is
     * then the input gradient of {@link #leakyRelu}.
     */
    public Tensor leakyReluMask(Tensor x, float slope) {
        Tensor mask = buffer(x.shape());
        float[] ones = new float[x.numel()];
        java.util.Arrays.fill(ones, 1f);
        forward.add(Activation.leakyReluBackward(x.data(), table(ones), mask.data(), x.numel(), slope));
        return mask;
    }

    /**
     * The input gradient of {@link #minibatchStddev} as an op of its own: {@code gx = stddev_backward(x, gout)}
     * ({@link Training#minibatchStddevBackward}), differentiable in both x and {@code gout} ({@link Training#minibatchStddevDoubleBackward}).
     */
    public Tensor minibatchStddevInputGrad(Tensor x, Tensor gout, int group) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (!gout.hasShape(n, 1, h, w)) {
            throw new ModelShapeException("graph '" + name + "': minibatchStddevInputGrad of " + x + " and " + gout + ": expected gout [" + n
                    + ", 1, " + h + ", " + w + "]");
        }
        Tensor gx = buffer(x.shape());
        int m = n / Math.min(n, group);
        forward.addAll(Training.minibatchStddevBackward(x.data(), gout.data(), new float[m], gx.data(), n, c, h, w, group));
        return record(gx, needs(x, gout), u -> {
            Tensor ux = buffer(x.shape()), ug = buffer(gout.shape());
            backward.addAll(Training.minibatchStddevDoubleBackward(x.data(), gout.data(), u.data(),
                    new float[Training.stddevDoubleBackwardScratch(n, c, h, w, group)], ux.data(), ug.data(), n, c, h, w, group));
            accumulate(x, ux);
            accumulate(gout, ug);
        });
    }

    // ---------------------------------------------------------------- ops of WaveDiff's generator (NCSN++ with adaptive norms)

    /**
     * StyleGAN2's {@code upfirdn2d(x, outer(taps, taps), up, down, pad=(pad0, pad1))} on x [N,C,H,W]: FIR
     * up- or downsampling ({@link Resample#upfirdn}); {@code taps} is a constant of the graph.
     */
    public Tensor upfirdn(Tensor x, float[] taps, int up, int down, int pad0, int pad1) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int kt = taps.length;
        table(taps);
        Tensor y = buffer(n, c, Resample.upfirdnSize(h, up, down, pad0, pad1, kt), Resample.upfirdnSize(w, up, down, pad0, pad1, kt));
        forward.add(Resample.upfirdn(x.data(), taps, y.data(), n, c, h, w, up, down, pad0, pad1));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Resample.upfirdnBackward(gy.data(), taps, gx.data(), n, c, h, w, up, down, pad0, pad1));
            accumulate(x, gx);
        });
    }

    /** {@code F.conv2d(x, w, b, stride, padding, groups=groups)}: w [Cout, Cin/groups, K, K] (WaveDiff's grouped convH_0). */
    public Tensor conv2d(Tensor x, Parameter w, Parameter b, int stride, int padding, int groups) {
        int[] ws = w.shape();
        Conv2d.Geometry g = new Conv2d.Geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), ws[0], ws[2], ws[3],
                stride, stride, padding, padding, 1, 1, groups);
        return conv2d(x, use(w), w, b, g);
    }

    /**
     * {@code torch.split(x, [ca, C − ca], 1)}: the first {@code ca} channels of x [N, C, H, W] and the rest;
     * the inverse of {@link #concat}, whose kernel it runs forward (its gradient is the concatenation).
     */
    public Tensor[] splitChannels(Tensor x, int ca) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (x.rank() != 4 || ca < 1 || ca >= c) {
            throw new ModelShapeException("graph '" + name + "': splitChannels of " + x + " at " + ca + ": expected [N, C, H, W] with 0 < " + ca + " < C");
        }
        Tensor a = buffer(n, ca, h, w), b = buffer(n, c - ca, h, w);
        forward.add(Concat.split(x.data(), a.data(), b.data(), n, ca, c - ca, h, w));
        if (needs(x)) {
            // Each half's rule gives x's gradient with zeros (a constant) in the other half's channels.
            record(a, true, ga -> {
                Tensor gx = buffer(x.shape());
                backward.add(Concat.splitBackward(ga.data(), table(new float[b.numel()]), gx.data(), n, ca, c - ca, h, w));
                accumulate(x, gx);
            });
            record(b, true, gb -> {
                Tensor gx = buffer(x.shape());
                backward.add(Concat.splitBackward(table(new float[a.numel()]), gb.data(), gx.data(), n, ca, c - ca, h, w));
                accumulate(x, gx);
            });
        }
        return new Tensor[] {a, b};
    }

    /** {@code torch.tanh(x)}. */
    public Tensor tanh(Tensor x) {
        Tensor y = buffer(x.shape());
        forward.add(Activation.tanh(x.data(), y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Activation.tanhBackward(y.data(), gy.data(), gx.data(), x.numel()));
            accumulate(x, gx);
        });
    }

    /**
     * The unnormalised 2-D DFT of x [N, C, H, W] over its last two axes, {@code torch.view_as_real(torch.fft.fft2(x))}:
     * [N, C, H, W, 2], real and imaginary parts interleaved ({@link Dft}). Its gradient is the adjoint transform's
     * real part ({@link Dft#fft2Backward}).
     */
    public Tensor fft2(Tensor x) {
        if (x.rank() != 4) {
            throw new ModelShapeException("graph '" + name + "': fft2 of " + x + ": expected [N, C, H, W]");
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        float[] th = table(Dft.twiddleTable(h));
        float[] tw = h == w ? th : table(Dft.twiddleTable(w));
        Tensor y = buffer(n, c, h, w, 2);
        forward.addAll(Dft.fft2(x.data(), th, tw, buffer(n, c, h, w, 2).data(), y.data(), n, c, h, w));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.addAll(Dft.fft2Backward(gy.data(), th, tw, buffer(n, c, h, w, 2).data(), gx.data(), n, c, h, w));
            accumulate(x, gx);
        });
    }

    /**
     * {@code x ⊙ m}, element by element, for a weight {@code m} of x's shape that is data (written by the caller
     * between steps, not differentiated); the gradient of x is {@code gy ⊙ m}.
     */
    public Tensor multiply(Tensor x, Tensor m) {
        if (!x.hasShape(m.shape())) {
            throw new ModelShapeException("graph '" + name + "': multiply of " + x + " and " + m + ": expected equal shapes");
        }
        Tensor y = buffer(x.shape());
        forward.add(Elementwise.mul(x.data(), m.data(), y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Elementwise.mul(gy.data(), m.data(), gx.data(), x.numel()));
            accumulate(x, gx);
        });
    }

    /** {@code s·x} for a constant s (the 1/√2 of NCSN++'s rescaled skips). */
    public Tensor scale(Tensor x, float s) {
        float[] factor = table(new float[] {s});
        Tensor y = buffer(x.shape());
        forward.add(Elementwise.scale(x.data(), factor, y.data(), x.numel()));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Elementwise.scaleBackward(gy.data(), factor, gx.data(), x.numel()));
            accumulate(x, gx);
        });
    }

    /** StyleGAN's PixelNorm, {@code x / √(mean(x², dim=1) + eps)}, of x [rows, n]. */
    public Tensor pixelNorm(Tensor x, float eps) {
        if (x.rank() != 2) {
            throw new ModelShapeException("graph '" + name + "': pixelNorm of " + x + ": expected [rows, n]");
        }
        int rows = x.dim(0), n = x.dim(1);
        Tensor y = buffer(x.shape());
        forward.add(Norm.pixelNorm(x.data(), y.data(), rows, n, eps));
        return record(y, needs(x), gy -> {
            Tensor gx = buffer(x.shape());
            backward.add(Norm.pixelNormBackward(x.data(), gy.data(), gx.data(), rows, n, eps));
            accumulate(x, gx);
        });
    }

    /**
     * The modulation of an adaptive group norm: {@code x·γ[n,c] + β[n,c]} per plane of x [N,C,H,W], with
     * {@code style [N, 2C]} holding γ then β, then SiLU when {@code silu}.
     */
    public Tensor modulate(Tensor x, Tensor style, boolean silu) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (!style.hasShape(n, 2 * c)) {
            throw new ModelShapeException("graph '" + name + "': modulate of " + x + " by " + style + ": expected style [" + n + ", " + 2 * c + "]");
        }
        Tensor y = buffer(x.shape());
        forward.add(Elementwise.modulatePlanes(x.data(), style.data(), y.data(), n, c, h, w, silu));
        return record(y, needs(x, style), gy -> {
            Tensor gx = buffer(x.shape());
            Tensor gs = buffer(style.shape());
            backward.add(Elementwise.modulatePlanesBackward(x.data(), style.data(), gy.data(), gx.data(), gs.data(), n, c, h, w, silu));
            accumulate(x, gx);
            accumulate(style, gs);
        });
    }

    /**
     * NCSN++'s {@code NIN}: a per-pixel linear map {@code y[n,:,p] = Wᵀ·x[n,:,p] + b} of x [N,Cin,H,W] with
     * {@code w [Cin, Cout]} (stored input-major, unlike a 1×1 convolution's weight) and {@code b [Cout]}.
     */
    public Tensor nin(Tensor x, Parameter w, Parameter b) {
        int n = x.dim(0), cin = x.dim(1), hw = x.dim(2) * x.dim(3), cout = w.shape()[1];
        if (w.shape()[0] != cin) {
            throw new ModelShapeException("graph '" + name + "': nin of " + x + " with " + w + ": expected W [" + cin + ", Cout]");
        }
        Tensor y = buffer(n, cout, x.dim(2), x.dim(3));
        float[] wd = use(w), bd = use(b);
        forward.add(Gemm.matmul(wd, x.data(), y.data(), n, cout, hw, cin, true, false, 0, cin * hw, cout * hw, false));
        forward.add(Gemm.addBias(y.data(), bd, n, cout, hw));
        return record(y, needs(x) || needs(w, b), gy -> {
            if (needs(x)) {
                Tensor gx = buffer(x.shape());
                backward.add(Gemm.matmul(wd, gy.data(), gx.data(), n, cin, hw, cout, false, false, 0, cout * hw, cin * hw, false));
                accumulate(x, gx);
            }
            if (needs(w)) {
                Tensor gw = Tensor.zeros(w.shape());
                backward.add(Gemm.matmul(x.data(), gy.data(), gw.data(), n, cin, cout, hw, false, true, cin * hw, cout * hw, 0, false));
                accumulate(wd, gw);
            }
            if (needs(b)) {
                Tensor gb = Tensor.zeros(b.shape());
                backward.add(Gemm.biasGrad(gy.data(), gb.data(), n, cout, hw));
                accumulate(bd, gb);
            }
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
        plan.constants(frozenUsed.toArray(float[][]::new));
        plan.state(params.keySet().toArray(float[][]::new));
        return plan.addAll(forward).addAll(backward);
    }
}
