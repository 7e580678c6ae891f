package dev.prism.backend.tornado;

import dev.prism.backend.CompileTimeoutException;
import dev.prism.backend.DeviceException;
import dev.prism.backend.DeviceInfo;
import dev.prism.backend.Executable;
import dev.prism.backend.KernelScan;
import dev.prism.backend.ExecutionStats;
import dev.prism.backend.ParallelBounds;
import dev.prism.backend.Plan;
import dev.prism.backend.TornadoSettings;
import dev.prism.backend.Launch;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.TornadoProfilerResult;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.WorkerGrid3D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.enums.ProfilerMode;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plan as one TornadoVM TaskGraph on one device.
 *
 * <p>Transfers: the plan's constants {@code FIRST_EXECUTION} (weights and tables go to the device once),
 * its inputs {@code EVERY_EXECUTION} (per-step scalars and noise), its outputs back {@code EVERY_EXECUTION};
 * integer geometry arrays are constants too. Activations and scratch buffers go down once with the
 * constants (TornadoVM allocates only what a transfer names) and then stay on the device between tasks
 * and between executions; they never come back. Before building, the
 * plan is checked: a buffer some launch reads before any launch writes it must be declared constant or
 * input, because on a device it would otherwise hold garbage.
 */
final class TornadoExecutable implements Executable {
    private static final AtomicInteger GRAPHS = new AtomicInteger();
    /**
     * {@code -Dprism.tornado.kernelScan=false} hands kernels to TornadoVM without {@link KernelScan}: only
     * for testing what TornadoVM itself does with them (the compile time limit is tested this way).
     */
    private static final boolean SCAN = !"false".equals(System.getProperty("prism.tornado.kernelScan"));
    /**
     * Set when a compilation timed out: TornadoVM's compiler thread cannot be stopped and its sketch cache
     * is shared by the process (the recursion deadlock holds its lock), so no later plan could compile.
     */
    private static volatile String stuckSince;

    private final TornadoVmBackend backend;
    private final Plan plan;
    private final TornadoVmBackend.Located device;
    private final List<String> taskKernels = new ArrayList<>();
    /** The work-group each kernel of the plan runs with, where one was set: {@code conv2d.forward 8x1}. */
    private final Set<String> groups = new LinkedHashSet<>();
    private final TornadoExecutionPlan executionPlan;
    private Map<Object, Integer> graphOf;
    private int graphs;
    private ExecutionStats last;
    /** Whether TornadoVM's profiler is on for the next execution; it is on for the first. */
    private boolean profilerOn = true;
    /** Whether a caller asked for every execution to be profiled ({@link #profile}, or {@code -Dprism.tornado.profile}). */
    private boolean profiling = Boolean.getBoolean("prism.tornado.profile");
    private TornadoExecutionResult lastResult;
    private boolean closed;
    /** The kernel TornadoVM is busy with while the plan is built and compiled, for the timeout message. */
    private volatile String compiling;
    /** What TornadoVM is doing with it, for the timeout message. */
    private volatile String stage = "building its task graph (TornadoVM's sketch of the kernel)";

