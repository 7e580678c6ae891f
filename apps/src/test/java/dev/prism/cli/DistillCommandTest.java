package dev.prism.cli;

import dev.prism.nn.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism distill} end to end: a tiny teacher trained by prism train, a smaller WG-UNet student. */
class DistillCommandTest {
    /** log.csv without its wall-clock column (the fifth): step, loss, learning rate, gradient norm and the terms. */
    private static List<String> losses(Path run) throws java.io.IOException {
        return java.nio.file.Files.readAllLines(run.resolve("log.csv")).stream().map(l -> {
            List<String> cells = new ArrayList<>(List.of(l.split(",", -1)));
            cells.remove(4);
            return String.join(",", cells);
        }).toList();
    }

    private static Path teacher(Path dir) throws Exception {
        Path run = dir.resolve("teacher");
        CliTest.Result r = TrainCommandTest.run(TrainCommandTest.fresh(TrainCommandTest.images(dir, 9), run, 2, "constant", 2, 0));
        assertEquals(0, r.code(), r.out() + r.err());
        return run.resolve("ema.safetensors");
    }

    private static List<String> distill(Path teacher, Path data, Path out, int steps, String lambdaFreq) {
        return new ArrayList<>(List.of("distill", "--teacher", teacher.toString(), "--student-model", "wg-unet", "--student-config",
                "width=4,levels=2,attn=2,groups=2", "--lambda-freq", lambdaFreq, "--hf-images", "4", "--data", data.toString(), "--size", "8",
                "--steps", String.valueOf(steps), "--batch", "3", "--lr", "1e-3", "--lr-decay", "constant", "--warmup", "2", "--ema", "0.9",
                "--timesteps", "50", "--seed", "5", "--checkpoint-every", "3", "--sample-every", "0", "--threads", "2", "--out", out.toString()));
    }

    @Test
    void aDistillationRunLogsItsTermsAndResumesAsIfItNeverStopped(@TempDir Path dir) throws Exception {
        Path teacher = teacher(dir);
        Path data = dir.resolve("images");
        Path through = dir.resolve("through");
        CliTest.Result r = CliTest.run(distill(teacher, data, through, 6, "2").toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("teacher: unet (11,769 parameters) from " + teacher + "; student: wg-unet ("), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("student (") && l.contains("eps-prediction error on 4 test images: mse ")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("teacher (11,769 parameters): eps-prediction error on 4 test images")), r.out());
        List<String> log = losses(through);
        assertEquals("step,loss,lr,grad_norm,ddpm,spatial,freq,feature", log.get(0));
        assertEquals(7, log.size(), log.toString());
        Map<String, String> state = Checkpoint.header(through.resolve("checkpoint.safetensors")).state();
        assertEquals(teacher.toString(), state.get("teacher"));
        assertEquals("2.0", state.get("lambda_freq"));
        // feature matching is on by default, at every level both networks have (two here)
        assertEquals("0,1", state.get("feature_levels"));
        // the alignment convolutions are in the checkpoint, not in the exported student, which loads as a plain wg-unet
        assertTrue(tensorNames(through.resolve("checkpoint.safetensors")).containsAll(List.of("feature_align.0.weight", "feature_align.1.bias",
                "ema.feature_align.0.weight", "exp_avg.feature_align.1.weight", "exp_avg_sq.feature_align.0.bias")));
        assertTrue(tensorNames(through.resolve("ema.safetensors")).stream().noneMatch(n -> n.contains("feature_align")),
                tensorNames(through.resolve("ema.safetensors")).toString());
        CliTest.Result sampled = CliTest.run("sample", "--weights", through.resolve("ema.safetensors").toString(), "--batch", "2", "--steps", "2",
                "--size", "8", "--threads", "1", "--out", dir.resolve("grid.png").toString());
        assertEquals(0, sampled.code(), sampled.out() + sampled.err());

