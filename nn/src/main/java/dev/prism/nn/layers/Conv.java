package dev.prism.nn.layers;

import dev.prism.kernels.Approx;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.SplittableRandom;

/**
 * A "same" convolution (stride 1) of one of the {@link ConvType}s. Input and output {@code [N, C, H, W]}.
 *
 * <p>Parameters (PyTorch names and shapes):
 * <ul>
 *   <li>STANDARD: {@code weight [Cout, Cin, K, K]}, {@code bias [Cout]} — {@code nn.Conv2d}</li>
 *   <li>DEEPPRISM: {@code weight [1, 1, 3, 3, 3]}, {@code bias [1]} — {@code nn.Conv3d(1, 1, 3)} on
 *       {@code x.unsqueeze(1)}; needs Cin = Cout</li>
 *   <li>SEPARABLE: {@code spatial.weight [1, 1, K, K]} (no bias), {@code channel.weight [1, 1, K, 1, 1]},
 *       {@code channel.bias [1]}; needs Cin = Cout</li>
 *   <li>COSCONV / CHEBCONV: {@code coeff [Cout, Cin, N, N]}, {@code bias [Cout]}; the basis table is a
 *       constant, not a parameter</li>
 * </ul>
 */
public final class Conv extends Module {
    private final ConvType type;
    private final int cin;
    private final int cout;
    private final int k;
    private final ChannelPadding padding;
    private final Parameter weight;
    private final Parameter bias;
    private final Spatial spatial;
    private final Channel channel;
    private final float[] table;
    private final int order;

    /** The spatial half of a separable PrismConv. */
    public static final class Spatial extends Module {
        final Parameter weight;

        Spatial(int k) {
            weight = parameter("weight", 1, 1, k, k);
        }
    }

    /**
     * A channel convolution of size K, {@code nn.Conv3d(1, 1, (K, 1, 1))} on {@code x.unsqueeze(1)}:
     * {@code weight [1, 1, K, 1, 1]}, {@code bias [1]}. The channel half of a separable PrismConv, and each
     * projection of PrismAttn.
     */
    public static final class Channel extends Module {
        final Parameter weight;
        final Parameter bias;

        Channel(int k) {
            weight = parameter("weight", 1, 1, k, 1, 1);
            bias = parameter("bias", 1);
        }

        @Override
        protected void initialise(SplittableRandom r) {
            uniform(weight, r, fanIn(weight));
            uniform(bias, r, fanIn(weight));
        }
    }

    /**
     * @param order the number N of series coefficients per axis for COSCONV / CHEBCONV (1 ≤ N ≤ K), ignored otherwise
     * @throws IllegalArgumentException for a constant-width type with Cin ≠ Cout, an even K, or N out of range
     */
    public Conv(ConvType type, int cin, int cout, int k, int order, ChannelPadding padding) {
        if (k < 1 || k % 2 == 0) {
            throw new IllegalArgumentException("conv kernel size expected odd and >= 1, found " + k);
        }
        if (type.keepsWidth() && cin != cout) {
            throw new IllegalArgumentException(type.key() + " convolution keeps the width: expected cin = cout, found " + cin + " -> " + cout);
        }
        this.type = type;
        this.cin = cin;
        this.cout = cout;
        this.k = k;
        this.padding = padding;
        this.order = order;
        switch (type) {
            case STANDARD -> {
                weight = parameter("weight", cout, cin, k, k);
                bias = parameter("bias", cout);
                spatial = null;
                channel = null;
                table = null;
            }
            case DEEPPRISM -> {
                weight = parameter("weight", 1, 1, k, k, k);
                bias = parameter("bias", 1);
                spatial = null;
                channel = null;
                table = null;
            }
            case SEPARABLE -> {
                weight = null;
                bias = null;
                spatial = child("spatial", new Spatial(k));
                channel = child("channel", new Channel(k));
                table = null;
            }
            default -> {
                if (order < 1 || order > k) {
                    throw new IllegalArgumentException(type.key() + " order expected in [1, " + k + "], found " + order);
                }
                weight = parameter("coeff", cout, cin, order, order);
                bias = parameter("bias", cout);
                spatial = null;
                channel = null;
                table = Approx.basisTable(type == ConvType.COSCONV ? Approx.Basis.COSINE : Approx.Basis.CHEBYSHEV, order, k);
            }
        }
    }

    /** A standard K×K convolution. */
    public static Conv standard(int cin, int cout, int k) {
        return new Conv(ConvType.STANDARD, cin, cout, k, 0, ChannelPadding.ZEROS);
    }

    public ConvType type() {
        return type;
    }

    public Tensor forward(Graph g, Tensor x) {
        requireChannels(x, cin);
        return switch (type) {
            case STANDARD -> g.conv2d(x, weight, bias, 1, k / 2);
            case DEEPPRISM -> g.prismConv(x, weight, bias, padding);
            case SEPARABLE -> g.prismConv(g.prismConv(x, spatial.weight, null, padding), channel.weight, channel.bias, padding);
            default -> g.approxConv(x, weight, table, bias, k);
        };
    }

    @Override
    protected void initialise(SplittableRandom r) {
        if (type == ConvType.COSCONV || type == ConvType.CHEBCONV) {
            // The synthesised kernel sums N² basis products of size ≤ 1: scale like a Cin·K² fan-in.
            uniform(weight, r, cin * k * k);
            uniform(bias, r, cin * k * k);
        } else if (weight != null) {
            super.initialise(r);
            if (bias != null) {
                uniform(bias, r, fanIn(weight));
            }
        }
    }
}
