package dev.prism.backend;


import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * An ordered list of kernel launches over buffers allocated up front, with the role of each buffer
 * that crosses the host boundary.
 *
 * <ul>
 *   <li>constants: weights and tables, read by the plan and never changed by the host between
 *       executions; a device backend transfers them once.</li>
 *   <li>inputs: changed by the host before each execution (per-step scalars, noise); transferred
 *       every execution.</li>
 *   <li>state: read and written by the plan across executions (a sampler's image, optimizer moments):
 *       its host value goes to the device on the first execution only, and from then on the device
 *       copy is the one that counts (fetch it to read it).</li>
 *   <li>outputs: read by the host after each execution; transferred back every execution.</li>
 *   <li>fetchable: read by the host only when it asks ({@link Executable#fetch}), for instance the
 *       image at the end of a sampling run; a device backend copies them back on request only.</li>
 * </ul>
 * Every other buffer is an activation or scratch buffer that may stay on the device between
 * launches and between executions.
 */
public final class Plan {
    private final String name;
    private final List<Launch> launches;
    private final Set<float[]> constants;
    private final Set<float[]> inputs;
    private final Set<float[]> state;
    private final Set<float[]> outputs;
    private final Set<float[]> fetchable;

    private Plan(Builder b) {
        this.name = b.name;
        this.launches = List.copyOf(b.launches);
        this.constants = Collections.unmodifiableSet(b.constants);
        this.inputs = Collections.unmodifiableSet(b.inputs);
        this.state = Collections.unmodifiableSet(b.state);
        this.outputs = Collections.unmodifiableSet(b.outputs);
        this.fetchable = Collections.unmodifiableSet(b.fetchable);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    public List<Launch> launches() {
        return launches;
    }

    /** Identity set of the constant buffers. */
    public Set<float[]> constants() {
        return constants;
    }

    /** Identity set of the per-execution input buffers. */
    public Set<float[]> inputs() {
        return inputs;
    }

    /** Identity set of the buffers the plan carries from one execution to the next. */
    public Set<float[]> state() {
        return state;
    }

    /** Identity set of the buffers read back after each execution. */
    public Set<float[]> outputs() {
        return outputs;
    }

    /** Identity set of the buffers the host reads only on request. */
    public Set<float[]> fetchable() {
        return fetchable;
    }

    /** Floating-point operations of one execution, summed over the launches. */
    public long flops() {
        return launches.stream().mapToLong(Launch::flops).sum();
    }

    /** Minimum bytes moved by one execution, summed over the launches. */
    public long bytes() {
        return launches.stream().mapToLong(Launch::bytes).sum();
    }

    public static final class Builder {
        private final String name;
        private final List<Launch> launches = new ArrayList<>();
        private final Set<float[]> constants = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<float[]> inputs = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<float[]> state = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<float[]> outputs = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Set<float[]> fetchable = Collections.newSetFromMap(new IdentityHashMap<>());

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        public Builder add(Launch launch) {
            launches.add(Objects.requireNonNull(launch, "launch"));
            return this;
        }

        public Builder addAll(List<Launch> list) {
            list.forEach(this::add);
            return this;
        }

        public Builder constants(float[]... buffers) {
            return role(constants, "constant", buffers);
        }

        public Builder inputs(float[]... buffers) {
            return role(inputs, "input", buffers);
        }

        /** Buffers the plan reads and writes across executions; their host value goes down once. */
        public Builder state(float[]... buffers) {
            return role(state, "state", buffers);
        }

        public Builder outputs(float[]... buffers) {
            for (float[] b : buffers) {
                outputs.add(Objects.requireNonNull(b, "output buffer"));
            }
            return this;
        }

        /** Buffers the host reads only when it calls {@link Executable#fetch}. */
        public Builder fetchable(float[]... buffers) {
            for (float[] b : buffers) {
                fetchable.add(Objects.requireNonNull(b, "fetchable buffer"));
            }
            return this;
        }

        private Builder role(Set<float[]> set, String role, float[]... buffers) {
            for (float[] b : buffers) {
                Objects.requireNonNull(b, role + " buffer");
                String other = set != constants && constants.contains(b) ? "constant"
                        : set != inputs && inputs.contains(b) ? "input"
                        : set != state && state.contains(b) ? "state" : null;
                if (other != null) {
                    throw new IllegalArgumentException("plan '" + name + "': a buffer of length " + b.length
                            + " is declared both " + role + " and " + other);
                }
                set.add(b);
            }
            return this;
        }

        public Plan build() {
            if (launches.isEmpty()) {
                throw new IllegalArgumentException("plan '" + name + "': expected at least one launch, found none");
            }
            return new Plan(this);
        }
    }
}
