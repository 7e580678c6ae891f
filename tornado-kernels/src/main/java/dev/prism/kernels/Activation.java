package dev.prism.kernels;

import dev.prism.backend.Launch;

/**
 * Checked launches of the activation kernels in {@link ActivationKernels}.
 *
 * <p>Element-wise activations take flat buffers of {@code len} elements in any layout; the output may
 * be the input array (in place), because each work-item reads element i before writing element i and
 * touches nothing else. Softmax works on {@code x[rows, n]} row-major, normalising each row; it too
 * may run in place. Backward passes may likewise write into the upstream gradient's array.
 *
 * <p>Flop counts treat an exp as one operation.
 */
public final class Activation {
    private static final Kernel SILU = Kernel.of("activation.silu", "siluLane").vector("ActivationVector", "siluRange");
    private static final Kernel SILU_BACKWARD = Kernel.of("activation.siluBackward", "siluBackwardLane")
            .vector("ActivationVector", "siluBackwardRange");
    private static final Kernel GELU = Kernel.of("activation.gelu", "geluLane").vector("ActivationVector", "geluRange");
    private static final Kernel GELU_BACKWARD = Kernel.of("activation.geluBackward", "geluBackwardLane")
            .vector("ActivationVector", "geluBackwardRange");
    private static final Kernel LEAKY_RELU = Kernel.of("activation.leakyRelu", "leakyReluLane")
            .vector("ActivationVector", "leakyReluRange");
    private static final Kernel LEAKY_RELU_BACKWARD = Kernel.of("activation.leakyReluBackward", "leakyReluBackwardLane")
            .vector("ActivationVector", "leakyReluBackwardRange");
    private static final Kernel SIGMOID = Kernel.of("activation.sigmoid", "sigmoidLane").vector("ActivationVector", "sigmoidRange");
    private static final Kernel SIGMOID_BACKWARD = Kernel.of("activation.sigmoidBackward", "sigmoidBackwardLane");
    private static final Kernel TANH = Kernel.of("activation.tanhForward", "tanhForwardLane");
    private static final Kernel TANH_BACKWARD = Kernel.of("activation.tanhBackward", "tanhBackwardLane");
    private static final Kernel SOFTMAX = Kernel.of("activation.softmax", "softmaxRow").vector("ActivationVector", "softmaxRows");
    private static final Kernel SOFTMAX_BACKWARD = Kernel.of("activation.softmaxBackward", "softmaxBackwardRow")
            .vector("ActivationVector", "softmaxBackwardRows");

    private Activation() {
    }

    /** {@code y = F.silu(x)}; writes {@code y}. */
    public static Launch silu(float[] x, float[] y, int len) {
        unary("activation.silu", x, y, len);
        return SILU.with(x, y, len).writes(1).grid(len).launch(4L * len, 8L * len);
    }

    /** {@code gx = gy·silu'(x)} from the forward input {@code x}; writes {@code gx}. */
    public static Launch siluBackward(float[] x, float[] gy, float[] gx, int len) {
        binary("activation.siluBackward", "x", x, gy, gx, len);
        return SILU_BACKWARD.with(x, gy, gx, len).writes(2).grid(len).launch(8L * len, 12L * len);
    }

    /** {@code y = F.gelu(x, approximate='none') = x·Φ(x)}; writes {@code y}. */
    public static Launch gelu(float[] x, float[] y, int len) {
        unary("activation.gelu", x, y, len);
        return GELU.with(x, y, len).writes(1).grid(len).launch(20L * len, 8L * len);
    }

    /** {@code gx = gy·(Φ(x) + x·φ(x))} from the forward input {@code x}; writes {@code gx}. */
    public static Launch geluBackward(float[] x, float[] gy, float[] gx, int len) {
        binary("activation.geluBackward", "x", x, gy, gx, len);
        return GELU_BACKWARD.with(x, gy, gx, len).writes(2).grid(len).launch(26L * len, 12L * len);
    }