        // three steps, then --resume: the same losses, terms and weights as the run that went through
        Path resumed = dir.resolve("resumed");
        assertEquals(0, CliTest.run(distill(teacher, data, resumed, 3, "2").toArray(String[]::new)).code());
        CliTest.Result again = CliTest.run("distill", "--resume", resumed.toString(), "--steps", "6", "--hf-images", "0", "--threads", "1");
        assertEquals(0, again.code(), again.out() + again.err());
        assertTrue(again.out().contains("steps 4..6"), again.out());
        assertEquals(losses(through), losses(resumed));
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("ema.safetensors")), TrainCommandTest.tensorBytes(resumed.resolve("ema.safetensors")));
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("checkpoint.safetensors")),
                TrainCommandTest.tensorBytes(resumed.resolve("checkpoint.safetensors")));
    }

    /** The names of the tensors in a safetensors file. */
    private static List<String> tensorNames(Path file) throws java.io.IOException {
        try (dev.prism.nn.io.WeightFile wf = dev.prism.nn.io.WeightFile.open(file)) {
            return wf.entries().stream().map(dev.prism.nn.io.WeightEntry::name).toList();
        }
    }

    @Test
    void withoutFeatureLevelsTheLogHasTheOutputTermsOnly(@TempDir Path dir) throws Exception {
        Path teacher = teacher(dir);
        Path run = dir.resolve("outputs");
        List<String> args = distill(teacher, dir.resolve("images"), run, 2, "1");
        args.addAll(1, List.of("--feature-levels", "none", "--hf-images", "0"));
        CliTest.Result r = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("step,loss,lr,grad_norm,ddpm,spatial,freq", losses(run).get(0));
        assertEquals("none", Checkpoint.header(run.resolve("checkpoint.safetensors")).state().get("feature_levels"));
        assertTrue(tensorNames(run.resolve("checkpoint.safetensors")).stream().noneMatch(n -> n.contains("feature_align")));
    }

    @Test
    void badInputIsRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path data = TrainCommandTest.images(dir, 4);
        CliTest.Result r = CliTest.run("distill", "--data", data.toString(), "--steps", "2", "--out", dir.resolve("r").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --teacher WEIGHTS is needed for a new run (or --resume RUN)", r.err().strip());
        r = CliTest.run("distill", "--teacher", dir.resolve("none.safetensors").toString(), "--data", data.toString(), "--steps", "2", "--out",
                dir.resolve("r").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --teacher " + dir.resolve("none.safetensors") + ": no such file", r.err().strip());
        r = CliTest.run("distill", "--resume", dir.resolve("r").toString(), "--lambda-freq", "3");
        assertEquals(2, r.code());
        assertEquals("prism: --lambda-freq: a resumed run keeps the settings in its checkpoint", r.err().strip());
        r = CliTest.run("distill", "--resume", dir.resolve("r").toString(), "--feature-levels", "none");
        assertEquals(2, r.code());
        assertEquals("prism: --feature-levels: a resumed run keeps the settings in its checkpoint", r.err().strip());
        Path teacher = teacher(dir);
        for (String bad : List.of("1,0", "x", "-1", "")) {
            r = CliTest.run("distill", "--feature-levels", bad, "--teacher", teacher.toString(), "--data", data.toString(), "--steps", "2", "--out",
                    dir.resolve("r").toString());
            assertEquals(2, r.code(), bad);
            assertEquals("prism: --feature-levels expected all, none or increasing levels >= 0 such as 0,1,2, found '" + bad + "'", r.err().strip());
        }
        r = CliTest.run("distill", "--feature-levels", "0,2", "--teacher", teacher.toString(), "--student-config", "levels=3,attn=3", "--data",
                data.toString(), "--steps", "2", "--out", dir.resolve("r").toString());
        assertEquals(2, r.code());
        assertEquals("prism: --feature-levels expected levels below 2 (the student has 3 levels, the teacher 2), found '0,2'", r.err().strip());
    }
}
