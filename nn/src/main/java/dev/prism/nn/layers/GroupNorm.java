package dev.prism.nn.layers;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.SplittableRandom;

/**
 * {@code nn.GroupNorm(groups, C, eps)}: {@code weight [C]} (1 at start), {@code bias [C]} (0). Input and
 * output {@code [N, C, H, W]}; optionally followed by SiLU in the same kernel.
 */
public final class GroupNorm extends Module {
    private final int channels;
    private final int groups;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @throws IllegalArgumentException if {@code groups} does not divide {@code channels} or eps ≤ 0
     */
    public GroupNorm(int groups, int channels, float eps) {
        if (groups < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("group norm: groups expected a divisor of " + channels + " channels, found " + groups);
        }
        if (!(eps > 0)) {
            throw new IllegalArgumentException("group norm: eps expected > 0, found " + eps);
        }
        this.channels = channels;
        this.groups = groups;
        this.eps = eps;
        this.weight = parameter("weight", channels);
        this.bias = parameter("bias", channels);
    }

    /** The group count for a width: {@code preferred} when it divides the width, else the largest divisor below it. */
    public static int groupsFor(int channels, int preferred) {
        for (int g = Math.min(preferred, channels); g > 1; g--) {
            if (channels % g == 0) {
                return g;
            }
        }
        return 1;
    }

    public Tensor forward(Graph g, Tensor x, boolean silu) {
        requireChannels(x, channels);
        return g.groupNorm(x, weight, bias, groups, eps, silu);
    }

    @Override
    protected void initialise(SplittableRandom r) {
        fill(weight, 1f);
        fill(bias, 0f);
    }
}
