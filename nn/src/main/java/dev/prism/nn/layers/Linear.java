package dev.prism.nn.layers;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.SplittableRandom;

/** {@code nn.Linear(in, out)}: {@code weight [out, in]}, {@code bias [out]}. Input {@code [rows, in]}, output {@code [rows, out]}. */
public final class Linear extends Module {
    private final int in;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int in, int out) {
        this.in = in;
        this.weight = parameter("weight", out, in);
        this.bias = parameter("bias", out);
    }

    public Tensor forward(Graph g, Tensor x) {
        if (x.rank() != 2 || x.dim(1) != in) {
            throw shapeError("input", "[rows, " + in + "]", x.shape());
        }
        return g.linear(x, weight, bias);
    }

    @Override
    protected void initialise(SplittableRandom r) {
        uniform(weight, r, in);
        uniform(bias, r, in);
    }
}