    /** {@code y = F.leaky_relu(x, slope)}; any finite slope; writes {@code y}. */
    public static Launch leakyRelu(float[] x, float[] y, int len, float slope) {
        unary("activation.leakyRelu", x, y, len).finite("slope", slope);
        return LEAKY_RELU.with(x, y, len, slope).writes(1).grid(len).launch(len, 8L * len);
    }

    /** {@code gx = x > 0 ? gy : slope·gy} from the forward input {@code x}; writes {@code gx}. */
    public static Launch leakyReluBackward(float[] x, float[] gy, float[] gx, int len, float slope) {
        binary("activation.leakyReluBackward", "x", x, gy, gx, len).finite("slope", slope);
        return LEAKY_RELU_BACKWARD.with(x, gy, gx, len, slope).writes(2).grid(len).launch(len, 12L * len);
    }

    /** {@code y = torch.sigmoid(x)}; writes {@code y}. */
    public static Launch sigmoid(float[] x, float[] y, int len) {
        unary("activation.sigmoid", x, y, len);
        return SIGMOID.with(x, y, len).writes(1).grid(len).launch(3L * len, 8L * len);
    }

    /** {@code gx = gy·y·(1 − y)} from the forward <em>output</em> {@code y}; writes {@code gx}. */
    public static Launch sigmoidBackward(float[] y, float[] gy, float[] gx, int len) {
        binary("activation.sigmoidBackward", "y", y, gy, gx, len);
        return SIGMOID_BACKWARD.with(y, gy, gx, len).writes(2).grid(len).launch(3L * len, 12L * len);
    }

    /** {@code y = torch.tanh(x)}; writes {@code y}. */
    public static Launch tanh(float[] x, float[] y, int len) {
        unary("activation.tanh", x, y, len);
        return TANH.with(x, y, len).writes(1).grid(len).launch(3L * len, 8L * len);
    }

    /** {@code gx = gy·(1 − y²)} from the forward <em>output</em> {@code y}; writes {@code gx}. */
    public static Launch tanhBackward(float[] y, float[] gy, float[] gx, int len) {
        binary("activation.tanhBackward", "y", y, gy, gx, len);
        return TANH_BACKWARD.with(y, gy, gx, len).writes(2).grid(len).launch(3L * len, 12L * len);
    }

    /** {@code y = torch.softmax(x, dim=-1)} over {@code x[rows, n]}; writes {@code y}. */
    public static Launch softmax(float[] x, float[] y, int rows, int n) {
        Check k = Check.of("activation.softmax").positive("rows", rows).positive("n", n);
        int size = k.size("x", rows, n);
        k.length("x", x, size).length("y", y, size);
        return SOFTMAX.with(x, y, rows, n).writes(1).grid(rows).launch(5L * size, 12L * size);
    }

    /**
     * {@code gx = y·(gy − Σ gy·y)} per row, from the forward <em>output</em> {@code y[rows, n]};
     * writes {@code gx}.
     */
    public static Launch softmaxBackward(float[] y, float[] gy, float[] gx, int rows, int n) {
        Check k = Check.of("activation.softmaxBackward").positive("rows", rows).positive("n", n);
        int size = k.size("y", rows, n);
        k.length("y", y, size).length("gy", gy, size).length("gx", gx, size);
        return SOFTMAX_BACKWARD.with(y, gy, gx, rows, n).writes(2).grid(rows).launch(4L * size, 16L * size);
    }

    private static Check unary(String kernel, float[] x, float[] y, int len) {
        return Check.of(kernel).positive("len", len).length("x", x, len).length("y", y, len);
    }

    private static Check binary(String kernel, String inName, float[] in, float[] gy, float[] gx, int len) {
        return Check.of(kernel).positive("len", len).length(inName, in, len).length("gy", gy, len).length("gx", gx, len);
    }
}
