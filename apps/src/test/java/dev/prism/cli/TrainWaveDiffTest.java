package dev.prism.cli;

import dev.prism.nn.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism train --model wavediff} end to end on a tiny generator and discriminator and a folder of 16×16 images. */
class TrainWaveDiffTest {
    /** The fmnist preset's structure at nf 4 on 16×16 images (Haar coefficients 4×8×8). */
    private static final String CONFIG = "fmnist,size=8,nf=4,nz=4,zdim=8,mlp=1";

    static Path images(Path dir) throws IOException {
        Path d = Files.createDirectories(dir.resolve("images"));
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < 8; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    img.getRaster().setSample(x, y, 0, r.nextInt(256));
                }
            }
            ImageIO.write(img, "png", d.resolve("img-" + i + ".png").toFile());
        }
        return d;
    }

    static List<String> fresh(Path data, Path out, int steps, int checkpointEvery, int sampleEvery) {
        return new ArrayList<>(List.of("train", "--model", "wavediff", "--config", CONFIG, "--disc", "ngf=2,temb=8,layers=3",
                "--data", data.toString(), "--size", "16", "--steps", String.valueOf(steps), "--batch", "4", "--lr", "1e-3",
                "--d-lr", "1e-3", "--lr-decay", "constant", "--ema", "0.9", "--r1-gamma", "0.05", "--seed", "2",
                "--checkpoint-every", String.valueOf(checkpointEvery), "--sample-every", String.valueOf(sampleEvery),
                "--sample-count", "2", "--threads", "2", "--out", out.toString()));
    }

    static CliTest.Result run(List<String> args) {
        return CliTest.run(args.toArray(String[]::new));
    }

    @Test
    void aRunLogsItsTermsWritesGridsAndItsEmaGeneratorSamples(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        Path out = dir.resolve("run");
        CliTest.Result r = run(fresh(data, out, 4, 2, 2));
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("training wavediff ("), r.out());
        for (String f : new String[] {"checkpoint.safetensors", "ema.safetensors", "samples/step-0000002.png", "samples/step-0000004.png"}) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " in " + out);
        }
        List<String> log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals("step,loss,lr,grad_norm,seconds,d_real,d_fake,r1,g_adv,rec", log.get(0));
        assertEquals(5, log.size(), log.toString());
        Map<String, String> state = Checkpoint.header(out.resolve("checkpoint.safetensors")).state();
        assertEquals("0.05", state.get("r1_gamma"));
        assertEquals("0.5", state.get("beta1"), "the official Adam betas");
        assertEquals("ngf=2,temb=8,layers=3,kind=small", state.get("disc"));
        CliTest.Result s = CliTest.run("sample", "--model", "wavediff", "--weights", out.resolve("ema.safetensors").toString(), "--batch", "2",
                "--out", dir.resolve("grid.png").toString());
        assertEquals(0, s.code(), s.out() + s.err());
        assertTrue(Files.isRegularFile(dir.resolve("grid.png")));
    }

    @Test
    void aRunStoppedAndResumedEqualsOneThatRanThrough(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        Path through = dir.resolve("through"), resumed = dir.resolve("resumed");
        assertEquals(0, run(fresh(data, through, 4, 2, 0)).code());
        assertEquals(0, run(fresh(data, resumed, 2, 2, 0)).code());
        CliTest.Result r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "4", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("checkpoint.safetensors")),
                TrainCommandTest.tensorBytes(resumed.resolve("checkpoint.safetensors")), "generator and discriminator, weights and moments");
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("ema.safetensors")), TrainCommandTest.tensorBytes(resumed.resolve("ema.safetensors")));
    }

    /**
     * An official preset trains with the official run.sh settings where no option is given (CIFAR-10's: lr_g 1.6e-4,
     * lr_d 1.25e-4, r1_gamma 0.02, lazy_reg 15, ema_decay 0.9999, Discriminator_small of 3 layers), and an option still
     * wins; a tiny generator on the cifar10 preset, grey images as 4 bands.
     */
    @Test
    void anOfficialPresetTrainsWithItsOfficialSettingsWhereNoOptionIsGiven(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        Path out = dir.resolve("cifar");
        CliTest.Result r = run(List.of("train", "--model", "wavediff", "--config", "cifar10,in=4,res=1,size=8,nf=4,nz=4,zdim=8,mlp=1",
                "--disc", "ngf=2,temb=8", "--data", data.toString(), "--size", "16", "--steps", "1", "--batch", "2",
                "--checkpoint-every", "1", "--sample-every", "0", "--threads", "2", "--out", out.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        Map<String, String> state = Checkpoint.header(out.resolve("checkpoint.safetensors")).state();
        assertEquals(1.25e-4, Double.parseDouble(state.get("d_lr")));
        assertEquals(0.02, Double.parseDouble(state.get("r1_gamma")));
        assertEquals("15", state.get("lazy_reg"));
        assertEquals(0.9999, Double.parseDouble(state.get("ema")));
        assertEquals(1.6e-4, Double.parseDouble(state.get("lr")));
        assertEquals("ngf=2,temb=8,layers=3,kind=small", state.get("disc"));

        Path given = dir.resolve("given");
        r = run(List.of("train", "--model", "wavediff", "--config", "cifar10,in=4,res=1,size=8,nf=4,nz=4,zdim=8,mlp=1",
                "--disc", "ngf=2,temb=8,kind=large", "--lazy-reg", "2", "--r1-gamma", "0.5", "--ema", "0.9", "--data", data.toString(),
                "--size", "16", "--steps", "1", "--batch", "2", "--checkpoint-every", "1", "--sample-every", "0", "--threads", "2",
                "--out", given.toString()));
        assertEquals(0, r.code(), r.out() + r.err());
        state = Checkpoint.header(given.resolve("checkpoint.safetensors")).state();
        assertEquals("2", state.get("lazy_reg"));
        assertEquals(0.5, Double.parseDouble(state.get("r1_gamma")));
        assertEquals(0.9, Double.parseDouble(state.get("ema")));
        assertEquals("ngf=2,temb=8,layers=3,kind=large", state.get("disc"));
    }

    /** The settings of every preset, as the official run.sh passes them to train_wddgan.py (and its defaults otherwise). */
    @Test
    void eachPresetsRecipeIsTheOfficialRunScriptsSettings() {
        record Row(String preset, double lrG, double lrD, double r1, int lazy, double ema, String disc) {}
        Row[] rows = {
            new Row("cifar10", 1.6e-4, 1.25e-4, 0.02, 15, 0.9999, "ngf=64,temb=256,layers=3,kind=small"),
            new Row("stl10", 1.6e-4, 1.25e-4, 0.02, 15, 0.9999, "ngf=64,temb=256,layers=4,kind=small"),
            new Row("celeba_256", 2e-4, 1e-4, 2.0, 10, 0.9999, "ngf=64,temb=256,layers=5,kind=large"),
            new Row("celeba_512", 2e-4, 1e-4, 2.0, 10, 0.9999, "ngf=64,temb=256,layers=6,kind=large"),
            new Row("celeba_1024", 2e-4, 1e-4, 2.0, 10, 0.9999, "ngf=64,temb=256,layers=6,kind=large"),
            new Row("lsun", 1.6e-4, 1e-4, 1.0, 10, 0.999, "ngf=64,temb=256,layers=5,kind=large"),
            new Row("fmnist", 1.6e-4, 1.25e-4, 0.02, 1, 0.999, "ngf=32,temb=128,layers=3,kind=small"),
        };
        for (Row w : rows) {
            WaveDiffRecipe r = WaveDiffRecipe.of(w.preset());
            assertEquals(w.lrG(), r.lrG(), w.preset());
            assertEquals(w.lrD(), r.lrD(), w.preset());
            assertEquals(w.r1(), r.r1Gamma(), w.preset());
            assertEquals(w.lazy(), r.lazyReg(), w.preset());
            assertEquals(w.ema(), r.ema(), w.preset());
            assertEquals(w.disc(), String.join(",", r.disc().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()), w.preset());
        }
        assertEquals(rows.length, dev.prism.nn.models.Models.WAVEDIFF_PRESETS.size(), "a row for every preset");
        for (String preset : dev.prism.nn.models.Models.WAVEDIFF_PRESETS) {
            var g = dev.prism.nn.models.Models.structure("wavediff", Map.of("preset", preset)).wavediff().config();
            WaveDiffRecipe r = WaveDiffRecipe.of(preset);
            var d = dev.prism.nn.models.WaveDiffDiscriminator.named("netD", new dev.prism.nn.models.WaveDiffDiscriminator.Config(
                    g.channels(), g.size(), r.ngf(), r.temb(), r.layers(), r.kind().equals("large")));
            if (preset.equals("cifar10")) {
                // the official Discriminator_small(nc=24, ngf=64, t_emb_dim=256, num_layers=3), counted with PyTorch
                assertEquals(7_630_593, d.parameterCount());
            }
        }
    }

    /** --disc kind=large: the official Discriminator_large (all blocks downsampling), recorded for --resume. */
    @Test
    void theLargeDiscriminatorTrainsAndIsRecorded(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        Path out = dir.resolve("large");
        List<String> a = fresh(data, out, 2, 2, 0);
        a.set(a.indexOf("ngf=2,temb=8,layers=3"), "kind=large,ngf=2,temb=8,layers=3");
        CliTest.Result r = run(a);
        assertEquals(0, r.code(), r.out() + r.err());
        Map<String, String> state = Checkpoint.header(out.resolve("checkpoint.safetensors")).state();
        assertEquals("ngf=2,temb=8,layers=3,kind=large", state.get("disc"), "the preset's small replaced by the option");
        try (var wf = dev.prism.nn.io.WeightFile.open(out.resolve("checkpoint.safetensors"))) {
            assertArrayEquals(new int[] {8, 4, 1, 1}, wf.entry("netD.conv1.skip.0.weight").shape(),
                    "Discriminator_large's first block widens 2·ngf to 4·ngf (Discriminator_small's keeps 2·ngf)");
        }
        r = CliTest.run("train", "--resume", out.toString(), "--steps", "3", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
    }

    /**
     * Plans that do not fit the heap (WaveDiff's have no footprint model to check first): in a JVM of 160 MB, batch 256 of
     * the fmnist preset ends in one line naming --batch and the heap, nothing written, not in an OutOfMemoryError.
     */
    @Test
    void trainingPlansLargerThanTheHeapAreRefusedNamingTheBatch(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("images32"));
        for (int i = 0; i < 4; i++) {
            ImageIO.write(new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY), "png", data.resolve("img-" + i + ".png").toFile());
        }
        Path out = dir.resolve("run"), log = dir.resolve("log.txt");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx160m",
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "train", "--model", "wavediff", "--config", "fmnist", "--data", data.toString(), "--size", "32", "--batch", "256",
                "--steps", "1", "--threads", "1", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the refused run ended");
        String text = Files.readString(log);
        assertEquals(2, p.exitValue(), text);
        assertTrue(text.contains("prism: --batch expected a batch whose training plans fit the heap (") && text.contains("found 256: building"
                + " the wavediff training step ran out of it; lower --batch or raise -Xmx"), text);
        assertTrue(!text.contains("OutOfMemoryError") && !text.contains("\tat "), text);
        assertTrue(Files.notExists(out), "nothing written for a refused run");
    }

    /** --lazy-reg 3: R1 at iterations 1 and 4 only (the official global_step % 3 == 0), and a resumed run equals one run through. */
    @Test
    void lazyR1IsComputedEveryKthIterationAndResumesExactly(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        Path through = dir.resolve("through"), resumed = dir.resolve("resumed");
        List<String> a = fresh(data, through, 5, 5, 0);
        a.addAll(List.of("--lazy-reg", "3"));
        CliTest.Result r = run(a);
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> log = Files.readAllLines(through.resolve("log.csv"));
        int column = List.of(log.get(0).split(",")).indexOf("r1");
        for (int step = 1; step <= 5; step++) {
            double r1 = Double.parseDouble(log.get(step).split(",")[column]);
            if (step == 1 || step == 4) {
                assertTrue(r1 > 0, "R1 at iteration " + step + ": " + log.get(step));
            } else {
                assertEquals(0.0, r1, "no R1 at iteration " + step + ": " + log.get(step));
            }
        }
        assertEquals("3", Checkpoint.header(through.resolve("checkpoint.safetensors")).state().get("lazy_reg"));
        List<String> b = fresh(data, resumed, 2, 2, 0);
        b.addAll(List.of("--lazy-reg", "3"));
        assertEquals(0, run(b).code());
        r = CliTest.run("train", "--resume", resumed.toString(), "--steps", "5", "--threads", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertArrayEquals(TrainCommandTest.tensorBytes(through.resolve("checkpoint.safetensors")),
                TrainCommandTest.tensorBytes(resumed.resolve("checkpoint.safetensors")), "generator and discriminator, weights and moments");
        List<String> c = fresh(data, dir.resolve("c"), 2, 2, 0);
        c.addAll(List.of("--lazy-reg", "0"));
        r = run(c);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--lazy-reg") && r.err().contains("expected >= 1"), r.err());
    }

    /**
     * SIGKILL at random moments (TrainCommandTest's harness, on 8×8 images: Haar coefficients 4×4×4), then --resume
     * until the run completes: both networks, their moments and the generator's EMA equal the uninterrupted run's,
     * and so does every logged term.
     */
    @Test
    void killedAtRandomMomentsAndResumedItEqualsTheUninterruptedRun(@TempDir Path dir) throws Exception {
        TrainCommandTest.killAndResume(dir, (data, out, steps) -> new ArrayList<>(List.of("train", "--model", "wavediff", "--config",
                "fmnist,size=4,nf=4,nz=4,zdim=8,mlp=1", "--disc", "ngf=2,temb=8,layers=3", "--data", data.toString(), "--size", "8",
                "--steps", String.valueOf(steps), "--batch", "4", "--lr-decay", "cosine", "--seed", "3", "--checkpoint-every", "1",
                "--sample-every", "0", "--threads", "2", "--out", out.toString())), run -> Files.readAllLines(run.resolve("log.csv")).stream()
                .map(l -> {
                    List<String> cells = new ArrayList<>(List.of(l.split(",")));
                    cells.remove(4); // the wall clock
                    return String.join(",", cells);
                }).toList());
    }

    @Test
    void optionsOfOtherModelsAndOtherBackendsAreRefusedByName(@TempDir Path dir) throws Exception {
        Path data = images(dir);
        List<String> a = fresh(data, dir.resolve("a"), 2, 2, 0);
        a.addAll(List.of("--timesteps", "100"));
        CliTest.Result r = run(a);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--timesteps does not apply to --model wavediff"), r.err());
        r = CliTest.run("train", "--model", "unet", "--data", data.toString(), "--steps", "2", "--r1-gamma", "1", "--out", dir.resolve("b").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--r1-gamma applies to --model wavediff, not to --model unet"), r.err());
        List<String> c = fresh(data, dir.resolve("c"), 2, 2, 0);
        c.set(c.indexOf("ngf=2,temb=8,layers=3"), "ngf=2,depth=3");
        r = run(c);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--disc: unknown option 'depth'"), r.err());
        c.set(c.indexOf("ngf=2,depth=3"), "kind=huge,ngf=2");
        r = run(c);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--disc kind expected small or large, found 'huge'"), r.err());
        List<String> d = fresh(data, dir.resolve("d"), 2, 2, 0);
        d.set(d.indexOf("0.05"), "-1");
        r = run(d);
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--r1-gamma") && r.err().contains("expected a finite number >= 0, found -1.0"), r.err());
        assertTrue(Files.notExists(dir.resolve("d")), "nothing written for a refused run");
    }
}
