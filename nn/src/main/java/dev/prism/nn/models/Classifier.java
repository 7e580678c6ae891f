package dev.prism.nn.models;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.layers.ConvType;
import dev.prism.nn.layers.GroupNorm;
import dev.prism.nn.layers.Linear;

/**
 * A small image classifier, the feature extractor of Prism's sample-quality metric (a Fréchet distance
 * between the {@link Outputs#features() penultimate features} of generated and real images).
 *
 * <pre>
 * h = x                                                                   [N, Cin, H, W]
 * for stage s = 0 .. S−1:   D × (h = silu(stages.s.norm.i(stages.s.conv.i(h))))   3×3 conv, C_s = width·2^s
 *                           h = avg_pool2d(h, 2)
 * f = silu(hidden(h.mean((2, 3))))                                         [N, hidden]: the features
 * logits = out(f)                                                          [N, classes]
 * </pre>
 * Parameters (PyTorch {@code state_dict} names): {@code stages.s.conv.i.weight [C_s, C_in, 3, 3]},
 * {@code stages.s.conv.i.bias [C_s]}, {@code stages.s.norm.i.weight/bias [C_s]} (group norm, eps 1e−5),
 * {@code hidden.weight [hidden, C_{S−1}]}, {@code hidden.bias}, {@code out.weight [classes, hidden]},
 * {@code out.bias}. Input {@code [N, Cin, H, W]} with H and W divisible by 2^S. The PyTorch twin is
 * {@code Classifier} in {@code tools/refgen/models.py}.
 *
 * <p>With convolutions of type CosConv or ChebConv (ApproxConv, what {@code prism fit-kernels} makes of a trained
 * classifier) each stage's 3×3 convolutions hold {@code stages.s.conv.i.coeff [C_s, C_in, N_s, N_s]} in place of
 * the weight, N_s the order of stage s (one per stage, as the per-block orders of ApproxConv's Tables 1–3).
 */
public final class Classifier extends Module {

    /**
     * @param inChannels image channels
     * @param width      channels of the first stage; each later stage doubles them
     * @param stages     S, the stages (each halves the image)
     * @param convs      D, convolutions per stage
     * @param hidden     the width of the hidden linear layer: the feature dimension
     * @param classes    the output classes
     * @param groups     group-norm groups (a divisor of the width)
     */
    public record Config(int inChannels, int width, int stages, int convs, int hidden, int classes, int groups) {
        public Config {
            positive("in", inChannels);
            positive("width", width);
            positive("stages", stages);
            positive("convs", convs);
            if (convs > UNet.MAX_RES) {
                throw new IllegalArgumentException("convs expected 1 to " + UNet.MAX_RES + ", found " + convs);
            }
            positive("hidden", hidden);
            if (classes < 2) {
                throw new IllegalArgumentException("classes expected >= 2, found " + classes);
            }
            if (groups < 1 || width % groups != 0) {
                throw new IllegalArgumentException("groups expected a divisor of width " + width + ", found " + groups);
            }
            if (stages > 16 || ((long) width << (stages - 1)) > 65536) {
                throw new IllegalArgumentException("width·2^(stages−1), the last stage's channels, expected at most 65536, found "
                        + width + "·2^" + (stages - 1));
            }
        }

        private static void positive(String name, int v) {
            if (v < 1) {
                throw new IllegalArgumentException(name + " expected >= 1, found " + v);
            }
        }

        /** The input's height and width must be divisible by this: 2^S. */
        public int divisor() {
            return 1 << stages;
        }

        /** The channels of stage s: width·2^s. */
        public int channels(int s) {
            return width << s;
        }
    }

    /** What one forward pass gives: the penultimate features and the class logits. */
    public record Outputs(Tensor features, Tensor logits) {
    }

    /** One stage: D × (conv, group norm + SiLU), then 2× average pooling. */
    public static final class Stage extends Module {
        private final Conv[] convs;
        private final GroupNorm[] norms;

        Stage(int cin, int cout, int depth, int groups, ConvType conv, int order) {
            convs = new Conv[depth];
            norms = new GroupNorm[depth];
            UNet.Holder c = child("conv", new UNet.Holder());
            UNet.Holder n = child("norm", new UNet.Holder());
            for (int i = 0; i < depth; i++) {
                convs[i] = c.add(String.valueOf(i), new Conv(conv, i == 0 ? cin : cout, cout, 3, order, ChannelPadding.ZEROS));
                norms[i] = n.add(String.valueOf(i), new GroupNorm(groups, cout, 1e-5f));
            }
        }

        Tensor forward(Graph g, Tensor x) {
            Tensor h = x;
            for (int i = 0; i < convs.length; i++) {
                h = norms[i].forward(g, convs[i].forward(g, h), true);
            }
            return g.avgPool2x(h);
        }
    }

    private final Config config;
    private final Stage[] stages;
    private final Linear hidden;
    private final Linear out;

    /** The classifier with standard convolutions. */
    public Classifier(Config config) {
        this(config, ConvType.STANDARD, new int[] {1});
    }

    /**
     * @param conv   the stages' convolution: STANDARD, COSCONV or CHEBCONV
     * @param orders the CosConv / ChebConv order of each stage (one value: every stage); ignored for STANDARD
     * @throws IllegalArgumentException for a type that keeps the width, or orders of the wrong count
     */
    public Classifier(Config config, ConvType conv, int[] orders) {
        if (conv.keepsWidth()) {
            throw new IllegalArgumentException("classifier convolution expected standard, cosconv or chebconv, found " + conv.key());
        }
        if (orders.length != 1 && orders.length != config.stages()) {
            throw new IllegalArgumentException("classifier order expected 1 or " + config.stages() + " values (one per stage), found "
                    + orders.length);
        }
        this.config = config;
        UNet.Holder holder = child("stages", new UNet.Holder());
        stages = new Stage[config.stages()];
        for (int s = 0; s < stages.length; s++) {
            int cin = s == 0 ? config.inChannels() : config.channels(s - 1);
            stages[s] = holder.add(String.valueOf(s), new Stage(cin, config.channels(s), config.convs(), config.groups(), conv,
                    orders[orders.length == 1 ? 0 : s]));
        }
        hidden = child("hidden", new Linear(config.channels(stages.length - 1), config.hidden()));
        out = child("out", new Linear(config.hidden(), config.classes()));
    }

    public Config config() {
        return config;
    }

    /**
     * Adds the features and the logits of {@code x} to {@code g}.
     *
     * @throws dev.prism.nn.ModelShapeException naming the model when x is not [N, Cin, H, W] with H and W
     *                                          divisible by 2^S
     */
    public Outputs forward(Graph g, Tensor x) {
        int d = config.divisor();
        int[] s = x.shape();
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % d != 0 || s[3] % d != 0 || s[2] == 0 || s[3] == 0) {
            throw shapeError("input", "[N, " + config.inChannels() + ", H, W] with H and W positive multiples of " + d, s);
        }
        Tensor h = x;
        for (Stage st : stages) {
            h = st.forward(g, h);
        }
        Tensor features = g.silu(hidden.forward(g, g.globalAvgPool(h)));
        return new Outputs(features, out.forward(g, features));
    }
}