    TornadoExecutable(TornadoVmBackend backend, Plan plan) {
        this.backend = backend;
        this.plan = plan;
        this.device = backend.deviceFor(plan.name());
        String stuck = stuckSince;
        if (stuck != null) {
            throw new DeviceException(kernels(plan), deviceName(), DeviceException.Phase.COMPILE,
                    "TornadoVM's compiler has been stuck in this process since " + stuck + "; start a new process", null);
        }
        Set<Object> geometry = checkFirstUse(plan);
        if (SCAN) {
            Set<String> scanned = new LinkedHashSet<>();
            for (Launch l : plan.launches()) {
                if (scanned.add(l.kernel())) {
                    KernelScan.check("'" + l.kernel() + "'", l.method(), deviceName());
                }
            }
        }
        Set<Object> once = Collections.newSetFromMap(new IdentityHashMap<>());
        once.addAll(plan.constants());
        // State goes down once like the weights; afterwards the device copy is the one that counts.
        once.addAll(plan.state());
        once.addAll(geometry);
        once.addAll(owned(plan));
        // Activations and scratch: TornadoVM wants every task argument named in a transfer. Going down
        // once, on the first execution, they are allocated and then stay on the device; a kernel that
        // accumulates into its output would otherwise have it copied in every time.
        once.addAll(deviceResident(plan, new ArrayList<>(once)));

        long compileStart = System.nanoTime();
        Built built = withinLimit(() -> {
            Built b = build(once);
            if (!backend.settings().allowBailout()) {
                // Compile every kernel now, under the time limit, so that a compile failure is told apart
                // from a transfer or launch failure. With bailouts allowed TornadoVM compiles on the first
                // execution instead, where it can fall back to sequential Java.
                compiling = taskKernels.stream().distinct().count() == 1 ? named(plan.launches().getFirst()) : "one of " + kernels();
                stage = "compiling it for the device";
                try {
                    return new Built(b.plan().withPreCompilation(), b.owner(), b.graphs());
                } catch (RuntimeException | Error e) {
                    throw translate(e, Stage.JIT);
                }
            }
            return b;
        });
        this.executionPlan = built.plan();
        this.graphOf = built.owner();
        this.graphs = built.graphs();
        if (Boolean.getBoolean("prism.tornado.profile")) {
            System.err.println("prism: plan '" + plan.name() + "' (" + plan.launches().size() + " launches, " + graphs + " task graph"
                    + (graphs == 1 ? "" : "s") + ") built and compiled in " + (System.nanoTime() - compileStart) / 1_000_000 + " ms; work-groups: "
                    + (groups.isEmpty() ? "none (TornadoVM's scheduler)" : String.join(", ", groups)));
        }
    }

    /** What building a plan gives: the execution plan, each buffer's graph, the number of graphs. */
    private record Built(TornadoExecutionPlan plan, Map<Object, Integer> owner, int graphs) {
    }

    /** Where a TornadoVM call failed: building the task graphs, JIT-compiling, executing, fetching. */
    private enum Stage { BUILD, JIT, EXECUTE, FETCH }

