package dev.prism.nn.layers;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.SplittableRandom;

/**
 * WG-Down / WG-Up (Spectral Diffusion §5.1). WG-Down: x {@code [N, C, H, W]} → {@code [N, C, H/2, W/2]},
 * the gated sum of the Haar sub-bands. WG-Up: a 1×1 convolution {@code expand} (C → 4C) makes the four
 * chunks the paper splits its input into, which are gated and inverted: {@code [N, C, h, w]} →
 * {@code [N, C, 2h, 2w]}. The gates come from {@code sigmoid(gate(avgpool(·)))}, {@code gate} a 2-layer FFN
 * {@code Linear(Cin, hidden) - ReLU - Linear(hidden, 4·G)} named like {@code nn.Sequential}:
 * {@code gate.0.weight [hidden, Cin]}, {@code gate.0.bias}, {@code gate.2.weight [4G, hidden]}, {@code gate.2.bias}.
 * G = 1 gate per band (the paper's "gating score of each wavelet band") or G = C.
 */
public final class WaveletGate extends Module {
    private final boolean down;
    private final int channels;
    private final int gates;
    private final Conv expand;
    private final Ffn gate;

    /** The gate network. */
    public static final class Ffn extends Module {
        final Layer first;
        final Layer second;

        Ffn(int in, int hidden, int out) {
            first = child("0", new Layer(in, hidden));
            second = child("2", new Layer(hidden, out));
        }
    }

    /** One linear layer of the gate network (weights only: {@link Graph#wgDown} and {@link Graph#wgUp} apply them). */
    public static final class Layer extends Module {
        final Parameter weight;
        final Parameter bias;
        private final int in;

        Layer(int in, int out) {
            this.in = in;
            weight = parameter("weight", out, in);
            bias = parameter("bias", out);
        }

        @Override
        protected void initialise(SplittableRandom r) {
            uniform(weight, r, in);
            uniform(bias, r, in);
        }
    }

    private WaveletGate(boolean down, int channels, int hidden, int gates) {
        if (gates != 1 && gates != channels) {
            throw new IllegalArgumentException("wavelet gating: gates expected 1 or " + channels + ", found " + gates);
        }
        if (hidden < 1) {
            throw new IllegalArgumentException("wavelet gating: hidden expected >= 1, found " + hidden);
        }
        this.down = down;
        this.channels = channels;
        this.gates = gates;
        this.expand = down ? null : child("expand", Conv.standard(channels, 4 * channels, 1));
        this.gate = child("gate", new Ffn(down ? channels : 4 * channels, hidden, 4 * gates));
    }

    public static WaveletGate down(int channels, int hidden, int gates) {
        return new WaveletGate(true, channels, hidden, gates);
    }

    public static WaveletGate up(int channels, int hidden, int gates) {
        return new WaveletGate(false, channels, hidden, gates);
    }

    public Tensor forward(Graph g, Tensor x) {
        requireChannels(x, channels);
        if (down) {
            if (x.dim(2) % 2 != 0 || x.dim(3) % 2 != 0) {
                throw shapeError("input", "[N, " + channels + ", H, W] with even H and W", x.shape());
            }
            return g.wgDown(x, gate.first.weight, gate.first.bias, gate.second.weight, gate.second.bias, gates);
        }
        return g.wgUp(expand.forward(g, x), gate.first.weight, gate.first.bias, gate.second.weight, gate.second.bias, gates);
    }
}
