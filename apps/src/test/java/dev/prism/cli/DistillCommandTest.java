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
        assertEquals("step,loss,lr,grad_norm,ddpm,spatial,freq", log.get(0));
        assertEquals(7, log.size(), log.toString());
        Map<String, String> state = Checkpoint.header(through.resolve("checkpoint.safetensors")).state();
        assertEquals(teacher.toString(), state.get("teacher"));
        assertEquals("2.0", state.get("lambda_freq"));

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
    }
}