    /** Builds the task graphs (TornadoVM sketches each kernel here) and the execution plan. */
    private Built build(Set<Object> once) {
        List<List<Launch>> chunks = partition(plan.launches());
        String base = "p" + GRAPHS.incrementAndGet() + "_" + plan.name().replaceAll("[^A-Za-z0-9_]", "_");
        String[] names = new String[chunks.size()];
        for (int c = 0; c < names.length; c++) {
            names[c] = chunks.size() == 1 ? base : base + "_g" + c;
        }
        // Each buffer belongs to the first graph that uses it, which transfers it by its role. TornadoVM
        // hands device buffers from one graph to the next only (consumeFromDevice syncs from the graph
        // executed just before), so a buffer a later graph needs is persisted by every graph in between
        // and consumed by the next one, used there or not. Fetchable buffers ride to the last graph.
        Map<Object, Integer> owner = new IdentityHashMap<>();
        Map<Object, Integer> lastUse = new IdentityHashMap<>();
        List<Object> order = new ArrayList<>();
        for (int c = 0; c < chunks.size(); c++) {
            for (Launch l : chunks.get(c)) {
                for (Object a : l.args()) {
                    if (a instanceof float[] || a instanceof int[]) {
                        if (owner.putIfAbsent(a, c) == null) {
                            order.add(a);
                        }
                        lastUse.put(a, c);
                    }
                }
            }
        }
        int lastGraph = chunks.size() - 1;
        boolean chained = chunks.size() > 1;
        for (float[] f : plan.fetchable()) {
            if (lastUse.containsKey(f)) {
                lastUse.put(f, lastGraph);
            }
        }
        if (chained) {
            // Copied back from a graph that consumed it, an output came back as zeros (an encoder's mean
            // read again by the decoder): in a chain, outputs ride to the last graph and come back from
            // there on request after every execution, as fetched buffers do.
            for (float[] f : plan.outputs()) {
                if (lastUse.containsKey(f)) {
                    lastUse.put(f, lastGraph);
                }
            }
        }
        GridScheduler grids = new GridScheduler();
        boolean cpuGroups = backend.settings().cpuWorkGroup() > 0 && device.info().type().toUpperCase(Locale.ROOT).contains("CPU")
                && device.info().driver().toUpperCase(Locale.ROOT).contains("OPENCL");
        boolean variants = backend.settings().deviceKernels().appliesTo(device.info().type());
        boolean anyGrid = false;
        List<ImmutableTaskGraph> snapshots = new ArrayList<>();
        try {
            int task = 0;
            for (int c = 0; c < chunks.size(); c++) {
                TaskGraph graph = new TaskGraph(names[c]);
                List<Object> carried = new ArrayList<>();
                List<Object> firstExec = new ArrayList<>();
                List<Object> everyExec = new ArrayList<>();
                List<Object> out = new ArrayList<>();
                List<Object> keep = new ArrayList<>();
                for (Object o : order) {
                    int own = owner.get(o);
                    int last = lastUse.get(o);
                    if (own > c || last < c) {
                        continue;
                    }
                    if (own < c) {
                        carried.add(o);
                    } else if (plan.inputs().contains(o)) {
                        everyExec.add(o);
                    } else if (once.contains(o) || plan.outputs().contains(o) || plan.fetchable().contains(o)) {
                        firstExec.add(o);
                    }
                    if (plan.outputs().contains(o) && last == c && !chained) {
                        out.add(o);
                    } else if (last > c || plan.fetchable().contains(o) || plan.outputs().contains(o)) {
                        // A later graph reads it, or the host may fetch it: keep it on the device (UNDER_DEMAND).
                        keep.add(o);
                    }
                }
                if (!carried.isEmpty()) {
                    graph.consumeFromDevice(names[c - 1], carried.toArray());
                }
                if (!firstExec.isEmpty()) {
                    graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, firstExec.toArray());
                }
                if (!everyExec.isEmpty()) {
                    graph.transferToDevice(DataTransferMode.EVERY_EXECUTION, everyExec.toArray());
                }
                for (Launch l : chunks.get(c)) {
                    String id = "t" + task++;
                    taskKernels.add(l.kernel());
                    compiling = named(l);
                    int[] local = backend.settings().workGroups().get(l.kernel());
                    // A kernel with its own work-group setting runs its plain loops with it.
                    Optional<DeviceKernels.Variant> variant = local == null && variants ? DeviceKernels.of(l) : Optional.empty();
                    if (variant.isPresent()) {
                        DeviceKernels.Variant v = variant.get();
                        Object[] args = new Object[v.args().length + 1];
                        args[0] = new KernelContext();
                        System.arraycopy(v.args(), 0, args, 1, v.args().length);
                        Tasks.add(graph, id, v.name(), v.method(), args);
                        grids.addWorkerGrid(names[c] + "." + id, v.grid());
                        groups.add(v.describe());
                        anyGrid = true;
                        continue;
                    }
                    Tasks.add(graph, id, l);
                    if (local == null && cpuGroups && ParallelBounds.of(l.method()).gridProblem().isEmpty()) {
                        local = cpuLocal(l.grid(), Math.min(backend.settings().cpuWorkGroup(), deviceGroupLimit()));
                    }
                    if (local != null) {
                        grids.addWorkerGrid(names[c] + "." + id, workerGrid(l, local, device));
                        groups.add(l.kernel() + " " + java.util.Arrays.stream(local).mapToObj(Integer::toString)
                                .collect(java.util.stream.Collectors.joining("x")));
                        anyGrid = true;
                    }
                }
                if (!out.isEmpty()) {
                    graph.transferToHost(DataTransferMode.EVERY_EXECUTION, out.toArray());
                }
                if (!keep.isEmpty()) {
                    graph.persistOnDevice(keep.toArray());
                }
                snapshots.add(graph.snapshot());
            }
            TornadoExecutionPlan p = new TornadoExecutionPlan(snapshots.toArray(ImmutableTaskGraph[]::new))
                    .withDevice(device.handle())
                    .withProfiler(ProfilerMode.SILENT);
            if (backend.settings().memoryLimitMb() > 0) {
                p.withMemoryLimit(backend.settings().memoryLimitMb() + "MB");
            }
            TornadoExecutionPlan ready = anyGrid ? p.withGridScheduler(grids) : p;
            return new Built(ready, owner, snapshots.size());
        } catch (RuntimeException | Error e) {
            throw translate(e, Stage.BUILD);
        }
    }

    /**
     * TornadoVM holds at most 1024 nodes in one task graph; this estimate keeps each graph well under it.
     * {@code -Dprism.tornado.nodeBudget} lowers it, to test chains of graphs on small plans.
     */
    static final int NODE_BUDGET = Integer.getInteger("prism.tornado.nodeBudget", 700);

    /**
     * Splits the launches into consecutive runs whose TornadoVM graph stays under {@link #NODE_BUDGET}:
     * about three nodes per distinct buffer (the object, its allocation or copy, its release), one per task
     * plus one per array it writes (TornadoVM's graph builder adds a dependent-read node for every written
     * argument of every task), and one per scalar constant.
     */
    static List<List<Launch>> partition(List<Launch> launches) {
        List<List<Launch>> out = new ArrayList<>();
        List<Launch> current = new ArrayList<>();
        Set<Object> objects = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Object> scalars = new java.util.HashSet<>();
        int taskNodes = 0;
        for (Launch l : launches) {
            int newObjects = 0;
            int newScalars = 0;
            for (Object a : l.args()) {
                if (a instanceof float[] || a instanceof int[]) {
                    newObjects += objects.contains(a) ? 0 : 1;
                } else if (!scalars.contains(a)) {
                    newScalars++;
                }
            }
            int nodes = 1 + l.writes().length;
            int estimate = 3 * (objects.size() + newObjects) + taskNodes + nodes + scalars.size() + newScalars;
            if (!current.isEmpty() && estimate > NODE_BUDGET) {
                out.add(current);
                current = new ArrayList<>();
                objects.clear();
                scalars.clear();
                taskNodes = 0;
            }
            current.add(l);
            taskNodes += nodes;
            for (Object a : l.args()) {
                if (a instanceof float[] || a instanceof int[]) {
                    objects.add(a);
                } else {
                    scalars.add(a);
                }
            }
        }
        out.add(current);
        return out;
    }

    /** The distinct array arguments of the launches, in order of first use. */
    private static List<Object> objectsOf(List<Launch> launches) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Object> out = new ArrayList<>();
        for (Launch l : launches) {
            for (Object a : l.args()) {
                if ((a instanceof float[] || a instanceof int[]) && seen.add(a)) {
                    out.add(a);
                }
            }
        }
        return out;
    }

    @Override
    public Plan plan() {
        return plan;
    }

    @Override
    public void execute() {
        if (closed) {
            throw new IllegalStateException("plan '" + plan.name() + "' was closed");
        }
        boolean profiled = profilerOn;
        long t0 = System.nanoTime();
        long kernel = 0, compile = 0, in = 0, outBytes = 0;
        StringBuilder log = new StringBuilder();
        try {
            if (graphs == 1) {
                lastResult = executionPlan.execute();
            } else {
                // One graph after the other: TornadoVM hands persisted buffers on only to the graph that
                // runs next, and only when each is run through withGraph.
                for (int g = 0; g < graphs; g++) {
                    lastResult = executionPlan.withGraph(g).execute();
                    if (!profiled) {
                        continue;
                    }
                    TornadoProfilerResult p = lastResult.getProfilerResult();
                    kernel += p.getDeviceKernelTime();
                    compile += p.getCompileTime();
                    in += p.getTotalBytesCopyIn();
                    outBytes += p.getTotalBytesCopyOut();
                    log.append(p.getProfileLog());
                }
                if (!plan.outputs().isEmpty()) {
                    lastResult.transferToHost(plan.outputs().toArray());
                    for (float[] o : plan.outputs()) {
                        outBytes += 4L * o.length;
                    }
                }
            }
        } catch (RuntimeException | Error e) {
            throw translate(e, Stage.EXECUTE);
        }
        long wall = System.nanoTime() - t0;
        if (!profiled) {
            last = null;
            return;
        }
        if (graphs == 1) {
            TornadoProfilerResult p = lastResult.getProfilerResult();
            kernel = p.getDeviceKernelTime();
            compile = p.getCompileTime();
            in = p.getTotalBytesCopyIn();
            outBytes = p.getTotalBytesCopyOut();
            log.append(p.getProfileLog());
        }
        last = new ExecutionStats(kernel, compile, in, outBytes, wall);
        if (Boolean.getBoolean("prism.tornado.profile")) {
            System.err.println("prism: plan '" + plan.name() + "' (" + graphs + " task graph" + (graphs == 1 ? "" : "s") + ") " + last
                    + "\n" + log);
        }
        if (last.kernelNanos() == 0) {
            // TornadoVM recovered from a compile failure by running the Java code: no kernel ran on the device.
            String what = "TornadoVM ran plan '" + plan.name() + "' as sequential Java on the host, not on the device (a bailout)";
            if (!backend.settings().allowBailout()) {
                throw new DeviceException(kernels(), deviceName(), DeviceException.Phase.COMPILE, what
                        + "; its results are correct but no device ran them. Run with -Dtornado.debug=true to see why,"
                        + " or accept it with " + TornadoSettings.ALLOW_BAILOUT + ".", null);
            }
            backend.warnBailoutOnce("kernel " + kernels() + " on " + deviceName() + ": " + what
                    + "; timings of this run measure the JVM, not the device.");
        }
        if (!profiling) {
            // The first execution showed whether TornadoVM ran the kernels on the device; the profiler's own
            // cost (events and timers per task) is not paid again unless asked for.
            profile(false);
        }
    }

    @Override
    public void profile(boolean on) {
        profiling = on;
        if (on != profilerOn) {
            if (on) {
                executionPlan.withProfiler(ProfilerMode.SILENT);
            } else {
                executionPlan.withoutProfiler();
            }
            profilerOn = on;
        }
    }

    @Override
    public void fetch(float[]... buffers) {
        Executable.super.fetch(buffers);
        if (lastResult == null) {
            throw new IllegalStateException("plan '" + plan.name() + "': fetch before any execution");
        }
        List<Object> onRequest = new ArrayList<>();
        for (float[] b : buffers) {
            if (!plan.outputs().contains(b)) {
                onRequest.add(b);
            }
        }
        if (!onRequest.isEmpty()) {
            try {
                lastResult.transferToHost(onRequest.toArray());
            } catch (RuntimeException | Error e) {
                throw translate(e, Stage.FETCH);
            }
        }
    }

    @Override
    public Optional<ExecutionStats> lastStats() {
        return Optional.ofNullable(last);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            try {
                executionPlan.close();
            } catch (Exception e) {
                // Freeing device memory at close cannot be recovered from; the plan is unusable either way.
            }
        }
    }

    private String kernels() {
        return kernels(plan);
    }

    /** The arrays of the plan that are neither constants, inputs nor outputs: they live on the device only. */
    private static List<Object> deviceResident(Plan plan, List<Object> once) {
        Set<Object> known = Collections.newSetFromMap(new IdentityHashMap<>());
        known.addAll(once);
        known.addAll(plan.inputs());
        known.addAll(plan.outputs());
        List<Object> out = new ArrayList<>();
        for (Launch l : plan.launches()) {
            for (Object a : l.args()) {
                if (a instanceof float[] && known.add(a)) {
                    out.add(a);
                }
            }
        }
        return out;
    }

    /** The arrays launch factories made and declared as read-only: constants of the plan. */
    private static Set<Object> owned(Plan plan) {
        Set<Object> out = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Launch l : plan.launches()) {
            out.addAll(List.of((Object[]) l.owned()));
        }
        return out;
    }

    /**
     * The worker grid of a launch with a configured local work-group size: TornadoVM's first dimension
     * is the kernel's outermost parallel loop. The size is checked here, because TornadoVM adjusts a
     * work-group the device cannot run without saying so: it must have one value per parallel loop,
     * divide the grid (OpenCL 1.2 has no partial work-groups), and fit the device's limits.
     */
    private static WorkerGrid workerGrid(Launch l, int[] local, TornadoVmBackend.Located device) {
        int[] g = l.grid();
        String setting = "prism.tornado.workgroup." + l.kernel();
        java.util.Optional<String> problem = ParallelBounds.of(l.method()).gridProblem();
        if (problem.isPresent()) {
            throw new IllegalArgumentException(setting + "=" + join(local) + ": TornadoVM cannot run " + l.kernel() + " ("
                    + l.method().getDeclaringClass().getSimpleName() + "." + l.method().getName() + ") with a work-group: "
                    + problem.get() + ". Remove the setting; this kernel runs with TornadoVM's own scheduling only");
        }
        if (local.length != g.length) {
            throw new IllegalArgumentException(setting + " has " + local.length + " value(s), but "
                    + l.kernel() + " has " + g.length + " parallel dimension(s) (grid " + java.util.Arrays.toString(g) + ")");
        }
        long[] maxItems = device.handle().getPhysicalDevice().getDeviceMaxWorkItemSizes();
        long[] maxGroup = device.handle().getPhysicalDevice().getDeviceMaxWorkGroupSize();
        long total = 1;
        for (int d = 0; d < g.length; d++) {
            total *= local[d];
            if (g[d] % local[d] != 0) {
                throw new IllegalArgumentException(setting + "=" + join(local) + ": " + local[d] + " does not divide the grid's dimension "
                        + d + " (grid " + java.util.Arrays.toString(g) + " at these sizes); choose divisors of it");
            }
            if (maxItems != null && d < maxItems.length && local[d] > maxItems[d]) {
                throw new IllegalArgumentException(setting + "=" + join(local) + ": dimension " + d + " exceeds the device's limit of "
                        + maxItems[d] + " work-items (" + device.info().name() + ")");
            }
        }
        if (maxGroup != null && maxGroup.length > 0 && total > maxGroup[0]) {
            throw new IllegalArgumentException(setting + "=" + join(local) + ": " + total + " work-items per group exceed the device's limit of "
                    + maxGroup[0] + " (" + device.info().name() + ")");
        }
        WorkerGrid w = switch (g.length) {
            case 1 -> new WorkerGrid1D(g[0]);
            case 2 -> new WorkerGrid2D(g[0], g[1]);
            default -> new WorkerGrid3D(g[0], g[1], g[2]);
        };
        w.setLocalWork(local[0], local.length > 1 ? local[1] : 1, local.length > 2 ? local[2] : 1);
        return w;
    }

    /** The most work-items the device runs in one group along the first dimension (either limit), or no limit when it does not say. */
    private int deviceGroupLimit() {
        long limit = Integer.MAX_VALUE;
        long[] maxItems = device.handle().getPhysicalDevice().getDeviceMaxWorkItemSizes();
        long[] maxGroup = device.handle().getPhysicalDevice().getDeviceMaxWorkGroupSize();
        if (maxItems != null && maxItems.length > 0 && maxItems[0] > 0) {
            limit = Math.min(limit, maxItems[0]);
        }
        if (maxGroup != null && maxGroup.length > 0 && maxGroup[0] > 0) {
            limit = Math.min(limit, maxGroup[0]);
        }
        return (int) limit;
    }

    /**
     * The work-group of {@link TornadoSettings#cpuWorkGroup()} (capped at the device's limit): along the first dimension the largest divisor
     * of its count up to {@code max} (OpenCL 1.2 has no partial groups), 1 along the others.
     */
    static int[] cpuLocal(int[] grid, int max) {
        int[] local = new int[grid.length];
        java.util.Arrays.fill(local, 1);
        for (int d = max; d >= 1; d--) {
            if (grid[0] % d == 0) {
                local[0] = d;
                break;
            }
        }
        return local;
    }

    private static String join(int[] v) {
        return java.util.Arrays.stream(v).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(","));
    }

    /**
     * Checks that no launch reads an undeclared buffer before a launch writes it, and returns the
     * integer-array arguments (kernel geometry), which go to the device once.
     */
    static Set<Object> checkFirstUse(Plan plan) {
        Set<Object> defined = Collections.newSetFromMap(new IdentityHashMap<>());
        defined.addAll(plan.constants());
        defined.addAll(plan.inputs());
        defined.addAll(plan.state());
        defined.addAll(owned(plan));
        Set<Object> geometry = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Launch l : plan.launches()) {
            Object[] args = l.args();
            Set<Integer> writes = new java.util.HashSet<>();
            for (int w : l.writes()) {
                writes.add(w);
            }
            for (int i = 0; i < args.length; i++) {
                if (args[i] instanceof float[] f && !writes.contains(i) && !defined.contains(f)) {
                    throw new IllegalArgumentException("plan '" + plan.name() + "': launch " + l.kernel() + " reads argument " + i
                            + " (float[" + f.length + "]) before any launch writes it; declare it with constants(...), inputs(...) or state(...)");
                }
                if (args[i] instanceof int[] g) {
                    geometry.add(g);
                }
            }
            for (int w : l.writes()) {
                defined.add(args[w]);
            }
        }
        return geometry;
    }

    /**
     * Runs the building and compiling of the plan on a thread of its own and waits at most
     * {@code prism.tornado.compileTimeoutSeconds}. TornadoVM's compiler cannot be interrupted: on a
     * timeout its thread (a daemon, so the process can still end) is left behind and no later plan is
     * compiled in this process.
     */
    private Built withinLimit(java.util.concurrent.Callable<Built> work) {
        long limit = backend.settings().compileTimeoutSeconds();
        java.util.concurrent.FutureTask<Built> task = new java.util.concurrent.FutureTask<>(work);
        Thread.ofPlatform().daemon().name("prism-tornado-compile-" + plan.name()).start(task);
        try {
            return task.get(limit, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            String kernel = compiling != null ? compiling : kernels();
            stuckSince = "kernel " + kernel + " of plan '" + plan.name() + "' did not compile within " + limit + " s";
            throw new CompileTimeoutException(kernel, deviceName(), limit, stage);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException(kernels(), deviceName(), DeviceException.Phase.COMPILE, "interrupted while TornadoVM compiled", e);
        }
    }

    private String deviceName() {
        DeviceInfo d = device.info();
        return d.id() + " (" + d.name() + ")";
    }

    /** {@code 'family.method' (Class.method)}. */
    private static String named(Launch l) {
        return "'" + l.kernel() + "' (" + l.method().getDeclaringClass().getSimpleName() + "." + l.method().getName() + ")";
    }

    private static String kernels(Plan plan) {
        LinkedHashSet<String> k = new LinkedHashSet<>();
        for (Launch l : plan.launches()) {
            k.add("'" + l.kernel() + "'");
        }
        return String.join(", ", k);
    }

    /**
     * A TornadoVM failure as a {@link DeviceException} naming the kernel, the device and the phase.
     * {@link TornadoSettings#allowBailout()} is suggested only for a failure TornadoVM treats as a bailout, that is one
     * it would have answered by running the Java code: an exception (not an error) while compiling a kernel
     * for the device. A kernel TornadoVM refuses while building its sketch fails with or without the flag.
     */
    private RuntimeException translate(Throwable e, Stage stage) {
        if (e instanceof IllegalArgumentException bad) {
            // A setting or plan that is wrong on its face: already says what to change.
            return bad;
        }
        if (e instanceof DeviceException done) {
            return done;
        }
        DeviceInfo d = device.info();
        String msg = firstLine(clean(String.valueOf(e.getMessage()))).strip().replaceAll("[ .]+$", "");
        String type = e.getClass().getSimpleName();
        String upper = String.valueOf(e.getMessage()).toUpperCase(Locale.ROOT);
        if (upper.contains("CL_OUT_OF_RESOURCES") || upper.contains("CL_INVALID_WORK_GROUP_SIZE")
                || upper.contains("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES")) {
            List<String> configured = new ArrayList<>();
            for (Launch l : plan.launches()) {
                int[] local = backend.settings().workGroups().get(l.kernel());
                if (local != null) {
                    configured.add("prism.tornado.workgroup." + l.kernel() + "=" + join(local) + " on grid " + java.util.Arrays.toString(l.grid()));
                }
            }
            String which = configured.isEmpty() ? "TornadoVM's default work-group" : String.join("; ", new LinkedHashSet<>(configured));
            String kernel = configured.isEmpty() ? culprit() : kernels();
            return new DeviceException(kernel, deviceName(), DeviceException.Phase.LAUNCH, "the device ran out of resources for "
                    + which + " (" + msg + "); set a smaller prism.tornado.workgroup.<kernel> in tornado.properties", e);
        }
        if (type.contains("OutOfMemory") || type.contains("MemoryException")) {
            long limit = backend.settings().memoryLimitMb();
            return new DeviceException(kernels(), deviceName(), DeviceException.Phase.TRANSFER, "out of device memory (" + msg
                    + "); the buffers of plan '" + plan.name() + "' need " + mib(bufferBytes()) + " MiB and the device has "
                    + mib(d.globalMemory()) + " MiB" + (limit > 0 ? ", prism.tornado.memoryLimitMb allows " + limit + " MB" : "")
                    + "; reduce the batch or the image size" + (limit > 0 ? ", raise the limit" : "") + ", or choose another device", e);
        }
        String cause = type + ": " + msg;
        return switch (stage) {
            case BUILD -> new DeviceException(compiling != null ? compiling : kernels(), deviceName(), DeviceException.Phase.COMPILE,
                    "TornadoVM could not build the kernel's task (its sketch): " + cause
                            + (type.contains("TornadoInliningException") ? ". Run the JVM with -Djdk.graal.MaximumInliningSize=1000"
                            + " (as ./prism does; TornadoVM refuses helpers of more than twice that many nodes)" : "")
                            + ". TornadoVM has no sequential fallback at this point, so " + TornadoSettings.ALLOW_BAILOUT + " would not help", e);
            case JIT -> new DeviceException(culprit(), deviceName(), DeviceException.Phase.COMPILE, "TornadoVM could not compile it: "
                    + cause + (wouldBailOut(e) ? ". TornadoVM counts this as a bailout: with " + TornadoSettings.ALLOW_BAILOUT + " it runs the kernel"
                    + " as sequential Java on the host instead (and Prism warns that no device ran it)" : ""), e);
            case FETCH -> new DeviceException(kernels(), deviceName(), DeviceException.Phase.TRANSFER,
                    "copying buffers of plan '" + plan.name() + "' back to the host failed: " + cause, e);
            case EXECUTE -> executeFailure(e, cause);
        };
    }

    /** A failure of an execution, whose compilation (unless bailouts are allowed) has already succeeded. */
    private DeviceException executeFailure(Throwable e, String cause) {
        boolean compiledNow = backend.settings().allowBailout() && lastResult == null && frames(e, "compile", "installcode", "graal");
        if (compiledNow) {
            return new DeviceException(culprit(), deviceName(), DeviceException.Phase.COMPILE, "TornadoVM could not compile it: " + cause, e);
        }
        if (frames(e, "transfer", "copy", "allocate", "ensurepresent", "streamin", "streamout")) {
            return new DeviceException(kernels(), deviceName(), DeviceException.Phase.TRANSFER,
                    "moving buffers of plan '" + plan.name() + "' failed: " + cause, e);
        }
        return new DeviceException(culprit(), deviceName(), DeviceException.Phase.LAUNCH, "running it failed: " + cause, e);
    }

    /** Whether any frame of {@code e} or its causes has a class or method name containing one of {@code words}. */
    private static boolean frames(Throwable e, String... words) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            for (StackTraceElement f : t.getStackTrace()) {
                String where = (f.getClassName() + "." + f.getMethodName()).toLowerCase(Locale.ROOT);
                for (String w : words) {
                    if (where.contains(w)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Whether TornadoVM, with bailouts allowed, would have run the kernel as Java instead of failing: its
     * device drivers turn any exception (not an error) thrown while compiling a task into a bailout.
     */
    private static boolean wouldBailOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getSimpleName().equals("TornadoBailoutRuntimeException")) {
                return true;
            }
        }
        return e instanceof Exception || e instanceof InternalError;
    }

    /** TornadoVM's messages carry terminal colour codes. */
    private static String clean(String s) {
        return s.replaceAll("\u001B\\[[0-9;]*m", "");
    }

    /** Finds the first kernel of the plan that fails on its own, on copies of its arguments. */
    private String culprit() {
        Set<String> tried = new LinkedHashSet<>();
        for (Launch l : plan.launches()) {
            if (!tried.add(l.kernel())) {
                continue;
            }
            Object[] copy = l.args().clone();
            for (int i = 0; i < copy.length; i++) {
                if (copy[i] instanceof float[] f) {
                    copy[i] = f.clone();
                } else if (copy[i] instanceof int[] g) {
                    copy[i] = g.clone();
                }
            }
            try {
                TaskGraph g = new TaskGraph("probe" + GRAPHS.incrementAndGet());
                List<Object> arrays = new ArrayList<>();
                for (Object o : copy) {
                    if (o instanceof float[] || o instanceof int[]) {
                        arrays.add(o);
                    }
                }
                g.transferToDevice(DataTransferMode.EVERY_EXECUTION, arrays.toArray());
                Tasks.add(g, "t0", new Launch(l.kernel(), copy, l.writes(), l.lanes(), () -> { }, (a, b) -> { }, 0, 0));
                try (TornadoExecutionPlan p = new TornadoExecutionPlan(g.snapshot()).withDevice(device.handle())) {
                    p.execute();
                }
            } catch (Throwable t) {
                return named(l);
            }
        }
        return kernels() + " (none fails alone)";
    }

    private long bufferBytes() {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long n = 0;
        for (Launch l : plan.launches()) {
            for (Object a : l.args()) {
                if (a instanceof float[] f && seen.add(f)) {
                    n += 4L * f.length;
                }
            }
        }
        return n;
    }

    private static long mib(long bytes) {
        return bytes < 0 ? -1 : (bytes + (1 << 20) - 1) >> 20;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
