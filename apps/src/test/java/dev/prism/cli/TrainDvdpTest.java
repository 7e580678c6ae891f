package dev.prism.cli;

import dev.prism.nn.io.WeightFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism train --process dvdp} and sampling its weights, end to end on a tiny UNet and 8×8 images. */
class TrainDvdpTest {
    /** A run of TrainCommandTest's tiny UNet with DVDP over 8 → 4 → 2, on a cosine schedule (whose noise buries the data). */
    static List<String> fresh(Path data, Path out, int steps, String decay, int checkpointEvery, int sampleEvery) {
        List<String> a = TrainCommandTest.fresh(data, out, steps, decay, checkpointEvery, sampleEvery);
        a.addAll(List.of("--schedule", "cosine", "--process", "dvdp", "--stages", "8,4,2", "--switch-kl", "1"));
        return a;
    }

    @Test
    void aDvdpRunRecordsItsProcessAndItsWeightsSampleWithIt(@TempDir Path dir) throws Exception {
        Path data = TrainCommandTest.images(dir, 1);
        Path out = dir.resolve("run");
        CliTest.Result r = TrainCommandTest.run(fresh(data, out, 4, "cosine", 2, 2));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("process: dvdp(stages=8,4,2, switches="), r.out());
        assertTrue(Files.isRegularFile(out.resolve("samples/step-0000004.png")));
        Map<String, String> meta;
        try (WeightFile w = WeightFiles.open(out.resolve("ema.safetensors"))) {
            meta = w.metadata();
        }
        assertEquals("dvdp", meta.get("process"));
        assertEquals("8,4,2", meta.get("stages"));
        int[] sw = dev.prism.diffusion.Dvdp.parse("switches", meta.get("switches"));
        assertEquals(2, sw.length);
        assertTrue(r.out().contains("switches=" + meta.get("switches") + "), images per stage of a batch: "), r.out());

        CliTest.Result s = CliTest.run("sample", "--weights", out.resolve("ema.safetensors").toString(), "--batch", "2",
                "--steps", "5", "--out", dir.resolve("grid.png").toString());
        assertEquals(0, s.code(), s.out() + s.err());
        assertTrue(s.out().contains("under dvdp(stages=8,4,2, switches=" + meta.get("switches") + ")"), s.out());
        // the switch steps that the 5 DDIM steps lack are evaluated too
        int extra = 0;
        for (int t : sw) {
            extra += t % 10 == 0 ? 0 : 1;
        }
        assertTrue(s.out().contains("cost: " + (5 + extra) + " model evaluations"), s.out());
        CliTest.Result plain = CliTest.run("sample", "--weights", out.resolve("ema.safetensors").toString(), "--batch", "2",
                "--process", "ddpm", "--out", dir.resolve("grid2.png").toString());
        assertEquals(2, plain.code());
        assertTrue(plain.err().contains("--process ddpm: " + out.resolve("ema.safetensors") + " was trained with the dvdp process"), plain.err());
    }

    @Test
    void aDvdpRunStoppedAndResumedEqualsOneThatRanThrough(@TempDir Path dir) throws Exception {
        Path data = TrainCommandTest.images(dir, 2);
        Path through = dir.resolve("through");
        Path resumed = dir.resolve("resumed");
        assertEquals(0, TrainCommandTest.run(fresh(data, through, 6, "constant", 3, 0)).code());
        assertEquals(0, TrainCommandTest.run(fresh(data, resumed, 3, "constant", 3, 0)).code());
        CliTest.Result r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "6", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("process: dvdp(stages=8,4,2"), r.out());
        assertEquals(TrainCommandTest.losses(through), TrainCommandTest.losses(resumed));
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("ema.safetensors")),
                TrainCommandTest.tensorBytes(resumed.resolve("ema.safetensors")));
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("checkpoint.safetensors")),
                TrainCommandTest.tensorBytes(resumed.resolve("checkpoint.safetensors")));
        r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "7", "--stages", "8,4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--stages: a resumed run keeps the settings in its checkpoint"), r.err());
    }

    @Test
    void badDvdpOptionsAreRefusedNamingTheOption(@TempDir Path dir) throws Exception {
        Path data = TrainCommandTest.images(dir, 3);
        List<String> a = TrainCommandTest.fresh(data, dir.resolve("r1"), 2, "constant", 2, 0);
        a.addAll(List.of("--stages", "8,4"));
        assertRefused(a, "--stages applies to --process dvdp");
        a = TrainCommandTest.fresh(data, dir.resolve("r2"), 2, "constant", 2, 0);
        a.addAll(List.of("--process", "dvdp"));
        assertRefused(a, "--process dvdp needs --stages");
        a = TrainCommandTest.fresh(data, dir.resolve("r3"), 2, "constant", 2, 0);
        a.addAll(List.of("--process", "dvdp", "--stages", "16,8"));
        assertRefused(a, "--stages expected the image size (--size 8) first, found '16,8'");
        a = TrainCommandTest.fresh(data, dir.resolve("r4"), 2, "constant", 2, 0);
        a.addAll(List.of("--schedule", "cosine", "--process", "dvdp", "--stages", "8,3", "--switch-kl", "1"));
        assertRefused(a, "--stages: dvdp: argument 'stages' expected sides divisible by 2");
        a = TrainCommandTest.fresh(data, dir.resolve("r5"), 2, "constant", 2, 0);
        a.addAll(List.of("--process", "dvdp", "--stages", "8,4"));
        // the linear schedule over 50 steps never buries the data: no step satisfies the bound
        assertRefused(a, "--stages 8,4 with --switch-kl 0.1: dvdp: argument 'stages'");
        a = TrainCommandTest.fresh(data, dir.resolve("r6"), 2, "constant", 2, 0);
        a.addAll(List.of("--process", "vdp"));
        assertRefused(a, "--process expected ddpm or dvdp, found 'vdp'");
        a = TrainCommandTest.fresh(data, dir.resolve("r7"), 2, "constant", 2, 0);
        a.addAll(List.of("--process", "dvdp", "--stages", "8,4", "--teacher", dir.resolve("teacher.safetensors").toString()));
        assertRefused(a, "--process dvdp: distillation (prism distill) trains the fixed-dimension process only");
    }

    private static void assertRefused(List<String> args, String message) {
        CliTest.Result r = TrainCommandTest.run(args);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(message), r.err());
    }
}
