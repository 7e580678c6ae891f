package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Activation;
import dev.prism.backend.Launch;

import java.util.ArrayList;
import java.util.List;

/**
 * SiLU, GELU, leaky ReLU (slope 0.2), sigmoid, tanh and softmax, forward and backward. MODEL: the
 * element-wise ones on 1×64×64×64, softmax over rows of 64 of that tensor (4096 rows).
 */
final class ActivationCases implements CaseProvider {
    private interface Forward {
        Launch make(float[] x, float[] y, int len);
    }

    private interface Backward {
        Launch make(float[] in, float[] gy, float[] gx, int len);
    }

    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int len = small ? 2 * 5 * 17 * 19 : 64 * 64 * 64;
        String shape = small ? "2x5x17x19" : "1x64x64x64";
        int rows = small ? 85 : 4096, n = small ? 38 : 64;
        String rowShape = rows + "x" + n;
        float slope = 0.2f;
        List<KernelCase> out = new ArrayList<>();
        elementwise(out, "activation.silu", shape, len, false, Activation::silu, Activation::siluBackward);
        elementwise(out, "activation.gelu", shape, len, false, Activation::gelu, Activation::geluBackward);
        elementwise(out, "activation.leakyRelu", shape, len, false,
                (x, y, l) -> Activation.leakyRelu(x, y, l, slope),
                (x, gy, gx, l) -> Activation.leakyReluBackward(x, gy, gx, l, slope));
        elementwise(out, "activation.sigmoid", shape, len, true, Activation::sigmoid, Activation::sigmoidBackward);
        elementwise(out, "activation.tanh", shape, len, true, Activation::tanh, Activation::tanhBackward);
        out.add(new KernelCase("activation.softmax", rowShape, seed -> {
            float[] x = new Rand(seed).gaussian(rows * n, 3f), y = Rand.poisoned(rows * n);
            return Plan.builder("activation.softmax").add(Activation.softmax(x, y, rows, n)).inputs(x).outputs(y).build();
        }));
        out.add(new KernelCase("activation.softmax.backward", rowShape, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(rows * n, 3f), gy = r.gaussian(rows * n), y = new float[rows * n];
            Activation.softmax(x, y, rows, n).loops().run();
            float[] gx = Rand.poisoned(rows * n);
            return Plan.builder("activation.softmax.backward").add(Activation.softmaxBackward(y, gy, gx, rows, n))
                    .inputs(y, gy).outputs(gx).build();
        }));
        return out;
    }

    /** A forward and a backward case; {@code fromOutput}: the backward reads the forward's output, not its input. */
    private static void elementwise(List<KernelCase> out, String name, String shape, int len, boolean fromOutput,
                                    Forward forward, Backward backward) {
        out.add(new KernelCase(name, shape, seed -> {
            float[] x = new Rand(seed).gaussian(len, 3f), y = Rand.poisoned(len);
            return Plan.builder(name).add(forward.make(x, y, len)).inputs(x).outputs(y).build();
        }));
        out.add(new KernelCase(name + ".backward", shape, seed -> {
            Rand r = new Rand(seed);
            float[] x = r.gaussian(len, 3f), gy = r.gaussian(len), gx = Rand.poisoned(len);
            float[] in = x;
            if (fromOutput) {
                in = new float[len];
                forward.make(x, in, len).loops().run();
            }
            return Plan.builder(name + ".backward").add(backward.make(in, gy, gx, len)).inputs(in, gy).outputs(gx).build();
        }));
    }
}
