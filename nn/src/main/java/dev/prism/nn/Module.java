package dev.prism.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A part of a model: parameters of its own and named children, PyTorch-style, so that the full
 * parameter names are the {@code state_dict} names of the equivalent PyTorch module. Subclasses declare
 * their parameters and children in their constructors and add their computation to a {@link Graph} in
 * a typed {@code forward} method; every such method checks its input shape first and fails with
 * {@link #shapeError}, which names this module's path.
 */
public abstract class Module {
    private final List<Parameter> parameters = new ArrayList<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private String path = "";

    /** Declares a parameter of this module, zeros once allocated (see {@link Parameter#value()}). */
    protected final Parameter parameter(String name, int... shape) {
        Parameter p = new Parameter(name, shape);
        parameters.add(p);
        p.prefix(path);
        return p;
    }

    /** Declares a child under {@code name} ({@code "0"}, {@code "conv1"}, ...). */
    protected final <M extends Module> M child(String name, M module) {
        if (children.putIfAbsent(name, module) != null) {
            throw new IllegalStateException(getClass().getSimpleName() + ": two children named '" + name + "'");
        }
        ((Module) module).rename(path.isEmpty() ? name : path + "." + name);
        return module;
    }

    private void rename(String newPath) {
        this.path = newPath;
        for (Parameter p : parameters) {
            p.prefix(newPath);
        }
        for (var e : children.entrySet()) {
            e.getValue().rename(newPath.isEmpty() ? e.getKey() : newPath + "." + e.getKey());
        }
    }

    /** This module's path in the model ({@code ""} for the root). */
    public final String path() {
        return path;
    }

    /** The parameters of this module and its children, in declaration order (the state_dict order). */
    public final List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>(parameters);
        for (Module m : children.values()) {
            out.addAll(m.parameters());
        }
        return out;
    }

    /** This module's own parameters. */
    public final List<Parameter> ownParameters() {
        return Collections.unmodifiableList(parameters);
    }

    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** The total number of parameter elements. */
    public final long parameterCount() {
        long n = 0;
        for (Parameter p : parameters()) {
            n += p.numel();
        }
        return n;
    }

    /** The bytes of every parameter's fp32 values, whether allocated yet or not. */
    public final long parameterBytes() {
        return Math.multiplyExact(parameterCount(), (long) Float.BYTES);
    }

    /** The expected shape of every parameter, by name, in state_dict order: what strict loading checks. */
    public final Map<String, int[]> expectedShapes() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Parameter p : parameters()) {
            out.put(p.name(), p.shape());
        }
        return out;
    }

    /**
     * Fills the parameters as PyTorch's defaults would (seeded): weights uniform in ±1/√fan_in (the
     * bound of {@code nn.Conv2d}/{@code nn.Linear}'s Kaiming-uniform with a = √5 and of their bias),
     * group-norm scales 1 and shifts 0. Subclasses with other needs override {@link #initialise}.
     */
    public final void initialise(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Module m : all()) {
            m.initialise(r);
        }
    }

    /** Initialises this module's own parameters; the default draws every one uniformly in ±1/√fan_in. */
    protected void initialise(SplittableRandom r) {
        for (Parameter p : parameters) {
            uniform(p, r, fanIn(p));
        }
    }

    /** Fan-in of a weight: every dimension but the first (at least 1). */
    protected static int fanIn(Parameter p) {
        int[] s = p.shape();
        int f = 1;
        for (int i = 1; i < s.length; i++) {
            f *= s[i];
        }
        return Math.max(1, f);
    }

    protected static void uniform(Parameter p, SplittableRandom r, int fanIn) {
        double bound = 1 / Math.sqrt(fanIn);
        float[] d = p.value().data();
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) r.nextDouble(-bound, bound);
        }
    }

    protected static void fill(Parameter p, float v) {
        Arrays.fill(p.value().data(), v);
    }

    /** This module and all its descendants, depth first. */
    public final List<Module> all() {
        List<Module> out = new ArrayList<>();
        out.add(this);
        for (Module m : children.values()) {
            out.addAll(m.all());
        }
        return out;
    }

    /**
     * A shape error naming this module: {@code layer 'down.1.conv': input expected [1, 64, *, *], found [1, 32, 16, 16]}.
     */
    protected final ModelShapeException shapeError(String what, String expected, int[] found) {
        return new ModelShapeException("layer '" + (path.isEmpty() ? getClass().getSimpleName() : path) + "' ("
                + getClass().getSimpleName() + "): " + what + " expected " + expected + ", found " + Arrays.toString(found));
    }

    /** Fails unless {@code x} is [N, channels, H, W] (any N, H, W ≥ 1). */
    protected final void requireChannels(Tensor x, int channels) {
        int[] s = x.shape();
        if (s.length != 4 || s[1] != channels) {
            throw shapeError("input", "[N, " + channels + ", H, W]", s);
        }
    }

    /** One line per module with its own parameter count, indented by depth: for {@code prism info --model}. */
    public final String describe() {
        StringBuilder b = new StringBuilder();
        describe(b, getClass().getSimpleName(), 0);
        b.append("total parameters: ").append(parameterCount()).append('\n');
        return b.toString();
    }

    private void describe(StringBuilder b, String label, int depth) {
        long own = 0;
        for (Parameter p : parameters) {
            own += p.numel();
        }
        b.append("  ".repeat(depth)).append(label).append(" (").append(getClass().getSimpleName()).append(')');
        if (own > 0) {
            b.append("  ").append(own);
            for (Parameter p : parameters) {
                b.append("  ").append(p.name().substring(p.name().lastIndexOf('.') + 1)).append(Arrays.toString(p.shape()));
            }
        }
        b.append("  subtotal ").append(parameterCount()).append('\n');
        for (var e : children.entrySet()) {
            e.getValue().describe(b, e.getKey(), depth + 1);
        }
    }
}
