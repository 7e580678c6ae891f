package dev.prism.bench;

import dev.prism.backend.Backend;
import dev.prism.backend.ExecutionStats;
import dev.prism.backend.Executable;
import dev.prism.backend.Launch;
import dev.prism.backend.Plan;
import dev.prism.kernels.catalog.Catalog;
import dev.prism.kernels.catalog.KernelCase;
import dev.prism.kernels.catalog.Size;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backend whose profiler costs time (TornadoVM's): the timed executions run without it, and the device time
 * comes from profiled executions after them.
 */
class BenchRunnerProfileTest {
    /** Profiled executions sleep 20 ms (the profiler's cost) and report 3 ms of kernels; the others 1 ms and nothing. */
    private static final class ProfiledBackend implements Backend {
        final List<Boolean> profiled = new ArrayList<>();

        @Override
        public String id() {
            return "fake";
        }

        @Override
        public String description() {
            return "a backend with a costly profiler";
        }

        @Override
        public void run(Launch launch) {
            launch.loops().run();
        }

        @Override
        public Executable compile(Plan plan) {
            return new Executable() {
                private boolean on = true;
                private boolean lastOn;

                @Override
                public Plan plan() {
                    return plan;
                }

                @Override
                public void execute() {
                    lastOn = on;
                    profiled.add(on);
                    sleep(on ? 20 : 1);
                    if (profiled.size() == 1) {
                        on = false;
                    }
                }

                @Override
                public Optional<ExecutionStats> lastStats() {
                    return lastOn ? Optional.of(new ExecutionStats(3_000_000, 0, 0, 0, 20_000_000)) : Optional.empty();
                }

                @Override
                public void profile(boolean enable) {
                    on = enable;
                }
            };
        }

        @Override
        public void close() {
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void timedRunsAreNotProfiledAndTheDeviceTimeComesFromProfiledRunsAfterThem() {
        KernelCase silu = Catalog.select(Size.SMALL, List.of("activation.silu")).getFirst();
        ProfiledBackend backend = new ProfiledBackend();
        BenchRunner runner = new BenchRunner(2, 0, 7, 5, () -> -1, 0, 0);
        BenchRunner.Result r = runner.run(silu, backend, 1);
        assertEquals(7, r.runs());
        assertTrue(r.medianMillis() < 15, "the timed runs paid for the profiler: median " + r.medianMillis() + " ms");
        assertEquals(3.0, r.kernelMillis(), 1e-9);
        // first execution profiled, warm-up and timed runs not, then the profiled ones
        List<Boolean> p = backend.profiled;
        assertEquals(1 + 2 + 7 + BenchRunner.PROFILED_RUNS, p.size(), p.toString());
        assertTrue(p.getFirst());
        assertTrue(p.subList(1, 10).stream().noneMatch(b -> b), p.toString());
        assertTrue(p.subList(10, p.size()).stream().allMatch(b -> b), p.toString());
    }
}
