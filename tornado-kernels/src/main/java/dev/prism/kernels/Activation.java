package dev.prism.kernels;

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
    private Activation() {
    }

    /** {@code y = F.silu(x)}; writes {@code y}. */
    public static Launch silu(float[] x, float[] y, int len) {
        unary("activation.silu", x, y, len);
        return new Launch("activation.silu", new Object[] {x, y, len}, new int[] {1}, len,
                () -> ActivationKernels.silu(x, y, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        y[i] = ActivationKernels.siluOf(x[i]);
                    }
                },
                4L * len, 8L * len)
                .withVector((from, to) -> ActivationVector.silu(x, y, from, to));
    }

    /** {@code gx = gy·silu'(x)} from the forward input {@code x}; writes {@code gx}. */
    public static Launch siluBackward(float[] x, float[] gy, float[] gx, int len) {
        binary("activation.siluBackward", "x", x, gy, gx, len);
        return new Launch("activation.siluBackward", new Object[] {x, gy, gx, len}, new int[] {2}, len,
                () -> ActivationKernels.siluBackward(x, gy, gx, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        gx[i] = ActivationKernels.siluGradOf(x[i], gy[i]);
                    }
                },
                8L * len, 12L * len)
                .withVector((from, to) -> ActivationVector.siluBackward(x, gy, gx, from, to));
    }

    /** {@code y = F.gelu(x, approximate='none') = x·Φ(x)}; writes {@code y}. */
    public static Launch gelu(float[] x, float[] y, int len) {
        unary("activation.gelu", x, y, len);
        return new Launch("activation.gelu", new Object[] {x, y, len}, new int[] {1}, len,
                () -> ActivationKernels.gelu(x, y, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        y[i] = ActivationKernels.geluOf(x[i]);
                    }
                },
                20L * len, 8L * len);
    }

    /** {@code gx = gy·(Φ(x) + x·φ(x))} from the forward input {@code x}; writes {@code gx}. */
    public static Launch geluBackward(float[] x, float[] gy, float[] gx, int len) {
        binary("activation.geluBackward", "x", x, gy, gx, len);
        return new Launch("activation.geluBackward", new Object[] {x, gy, gx, len}, new int[] {2}, len,
                () -> ActivationKernels.geluBackward(x, gy, gx, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        gx[i] = ActivationKernels.geluGradOf(x[i], gy[i]);
                    }
                },
                26L * len, 12L * len);
    }

    /** {@code y = F.leaky_relu(x, slope)}; any finite slope; writes {@code y}. */
    public static Launch leakyRelu(float[] x, float[] y, int len, float slope) {
        unary("activation.leakyRelu", x, y, len).finite("slope", slope);
        return new Launch("activation.leakyRelu", new Object[] {x, y, len, slope}, new int[] {1}, len,
                () -> ActivationKernels.leakyRelu(x, y, len, slope),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        y[i] = ActivationKernels.leakyReluOf(x[i], slope);
                    }
                },
                len, 8L * len).withVector((from, to) -> ActivationVector.leakyRelu(x, y, slope, from, to));
    }

    /** {@code gx = x > 0 ? gy : slope·gy} from the forward input {@code x}; writes {@code gx}. */
    public static Launch leakyReluBackward(float[] x, float[] gy, float[] gx, int len, float slope) {
        binary("activation.leakyReluBackward", "x", x, gy, gx, len).finite("slope", slope);
        return new Launch("activation.leakyReluBackward", new Object[] {x, gy, gx, len, slope}, new int[] {2}, len,
                () -> ActivationKernels.leakyReluBackward(x, gy, gx, len, slope),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        gx[i] = ActivationKernels.leakyReluGradOf(x[i], gy[i], slope);
                    }
                },
                len, 12L * len).withVector((from, to) -> ActivationVector.leakyReluBackward(x, gy, gx, slope, from, to));
    }

    /** {@code y = torch.sigmoid(x)}; writes {@code y}. */
    public static Launch sigmoid(float[] x, float[] y, int len) {
        unary("activation.sigmoid", x, y, len);
        return new Launch("activation.sigmoid", new Object[] {x, y, len}, new int[] {1}, len,
                () -> ActivationKernels.sigmoid(x, y, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        y[i] = ActivationKernels.sigmoidOf(x[i]);
                    }
                },
                3L * len, 8L * len)
                .withVector((from, to) -> ActivationVector.sigmoid(x, y, from, to));
    }

    /** {@code gx = gy·y·(1 − y)} from the forward <em>output</em> {@code y}; writes {@code gx}. */
    public static Launch sigmoidBackward(float[] y, float[] gy, float[] gx, int len) {
        binary("activation.sigmoidBackward", "y", y, gy, gx, len);
        return new Launch("activation.sigmoidBackward", new Object[] {y, gy, gx, len}, new int[] {2}, len,
                () -> ActivationKernels.sigmoidBackward(y, gy, gx, len),
                (from, to) -> {
                    for (int i = from; i < to; i++) {
                        gx[i] = ActivationKernels.sigmoidGradOf(y[i], gy[i]);
                    }
                },
                3L * len, 12L * len);
    }

    /** {@code y = torch.softmax(x, dim=-1)} over {@code x[rows, n]}; writes {@code y}. */
    public static Launch softmax(float[] x, float[] y, int rows, int n) {
        Check k = Check.of("activation.softmax").positive("rows", rows).positive("n", n);
        int size = k.size("x", rows, n);
        k.length("x", x, size).length("y", y, size);
        return new Launch("activation.softmax", new Object[] {x, y, rows, n}, new int[] {1}, rows,
                () -> ActivationKernels.softmax(x, y, rows, n),
                (from, to) -> {
                    for (int r = from; r < to; r++) {
                        ActivationKernels.softmaxRow(x, y, n, r);
                    }
                },
                5L * size, 12L * size)
                .withVector((from, to) -> {
                    for (int r = from; r < to; r++) {
                        ActivationVector.softmaxRow(x, y, n, r);
                    }
                });
    }

    /**
     * {@code gx = y·(gy − Σ gy·y)} per row, from the forward <em>output</em> {@code y[rows, n]};
     * writes {@code gx}.
     */
    public static Launch softmaxBackward(float[] y, float[] gy, float[] gx, int rows, int n) {
        Check k = Check.of("activation.softmaxBackward").positive("rows", rows).positive("n", n);
        int size = k.size("y", rows, n);
        k.length("y", y, size).length("gy", gy, size).length("gx", gx, size);
        return new Launch("activation.softmaxBackward", new Object[] {y, gy, gx, rows, n}, new int[] {2}, rows,
                () -> ActivationKernels.softmaxBackward(y, gy, gx, rows, n),
                (from, to) -> {
                    for (int r = from; r < to; r++) {
                        ActivationKernels.softmaxBackwardRow(y, gy, gx, n, r);
                    }
                },
                4L * size, 16L * size);
    }

    private static Check unary(String kernel, float[] x, float[] y, int len) {
        return Check.of(kernel).positive("len", len).length("x", x, len).length("y", y, len);
    }

    private static Check binary(String kernel, String inName, float[] in, float[] gy, float[] gx, int len) {
        return Check.of(kernel).positive("len", len).length(inName, in, len).length("gy", gy, len).length("gx", gx, len);
    }
}
