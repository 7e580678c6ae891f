package dev.prism.diffusion;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.ExecutionStats;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.backend.Launch;
import dev.prism.testing.Npz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.util.ArrayList;
import java.util.List;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampling loops on the TornadoVM backend against the JVM reference. Needs a TornadoVM SDK:
 * {@code TORNADOVM_HOME=... ./mvnw -Ptornado verify} (docs/BACKENDS.md, TornadoVM).
 */
@Tag("tornado")
@EnabledIfEnvironmentVariable(named = "TORNADOVM_HOME", matches = ".+",
        disabledReason = "TORNADOVM_HOME is unset: no TornadoVM SDK to run the device tests on")
class SamplingLoopTornadoTest {
    /** The device tests' tolerance: max |device − JVM| <= 1e-5 · max |JVM|. */
    private static final double TOLERANCE = 1e-5;
    private static final JvmBackend SEQ = JvmBackend.sequential();
    private static Backend tornado;

    @BeforeAll
    static void open() {
        tornado = dev.prism.testing.Devices.tornadoOrSkip();
    }

    @AfterAll
    static void close() {
        if (tornado != null) {
            tornado.close();
        }
    }

    private static void assertMatches(String what, float[] jvm, float[] device) {
        assertClose(what, jvm, device, 0, TOLERANCE * maxAbs(jvm));
    }

    @Test
    void seededRunsMatchTheJvmOnTheDevice() {
        ToyDenoiser model = SamplingLoopTest.toy(3, 16, 18);
        for (DiffusionSampler s : List.of(new Ddpm(NoiseSchedule.linear(30), true, Prediction.EPSILON),
                new Ddim(NoiseSchedule.linear(), 10, 1.0), new Ddim(NoiseSchedule.cosine(), 8, 0.0),
                new Ddpm(NoiseSchedule.vp(4), false, Prediction.SAMPLE))) {
            List<float[]> jvmSteps = new ArrayList<>(), deviceSteps = new ArrayList<>();
            float[] jvm, device;
            try (SamplingLoop a = new SamplingLoop(SEQ, model, 2); SamplingLoop b = new SamplingLoop(tornado, model, 2)) {
                jvm = a.sample(s, 2026L, step -> jvmSteps.add(step.image()));
                device = b.sample(s, 2026L, step -> deviceSteps.add(step.image()));
                // A second run on the same compiled plan starts from fresh noise, not from the last image.
                assertMatches(s.describe() + " rerun", jvm, b.sample(s, 2026L, SamplingProgress.NONE));
            }
            assertMatches(s.describe(), jvm, device);
            for (int i = 0; i < jvmSteps.size(); i++) {
                assertMatches(s.describe() + " x at step " + i, jvmSteps.get(i), deviceSteps.get(i));
            }
        }
    }

    @Test
    void aPyTorchTrajectoryIsReproducedOnTheDevice() {
        for (String name : List.of("ddpm_cosine_t50_clip", "ddim_linear_s25_eta1")) {
            Npz r = Npz.resource("samplers/" + name);
            float[] out;
            try (SamplingLoop loop = new SamplingLoop(tornado, SamplingLoopTest.toyOf(r), 2)) {
                out = loop.sample(SamplingLoopTest.samplerOf(name), new RecordedNoise(r.f("x_T"), r.f("z")), SamplingProgress.NONE);
            }
            assertClose(name + " on the device vs PyTorch float64", r.f("final"), out);
        }
    }

    /** Delegates to the TornadoVM backend and keeps each execution's transfer statistics. */
    private static final class Recording implements Backend {
        final List<ExecutionStats> stats = new ArrayList<>();

        @Override
        public String id() {
            return tornado.id();
        }

        @Override
        public String description() {
            return tornado.description();
        }

        @Override
        public void run(Launch launch) {
            tornado.run(launch);
        }

        @Override
        public Executable compile(Plan plan) {
            Executable e = tornado.compile(plan);
            e.profile(true);
            return new Executable() {
                @Override
                public Plan plan() {
                    return plan;
                }

                @Override
                public void execute() {
                    e.execute();
                    stats.add(e.lastStats().orElseThrow());
                }

                @Override
                public void fetch(float[]... buffers) {
                    e.fetch(buffers);
                }

                @Override
                public void close() {
                    e.close();
                }
            };
        }

        @Override
        public void close() {
        }
    }

    @Test
    void perStepTrafficIsTheNoiseTheTimestepsAndTheCoefficients() {
        Recording rec = new Recording();
        ToyDenoiser model = SamplingLoopTest.toy(3, 32, 32);
        int steps = 6;
        try (SamplingLoop loop = new SamplingLoop(rec, model, 2)) {
            Plan p = loop.plan();
            loop.sample(new Ddim(NoiseSchedule.linear(), steps, 1.0), 5L, SamplingProgress.NONE);
            long inputBytes = p.inputs().stream().mapToLong(b -> 4L * b.length).sum();
            long imageBytes = 4L * 2 * 3 * 32 * 32;
            // TornadoVM's copy-in counter counts more than it moves (ExecutionStats): here each later
            // execution reports about twice the inputs plus 24 bytes per task, while its bytecode trace
            // (-Dtornado.print.bytecodes=true) shows z, t and c transferred and x and e "Present", not sent.
            // A re-sent x or e would add another image (24 KB) on top of that, which this bound catches.
            long allowed = 2 * (inputBytes + 64L * p.inputs().size()) + 24L * p.launches().size();
            assertTrue(allowed < inputBytes + 2 * imageBytes, "the bound must be able to see a re-sent image");
            assertEquals(steps, rec.stats.size());
            assertTrue(rec.stats.getFirst().copyInBytes() >= inputBytes + 2 * imageBytes,
                    "the first execution sends x and e once: " + rec.stats.getFirst());
            for (int i = 1; i < steps; i++) {
                ExecutionStats s = rec.stats.get(i);
                assertTrue(s.copyInBytes() <= allowed, "execution " + i + " moved " + s.copyInBytes()
                        + " bytes in; z, t and c are " + inputBytes + " (the image alone is " + imageBytes + ")");
                assertTrue(s.copyOutBytes() < imageBytes, "execution " + i + " moved " + s.copyOutBytes() + " bytes out");
                assertTrue(s.kernelNanos() > 0, "execution " + i + " ran no kernel on the device");
            }
        }
    }
}
