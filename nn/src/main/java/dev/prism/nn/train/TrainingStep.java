package dev.prism.nn.train;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.Plan;
import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.Training;
import dev.prism.kernels.TrainingKernels;
import dev.prism.nn.Footprint;
import dev.prism.nn.Graph;
import dev.prism.nn.ModelShapeException;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One training step as ONE compiled plan: the model's forward pass and loss, the backward pass, the
 * global gradient norm and its clip factor, AdamW on every parameter and the EMA of the weights.
 *
 * <pre>
 *   loss = graph(inputs)                         (the caller's graph, ending in a scalar loss)
 *   g_p  = ∂loss/∂p                              (the graph's backward pass)
 *   n    = √(Σ_p Σ g_p²);  c = min(1, clip/(n + 1e-6))      (torch.nn.utils.clip_grad_norm_)
 *   p, m_p, v_p = AdamW(p, c·g_p, m_p, v_p; lr_t, t)        (torch.optim.AdamW)
 *   ema_p = d_t·ema_p + (1 − d_t)·p,   d_t = min(decay, (1 + t−1)/(10 + t−1))
 * </pre>
 * The weights, both moments and the EMA weights are the plan's state: a device backend keeps them on the
 * device for the whole run, and the only per-step traffic is the caller's inputs (the batch), the step's
 * scalars ({@code hyper}, {@code decay}: a few floats) and, back, the loss and the gradient norm. The
 * host sees the weights only when it asks ({@link #fetch}), for a checkpoint or a sample grid.
 *
 * <p>Parameters that no gradient reaches (unused by the graph) are not updated, and their EMA stays
 * equal to them. Not thread-safe.
 */
public final class TrainingStep implements AutoCloseable {
    /**
     * @param optimizer the AdamW settings
     * @param schedule  the learning-rate schedule
     * @param clipNorm  the maximum global gradient norm (0: no clipping)
     * @param emaDecay  the EMA's decay after its warm-up (0: the EMA follows the weights)
     */
    public record Settings(AdamW optimizer, LrSchedule schedule, double clipNorm, double emaDecay) {
        public Settings {
            Objects.requireNonNull(optimizer, "optimizer");
            Objects.requireNonNull(schedule, "schedule");
            if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) {
                throw new ArgumentException("clipNorm", "expected a finite number >= 0 (0: no clipping), found " + clipNorm);
            }
            if (!(emaDecay >= 0 && emaDecay < 1)) {
                throw new ArgumentException("emaDecay", "expected a number in [0, 1), found " + emaDecay);
            }
        }

        /** These settings as a checkpoint's state entries (lr, beta1, beta2, adam_eps, weight_decay, lr_decay, ...). */
        public Map<String, String> state() {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("lr", Double.toString(optimizer.lr()));
            m.put("beta1", Double.toString(optimizer.beta1()));
            m.put("beta2", Double.toString(optimizer.beta2()));
            m.put("adam_eps", Double.toString(optimizer.eps()));
            m.put("weight_decay", Double.toString(optimizer.weightDecay()));
            m.put("lr_decay", schedule.decay());
            m.put("warmup", Long.toString(schedule.warmup()));
            m.put("total", Long.toString(schedule.total()));
            m.put("min_lr_ratio", Double.toString(schedule.minRatio()));
            m.put("clip", Double.toString(clipNorm));
            m.put("ema", Double.toString(emaDecay));
            return m;
        }
    }

    /** The optimiser state of one parameter: its moments and its EMA. */
    public record State(Parameter parameter, float[] m, float[] v, float[] ema, boolean trained) {
    }

    private final Settings settings;
    private final Map<Parameter, State> states = new LinkedHashMap<>();
    private final float[] loss;
    private final float[][] terms;
    private final float[] clip = new float[2];
    private final float[] hyper = new float[TrainingKernels.HYPER];
    private final float[] decay = new float[2];
    private final Plan plan;
    private Executable executable;
    private double lastLr;

    /**
     * Completes {@code graph} (whose forward pass ends in {@code loss}, shape [1]) with its backward
     * pass and the optimiser, and compiles the step plan on {@code backend}.
     *
     * @param parameters the parameters to train and checkpoint (a model's {@code parameters()})
     * @param inputs     the buffers the caller rewrites before every step (the batch)
     * @throws ModelShapeException if {@code loss} is not a scalar [1]
     */
    public TrainingStep(Backend backend, Graph graph, Tensor loss, List<Parameter> parameters, Settings settings, float[]... inputs) {
        this(graph, loss, parameters, settings, inputs);
        compile(backend);
    }

    /**
     * The same step, built but not compiled: {@link #plan()} can be inspected or benchmarked, and
     * {@link #compile} prepares it to run.
     */
    public TrainingStep(Graph graph, Tensor loss, List<Parameter> parameters, Settings settings, float[]... inputs) {
        this(graph, loss, List.of(), parameters, settings, inputs);
    }

    /**
     * The same step, built but not compiled, that also brings back {@code terms}: scalars [1] of the graph
     * (the terms of a loss made of several) that {@link #term} reads after each step.
     */
    public TrainingStep(Graph graph, Tensor loss, List<Tensor> terms, List<Parameter> parameters, Settings settings, float[]... inputs) {
        this(graph, loss, terms, parameters, settings, null, inputs);
    }

    /**
     * The same step, built but not compiled, whose optimiser moments and EMA are {@code shared}'s own arrays: two plans of
     * one network (a loss with and without a term that only some steps compute) that update the same state, of which one
     * runs per step. Both must run on a backend whose plans read the host's arrays (the JVM's).
     *
     * @param shared a step over the same parameters; null: new state
     * @throws IllegalArgumentException if {@code shared} lacks one of {@code parameters}
     */
    public TrainingStep(Graph graph, Tensor loss, List<Tensor> terms, List<Parameter> parameters, Settings settings, TrainingStep shared,
                        float[]... inputs) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (!loss.hasShape(1)) {
            throw new ModelShapeException("training step: the loss expected shape [1], found " + loss);
        }
        for (Tensor t : terms) {
            if (!t.hasShape(1)) {
                throw new ModelShapeException("training step: a loss term expected shape [1], found " + t);
            }
        }
        this.terms = terms.stream().map(Tensor::data).toArray(float[][]::new);
        this.loss = loss.data();
        float[] one = {1f};
        graph.backward(loss, Tensor.of(one, 1));

        Plan.Builder b = Plan.builder("train:" + graph.name());
        graph.addTrainingTo(b);
        Map<float[], Boolean> seen = new IdentityHashMap<>();
        List<float[]> grads = new ArrayList<>();
        List<State> trained = new ArrayList<>();
        for (Parameter p : parameters) {
            if (seen.put(p.value().data(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("training step: parameter '" + p.name() + "' is listed twice");
            }
            Tensor g = graph.gradOf(p);
            int n = p.numel();
            State s;
            if (shared == null) {
                s = new State(p, new float[n], new float[n], p.value().data().clone(), g != null);
            } else {
                State o = shared.states.get(p);
                if (o == null) {
                    throw new IllegalArgumentException("training step: parameter '" + p.name() + "' has no state in the shared step");
                }
                s = new State(p, o.m(), o.v(), o.ema(), g != null);
            }
            states.put(p, s);
            if (g != null) {
                grads.add(g.data());
                trained.add(s);
            }
        }
        if (trained.isEmpty()) {
            throw new IllegalArgumentException("training step: no gradient reaches any of the " + parameters.size() + " parameters");
        }
        int count = 0;
        for (float[] g : grads) {
            count += Training.blocks(g.length);
        }
        float[] partials = new float[count];
        int at = 0;
        for (float[] g : grads) {
            b.add(Training.sumSquares(g, partials, g.length, at));
            at += Training.blocks(g.length);
        }
        b.add(Training.clipFactor(partials, clip, count, (float) settings.clipNorm()));
        for (int i = 0; i < trained.size(); i++) {
            State s = trained.get(i);
            b.add(Training.adamw(s.parameter().value().data(), grads.get(i), s.m(), s.v(), hyper, clip));
        }
        for (State s : states.values()) {
            b.add(Training.ema(s.ema(), s.parameter().value().data(), decay));
        }
        Map<float[], Boolean> inGraph = new IdentityHashMap<>();
        for (Parameter p : graph.parameters()) {
            inGraph.put(p.value().data(), Boolean.TRUE);
        }
        for (State s : states.values()) {
            b.state(s.m(), s.v(), s.ema()).fetchable(s.m(), s.v(), s.ema(), s.parameter().value().data());
            if (!inGraph.containsKey(s.parameter().value().data())) {
                // a parameter the graph does not use is read only by its EMA
                b.constants(s.parameter().value().data());
            }
        }
        b.constants(one).inputs(hyper, decay).inputs(inputs).outputs(this.loss, clip).outputs(this.terms);
        this.plan = b.build();
    }

    /**
     * The arrays a step adds to its graph's forward and backward launches, known before any is allocated:
     * per parameter its two AdamW moments and its EMA copy, the gradient norm's partial sums, and the step's
     * scalars (as if every parameter received a gradient). With the graph's arrays (its weights, activations
     * and gradients) and the inputs, this is every array of {@link #plan()}.
     */
    public static Footprint stateFootprint(List<Parameter> parameters) {
        List<Long> fixed = new ArrayList<>();
        long partials = 0;
        for (Parameter p : parameters) {
            for (int i = 0; i < 3; i++) {
                fixed.add((long) p.numel());
            }
            partials += Training.blocks(p.numel());
        }
        fixed.add(partials);
        fixed.add(2L);                          // clip
        fixed.add((long) TrainingKernels.HYPER); // hyper
        fixed.add(2L);                          // decay
        long[] f = fixed.stream().mapToLong(Long::longValue).toArray();
        return Footprint.of(f, new long[f.length]);
    }

    /**
     * Compiles the plan on {@code backend}; call once, before the first {@link #run}.
     *
     * @return this
     */
    public TrainingStep compile(Backend backend) {
        Objects.requireNonNull(backend, "backend");
        if (executable != null) {
            throw new IllegalStateException("training step: already compiled for " + executable.plan().name());
        }
        executable = backend.compile(plan);
        return this;
    }

    /** The plan of one step. */
    public Plan plan() {
        return plan;
    }

    /** Every parameter's optimiser state, in the order given. */
    public Map<Parameter, State> states() {
        return Collections.unmodifiableMap(states);
    }

    /**
     * Runs training step {@code step} (counted from 1; the learning rate, the bias corrections and the
     * EMA decay depend on it) on the inputs the caller has written. Returns the loss.
     */
    public float run(long step) {
        if (executable == null) {
            throw new IllegalStateException("training step: compile it on a backend first");
        }
        prepare(step);
        executable.execute();
        return loss[0];
    }

    /** Writes the scalars of step {@code step} (from 1) into the plan's inputs, without running it. */
    public void prepare(long step) {
        if (step < 1) {
            throw new IllegalArgumentException("training step: argument 'step' expected >= 1, found " + step);
        }
        AdamW o = settings.optimizer();
        lastLr = o.lr() * settings.schedule().factor(step);
        Training.adamwHyper(hyper, lastLr, o.beta1(), o.beta2(), o.eps(), o.weightDecay(), step);
        double n = step - 1;
        double d = Math.min(settings.emaDecay(), (1 + n) / (10 + n));
        decay[0] = (float) d;
        decay[1] = (float) (1 - d);
    }

    /** The loss of the last step. */
    public float loss() {
        return loss[0];
    }

    /** Term {@code i} of the loss (in the order given to the constructor) of the last step. */
    public float term(int i) {
        return terms[i][0];
    }

    /** The global gradient norm of the last step, before clipping. */
    public float gradNorm() {
        return clip[1];
    }

    /** The learning rate of the last step. */
    public double learningRate() {
        return lastLr;
    }

    /** Brings the weights, the moments and the EMA weights to the host (a device backend copies them now). */
    public void fetch() {
        if (executable == null) {
            return;
        }
        for (State s : states.values()) {
            executable.fetch(s.m(), s.v(), s.ema(), s.parameter().value().data());
        }
    }

    /**
     * Copies the EMA weights into {@code target}, a module of the same architecture (for sampling or
     * evaluation), by parameter name; fetches them first.
     *
     * @throws IllegalArgumentException if the target lacks a parameter or has it in another shape
     */
    public void copyEmaInto(Module target) {
        copyEmaInto(target, new ArrayList<>(states.keySet()));
    }

    /**
     * Copies the EMA weights of {@code of}, some of this step's parameters, into {@code target} by name (for a run that
     * trains more than the model it exports, as distillation's alignment layers); fetches them first.
     *
     * @throws IllegalArgumentException if one of {@code of} is not trained by this step, or the target lacks it or has it
     *                                  in another shape
     */
    public void copyEmaInto(Module target, List<Parameter> of) {
        fetch();
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Parameter p : target.parameters()) {
            byName.put(p.name(), p);
        }
        for (Parameter q : of) {
            State s = states.get(q);
            if (s == null) {
                throw new IllegalArgumentException("EMA copy: parameter '" + q.name() + "' is not one this step trains");
            }
            Parameter p = byName.get(s.parameter().name());
            if (p == null) {
                throw new IllegalArgumentException("EMA copy: the target model has no parameter '" + s.parameter().name() + "'");
            }
            p.load(Tensor.of(s.ema(), s.parameter().shape()));
        }
    }

    @Override
    public void close() {
        if (executable != null) {
            executable.close();
        }
    }
}
