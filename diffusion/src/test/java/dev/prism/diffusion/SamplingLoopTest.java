package dev.prism.diffusion;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.kernels.Elementwise;
import dev.prism.backend.Launch;
import dev.prism.testing.Inputs;
import dev.prism.testing.Npz;
import dev.prism.testing.VectorWidths;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static dev.prism.testing.Arrays32.assertClose;
import static dev.prism.testing.Arrays32.assertIdentical;
import static dev.prism.testing.Arrays32.maxAbs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingLoopTest {
    private static final JvmBackend SEQ = JvmBackend.sequential();
    private static final JvmBackend PAR = JvmBackend.parallel(3);

    @AfterAll
    static void close() {
        PAR.close();
    }

    /** The sampler a reference file was made with (tools/refgen/samplers.py). */
    static DiffusionSampler samplerOf(String name) {
        return switch (name) {
            case "ddpm_linear_t100" -> new Ddpm(NoiseSchedule.linear(100));
            case "ddpm_cosine_t50_clip" -> new Ddpm(NoiseSchedule.cosine(50), true, Prediction.EPSILON);
            case "ddim_linear_s10_eta0" -> new Ddim(NoiseSchedule.linear(), 10, 0.0);
            case "ddim_linear_s10_eta1" -> new Ddim(NoiseSchedule.linear(), 10, 1.0);
            case "ddim_linear_s25_eta0" -> new Ddim(NoiseSchedule.linear(), 25, 0.0);
            case "ddim_linear_s25_eta1" -> new Ddim(NoiseSchedule.linear(), 25, 1.0);
            case "ddim_cosine_s25_eta05_clip" -> new Ddim(NoiseSchedule.cosine(), 25, 0.5, true, Prediction.EPSILON);
            case "ddgan_vp_t4" -> new Ddpm(NoiseSchedule.vp(4), false, Prediction.SAMPLE);
            default -> throw new IllegalArgumentException(name);
        };
    }

    static ToyDenoiser toyOf(Npz r) {
        int[] d = Arrays.stream(r.get("dims").ints()).mapToInt(Math::toIntExact).toArray();
        return new ToyDenoiser(d[1], d[2], d[3], r.f("a")[0], r.f("w"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ddpm_linear_t100", "ddpm_cosine_t50_clip", "ddim_linear_s10_eta0", "ddim_linear_s10_eta1",
            "ddim_linear_s25_eta0", "ddim_linear_s25_eta1", "ddim_cosine_s25_eta05_clip", "ddgan_vp_t4"})
    void trajectoriesMatchPyTorchInFloat64(String name) {
        Npz r = Npz.resource("samplers/" + name);
        DiffusionSampler sampler = samplerOf(name);
        long[] timesteps = r.get("timesteps").ints();
        assertEquals(timesteps.length, sampler.steps());
        for (int i = 0; i < timesteps.length; i++) {
            assertEquals(timesteps[i], sampler.timestep(i), name + " timestep " + i);
        }
        RecordedNoise noise = new RecordedNoise(r.f("x_T"), r.f("z"));
        List<float[]> images = new ArrayList<>();
        List<Integer> reported = new ArrayList<>();
        float[] out;
        try (SamplingLoop loop = new SamplingLoop(SEQ, toyOf(r), 2)) {
            out = loop.sample(sampler, noise, step -> {
                reported.add(step.timestep());
                images.add(step.image());
            });
        }
        // The noise the loop asked for is exactly that of the updates with σ != 0.
        long[] noisy = r.get("noisy").ints();
        List<Integer> expectedAsks = new ArrayList<>();
        for (int i = 0; i < noisy.length; i++) {
            if (noisy[i] != 0) {
                expectedAsks.add(i);
            }
        }
        assertEquals(expectedAsks, noise.asked, name + ": the updates that drew noise");
        assertEquals(Arrays.stream(timesteps).mapToObj(v -> (int) v).toList(), reported, name + ": progress");

        // The shared tolerance (rtol 1e-5, atol 1e-5·max|ref|) holds for whole runs: fp32 rounding errors of
        // the update and the toy model (about ε32 = 6e-8 relative per operation) do not add up coherently,
        // and the update's derivative in x is close to 1, so they neither grow nor cancel. Measured on the
        // final images: at most 5.2e-7·max|ref| (DDPM, 100 steps), 4.2e-7·max|ref| (DDIM, 25 steps, η = 0).
        assertIdentical(name + " x_T", r.f("x_T"), images.getFirst());
        float[] traj = r.f("traj");
        long[] kept = r.get("traj_steps").ints();
        int len = out.length;
        for (int k = 0; k < kept.length; k++) {
            int step = (int) kept[k];
            float[] ref = Arrays.copyOfRange(traj, k * len, (k + 1) * len);
            assertClose(name + " x at step " + step, ref, images.get(step));
        }
        float[] fin = r.f("final");
        assertClose(name + " final image", fin, out);
        assertFalse(Arrays.equals(fin, r.f("x_T")));
    }

    @Test
    void clippingChangesTheResultSoTheClippedReferenceTestsIt() {
        // Without the clip the same noise gives an image far from the clipped reference.
        Npz r = Npz.resource("samplers/ddpm_cosine_t50_clip");
        float[] out;
        try (SamplingLoop loop = new SamplingLoop(SEQ, toyOf(r), 2)) {
            out = loop.sample(new Ddpm(NoiseSchedule.cosine(50)), new RecordedNoise(r.f("x_T"), r.f("z")), SamplingProgress.NONE);
        }
        double diff = 0;
        float[] ref = r.f("final");
        for (int i = 0; i < ref.length; i++) {
            diff = Math.max(diff, Math.abs(ref[i] - out[i]));
        }
        assertTrue(diff > 0.1, "max difference " + diff);
    }

    static ToyDenoiser toy(int c, int h, int w) {
        return new ToyDenoiser(c, h, w, 0.6f, Inputs.gaussian(c * ToyDenoiser.EMB, 7));
    }

    private static List<DiffusionSampler> seededSamplers() {
        return List.of(new Ddpm(NoiseSchedule.linear(40), true, Prediction.EPSILON), new Ddim(NoiseSchedule.linear(), 10, 1.0));
    }

    private static float[] sample(Backend backend, Denoiser model, DiffusionSampler s, long seed) {
        try (SamplingLoop loop = new SamplingLoop(backend, model, 3)) {
            return loop.sample(s, seed, SamplingProgress.NONE);
        }
    }

    /**
     * docs/SAMPLING.md's and {@code prism sample --help}'s promise for {@code jvm}: at a given vector width, the same
     * bits on every thread count and every run. The poms run this test at 128, 256 and 512 bits.
     */
    @Test
    void theJvmBackendGivesTheSameBitsOnEveryThreadCountAndEveryRunAtItsWidth() {
        VectorWidths.assertPinned();
        ToyDenoiser model = toy(3, 16, 18);
        for (DiffusionSampler s : seededSamplers()) {
            float[] first = sample(PAR, model, s, 1234L);
            for (float v : first) {
                assertTrue(Float.isFinite(v));
            }
            assertIdentical(s.describe() + ": a second run on jvm (3 threads)", first, sample(PAR, model, s, 1234L));
            for (int threads : new int[] {1, 2}) {
                try (JvmBackend jvm = JvmBackend.parallel(threads)) {
                    assertIdentical(s.describe() + ": jvm on 3 threads vs " + threads, first, sample(jvm, model, s, 1234L));
                }
            }
            assertFalse(Arrays.equals(first, sample(PAR, model, s, 1235L)), "another seed must give another image");
        }
    }

    /** The promise for the plain loops: {@code jvm-plain} on any thread count gives {@code jvm-seq}'s bits. */
    @Test
    void thePlainLoopsOnEveryThreadCountGiveTheReferenceBits() {
        ToyDenoiser model = toy(3, 16, 18);
        for (DiffusionSampler s : seededSamplers()) {
            float[] reference = sample(SEQ, model, s, 1234L);
            for (int threads : new int[] {1, 2, 3}) {
                try (JvmBackend plain = JvmBackend.parallel(threads, false)) {
                    assertIdentical(s.describe() + ": jvm-seq vs jvm-plain on " + threads + " threads", reference, sample(plain, model, s, 1234L));
                }
            }
        }
    }

    /**
     * And between the two: the variants round differently from the loops (fused multiply-adds, another
     * order of a sum), which a whole run keeps within the shared tolerance (rtol 1e-5, atol 1e-5·max|ref|).
     */
    @Test
    void theVariantsStayWithinTheToleranceOfThePlainLoopsOverWholeRuns() {
        VectorWidths.assertPinned();
        ToyDenoiser model = toy(3, 16, 18);
        for (DiffusionSampler s : seededSamplers()) {
            assertClose(s.describe() + ": jvm-seq vs jvm", sample(SEQ, model, s, 1234L), sample(PAR, model, s, 1234L));
        }
    }

    @Test
    void aSecondRunOnTheSameLoopStartsAfresh() {
        ToyDenoiser model = toy(2, 5, 7);
        DiffusionSampler s = new Ddim(NoiseSchedule.cosine(), 5, 0.5);
        try (SamplingLoop loop = new SamplingLoop(SEQ, model, 2)) {
            float[] first = loop.sample(s, 9L, SamplingProgress.NONE);
            loop.sample(new Ddpm(NoiseSchedule.linear(20)), 10L, SamplingProgress.NONE);
            assertIdentical("rerun", first, loop.sample(s, 9L, SamplingProgress.NONE));
        }
    }

    @Test
    void anImageDoesNotDependOnTheBatchItWasDrawnIn() {
        ToyDenoiser model = toy(3, 6, 5);
        DiffusionSampler s = new Ddpm(NoiseSchedule.linear(30));
        float[] three, one;
        try (SamplingLoop big = new SamplingLoop(SEQ, model, 3); SamplingLoop small = new SamplingLoop(SEQ, model, 1)) {
            three = big.sample(s, 77L, SamplingProgress.NONE);
            one = small.sample(s, 77L, SamplingProgress.NONE);
        }
        assertIdentical("image 0 of 3 vs the only image", one, Arrays.copyOf(three, one.length));
    }

    @Test
    void batchesOverOneRootMakeTheImagesOfOneBatchSeededAlike() {
        // What prism eval relies on: its samples are those of one prism sample batch, whatever --batch.
        ToyDenoiser model = toy(2, 6, 5);
        DiffusionSampler s = new Ddpm(NoiseSchedule.linear(30));
        int per = model.channels() * 6 * 5;
        float[] five, parts = new float[5 * per];
        try (SamplingLoop all = new SamplingLoop(SEQ, model, 5); SamplingLoop two = new SamplingLoop(SEQ, model, 2)) {
            five = all.sample(s, 91L, SamplingProgress.NONE);
            SplittableRandom root = new SplittableRandom(91L);
            for (int first = 0; first < 5; first += 2) {
                float[] batch = two.sample(s, new SeededNoise(root, 2, per), SamplingProgress.NONE);
                System.arraycopy(batch, 0, parts, first * per, Math.min(2, 5 - first) * per);
            }
        }
        assertIdentical("images 0..4 in batches of 2 vs one batch of 5", five, parts);
    }

    @Test
    void seededNoiseFollowsTheDocumentedStream() {
        // Written from SeededNoise's Javadoc alone: image n uses the n-th split of the root; one continuous
        // Box–Muller sequence per image; x_T first, then one block per noisy update.
        int batch = 2, per = 5;
        SeededNoise noise = new SeededNoise(42L, batch, per);
        float[] xT = new float[batch * per], z3 = new float[batch * per], z4 = new float[batch * per];
        noise.initial(xT);
        noise.step(3, z3);
        noise.step(4, z4);
        SplittableRandom root = new SplittableRandom(42L);
        for (int n = 0; n < batch; n++) {
            SplittableRandom g = root.split();
            double[] normals = new double[16];
            for (int k = 0; k < normals.length; k += 2) {
                double u1 = 1.0 - g.nextDouble(), u2 = g.nextDouble();
                double rad = StrictMath.sqrt(-2 * StrictMath.log(u1));
                normals[k] = rad * StrictMath.cos(2 * Math.PI * u2);
                normals[k + 1] = rad * StrictMath.sin(2 * Math.PI * u2);
            }
            for (int i = 0; i < per; i++) {
                assertEquals((float) normals[i], xT[n * per + i]);
                assertEquals((float) normals[per + i], z3[n * per + i]);
                assertEquals((float) normals[2 * per + i], z4[n * per + i]);
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> noise.step(4, z4));
        assertEquals("seeded noise: argument 'step' expected >= 5 (steps are drawn in order), found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> noise.initial(new float[3]));
        assertEquals("seeded noise: argument 'out' expected length 10, found 3", e.getMessage());
    }

    @Test
    void ddimWithEtaOneOnEveryStepIsDdpm() {
        // DDIM eq. (12) with σ of eq. (16) at η = 1 and S = T is DDPM's posterior: two coefficient
        // mappings, one result (within the rounding of the two formulations).
        ToyDenoiser model = toy(3, 4, 4);
        NoiseSchedule sched = NoiseSchedule.linear(60);
        float[] ddpm, ddim;
        try (SamplingLoop loop = new SamplingLoop(SEQ, model, 2)) {
            ddpm = loop.sample(new Ddpm(sched), 5L, SamplingProgress.NONE);
            ddim = loop.sample(new Ddim(sched, 60, 1.0), 5L, SamplingProgress.NONE);
        }
        assertClose("DDIM(eta=1, S=T) vs DDPM", ddpm, ddim);
    }

    /** A backend that counts executions and records what is fetched. */
    static final class Counting implements Backend {
        final JvmBackend inner = JvmBackend.sequential();
        int executions;
        final List<float[]> fetched = new ArrayList<>();

        @Override
        public String id() {
            return "counting";
        }

        @Override
        public String description() {
            return "counting";
        }

        @Override
        public void run(Launch launch) {
            inner.run(launch);
        }

        @Override
        public Executable compile(Plan plan) {
            Executable e = inner.compile(plan);
            return new Executable() {
                @Override
                public Plan plan() {
                    return plan;
                }

                @Override
                public void execute() {
                    executions++;
                    e.execute();
                }

                @Override
                public void fetch(float[]... buffers) {
                    e.fetch(buffers);
                    fetched.addAll(List.of(buffers));
                }
            };
        }

        @Override
        public void close() {
        }
    }

    @Test
    void onePlanExecutionPerStepAndOnlyTheImageAndTheModelOutputComeBack() {
        Counting backend = new Counting();
        ToyDenoiser model = toy(3, 4, 5);
        try (SamplingLoop loop = new SamplingLoop(backend, model, 2)) {
            Plan p = loop.plan();
            Launch update = p.launches().getFirst();
            assertEquals("sampler.update", update.kernel());
            float[] x = (float[]) update.args()[0], e = (float[]) update.args()[1], z = (float[]) update.args()[2];
            float[] c = (float[]) update.args()[3];
            assertSame(x, update.args()[4], "the update runs in place");
            float[] t = (float[]) p.launches().get(1).args()[0];
            assertEquals(identity(x, e), identity(p.state().toArray(float[][]::new)));
            assertEquals(identity(x, e), identity(p.fetchable().toArray(float[][]::new)));
            assertEquals(identity(z, t, c), identity(p.inputs().toArray(float[][]::new)));
            assertTrue(p.outputs().isEmpty(), "nothing comes back every execution");
            assertEquals(1, p.launches().stream().filter(l -> l.kernel().equals("sampler.update")).count());

            loop.sample(new Ddim(NoiseSchedule.linear(), 7, 0.3), 3L, SamplingProgress.NONE);
            assertEquals(7, backend.executions);
            assertEquals(identity(x, e), identity(backend.fetched.toArray(float[][]::new)));
            assertEquals(2, backend.fetched.size());
        }
    }

    private static Set<Integer> identity(float[]... buffers) {
        Set<Integer> s = new java.util.HashSet<>();
        for (float[] b : buffers) {
            s.add(System.identityHashCode(b));
        }
        return s;
    }

    @Test
    void aModelThatBreaksTheContractIsRejected() {
        Denoiser writesX = new Denoiser() {
            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int height() {
                return 2;
            }

            @Override
            public int width() {
                return 2;
            }

            @Override
            public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e) {
                plan.add(Elementwise.add(x, x, x, x.length)).add(Elementwise.add(x, x, e, x.length));
            }
        };
        var ex = assertThrows(IllegalArgumentException.class, () -> new SamplingLoop(SEQ, writesX, 1));
        assertEquals("sampling loop: the model's launch elementwise.add writes the image x, which the loop owns;"
                + " expected it to write only e and its own buffers", ex.getMessage());
        Denoiser noE = new Denoiser() {
            @Override
            public int channels() {
                return 1;
            }

            @Override
            public int height() {
                return 2;
            }

            @Override
            public int width() {
                return 2;
            }

            @Override
            public void addTo(Plan.Builder plan, int batch, float[] x, float[] t, float[] e) {
                plan.add(Elementwise.add(x, x, new float[x.length], x.length));
            }
        };
        ex = assertThrows(IllegalArgumentException.class, () -> new SamplingLoop(SEQ, noE, 1));
        assertEquals("sampling loop: the model added 1 launches, none of which writes e", ex.getMessage());
        ex = assertThrows(IllegalArgumentException.class, () -> new SamplingLoop(SEQ, toy(3, 4, 4), 0));
        assertEquals("sampling loop: argument 'batch' expected >= 1, found 0", ex.getMessage());
    }
}
