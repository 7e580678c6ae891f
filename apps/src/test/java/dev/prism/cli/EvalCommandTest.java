package dev.prism.cli;

import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.data.Batches;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.eval.FrechetDistance;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** prism eval on a tiny UNet, a tiny classifier and a small Fashion-MNIST-format folder: fast enough for every test run. */
class EvalCommandTest {
    @TempDir
    static Path dir;
    static Path data;
    static Path judge;

    @BeforeAll
    static void files() throws Exception {
        data = FashionMnistFolder.write(Files.createDirectory(dir.resolve("fmnist")), 30, 20);
        judge = FashionMnistFolder.classifier(dir.resolve("judge.safetensors"), 8);
    }

    static CliTest.Result eval(String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("eval", "--weights", SampleCommandTest.weights().toString(), "--size", "8",
                "--samples", "6", "--batch", "4", "--steps", "3", "--classifier", judge.toString(), "--data", data.toString(), "--threads", "2"));
        args.addAll(List.of(extra));
        return BenchCommandTest.run(args.toArray(String[]::new));
    }

    /** The value of the line starting "FD" and containing {@code label}. */
    static double fd(String out, String label) {
        Matcher m = Pattern.compile("(?m)^FD +([0-9.]+) +" + Pattern.quote(label)).matcher(out);
        assertTrue(m.find(), "no line 'FD ... " + label + "' in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void evalPrintsTheSamplesDistanceWithItsSettingsBesideTheFloorAndTheCeiling() throws Exception {
        CliTest.Result r = eval("--seed", "5");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("reference: the 20 test images of " + data + " at 8x8"), r.out());
        assertTrue(Pattern.compile("(?m)^FD +[0-9.]+ +samples: N 6, seed 5, sampler ddim\\(steps=3.*\\), steps 3 \\(").matcher(r.out()).find(), r.out());
        assertTrue(r.out().contains("floor: N 6 training images (seed 5)"), r.out());
        assertTrue(r.out().contains("ceiling: N 6 images of uniform noise in [-1, 1] (seed 5)"), r.out());
        assertTrue(r.err().contains("samples: 6/6"), "progress on stderr: " + r.err());
        double samples = fd(r.out(), "samples"), floor = fd(r.out(), "floor"), ceiling = fd(r.out(), "ceiling");
        assertTrue(samples >= 0 && floor >= 0 && ceiling >= 0, r.out());

        // The floor, recomputed here: the features of the first 6 training images in the seed's order against the test set's.
        FashionMnist train = FashionMnist.load(data, FashionMnist.Split.TRAIN, 8), test = FashionMnist.load(data, FashionMnist.Split.TEST, 8);
        Batches order = new Batches(train, 6, 5, false);
        float[] images = new float[order.batchLength()];
        order.fill(0, images, null);
        try (JvmBackend b = JvmBackend.parallel(2);
             ClassifierFeatures f = new ClassifierFeatures(b, EvalCommand.loadClassifier(judge).model(), 4, 8, 8)) {
            var ref = f.extract(ClassifierFeatures.of(test), test.size(), null).statistics();
            var real = f.extract((first, count, dst) -> System.arraycopy(images, first * 64, dst, 0, count * 64), 6, null).statistics();
            assertEquals(String.format(Locale.ROOT, "%.2f", FrechetDistance.between(real, ref)), String.format(Locale.ROOT, "%.2f", floor));
        }

        CliTest.Result again = eval("--seed", "5");
        assertEquals(samples, fd(again.out(), "samples"), "the same seed gives the same distance");
        assertEquals(ceiling, fd(again.out(), "ceiling"));
        CliTest.Result other = eval("--seed", "6");
        assertNotEquals(samples, fd(other.out(), "samples"), "another seed draws other samples:\n" + r.out() + other.out());
    }

    @Test
    void theSamplesDoNotDependOnTheBatchTheyAreDrawnIn() throws Exception {
        // Sample j is image j of one batch seeded alike, so --batch changes the work, not the distance.
        CliTest.Result four = eval("--seed", "3", "--backend", "jvm-seq");
        CliTest.Result three = eval("--seed", "3", "--backend", "jvm-seq", "--batch", "3");
        assertEquals(0, three.code(), three.out() + three.err());
        assertEquals(fd(four.out(), "samples"), fd(three.out(), "samples"), four.out() + three.out());
        assertEquals(fd(four.out(), "floor"), fd(three.out(), "floor"));
    }

    @Test
    void evalScoresAWaveDiffGeneratorThatPrismTrainWritesWhateverTheBatch() throws Exception {
        // A tiny WaveDiff (16×16 images, Haar coefficients 4×8×8) trained for 2 iterations, judged by a 16×16 classifier.
        Path run = dir.resolve("wavediff-run");
        CliTest.Result trained = BenchCommandTest.run("train", "--model", "wavediff", "--config", "fmnist,size=8,nf=4,nz=4,zdim=8,mlp=1",
                "--disc", "ngf=2,temb=8", "--data", data.toString(), "--size", "16", "--batch", "4", "--steps", "2", "--sample-every", "0",
                "--out", run.toString(), "--threads", "2");
        assertEquals(0, trained.code(), trained.out() + trained.err());
        Path judge16 = FashionMnistFolder.classifier(dir.resolve("judge16.safetensors"), 16);
        List<String> base = List.of("eval", "--model", "wavediff", "--weights", run.resolve("ema.safetensors").toString(), "--samples", "5",
                "--classifier", judge16.toString(), "--data", data.toString(), "--backend", "jvm-seq", "--seed", "4");
        CliTest.Result four = run(base, "--batch", "4");
        assertEquals(0, four.code(), four.out() + four.err());
        assertTrue(four.out().contains("model: wavediff (") && four.out().contains("1x16x16 (Haar coefficients 4x8x8)"), four.out());
        assertTrue(Pattern.compile("(?m)^FD +[0-9.]+ +samples: N 5, seed 4, sampler ddpm\\(steps=4.*\\), steps 4 \\(.* ms per image\\)")
                .matcher(four.out()).find(), four.out());
        CliTest.Result three = run(base, "--batch", "3");
        assertEquals(0, three.code(), three.out() + three.err());
        assertEquals(fd(four.out(), "samples"), fd(three.out(), "samples"), "sample j is the same image whatever the batch:\n" + four.out() + three.out());
        assertEquals(fd(four.out(), "ceiling"), fd(three.out(), "ceiling"));
    }

    @Test
    void evalScoresTheEmaWeightsThatPrismTrainWrites() throws Exception {
        // A tiny UNet trained for 3 steps on a cosine schedule with T = 40: eval takes the model, its options, the
        // image size and the schedule from ema.safetensors' metadata, and the sampler options as prism sample does.
        Path run = dir.resolve("ema-run");
        CliTest.Result trained = BenchCommandTest.run("train", "--model", "unet", "--config", "width=8,levels=2,attn=1,groups=4",
                "--data", data.toString(), "--size", "8", "--batch", "4", "--steps", "3", "--schedule", "cosine", "--timesteps", "40",
                "--sample-every", "0", "--out", run.toString(), "--threads", "2");
        assertEquals(0, trained.code(), trained.out() + trained.err());
        Path ema = run.resolve("ema.safetensors");
        List<String> base = List.of("eval", "--weights", ema.toString(), "--samples", "5", "--batch", "2", "--classifier", judge.toString(),
                "--data", data.toString(), "--threads", "2");

        CliTest.Result ddim = run(base, "--sampler", "ddim", "--steps", "4", "--eta", "0.5");
        assertEquals(0, ddim.code(), ddim.out() + ddim.err());
        assertTrue(ddim.out().contains("model: unet (") && ddim.out().contains(" from " + ema + ", 1x8x8, schedule cosine(T=40, "), ddim.out());
        assertTrue(Pattern.compile("(?m)^FD +[0-9.]+ +samples: N 5, seed 0, sampler ddim\\(steps=4, eta=0.5.*\\), steps 4 \\(")
                .matcher(ddim.out()).find(), ddim.out());
        assertTrue(ddim.err().contains("samples: 5/5"), ddim.err());

        CliTest.Result ddpm = run(base, "--sampler", "ddpm", "--seed", "2");
        assertEquals(0, ddpm.code(), ddpm.out() + ddpm.err());
        assertTrue(Pattern.compile("(?m)^FD +[0-9.]+ +samples: N 5, seed 2, sampler ddpm.*, steps 40 \\(").matcher(ddpm.out()).find(), ddpm.out());

        // T came from the metadata: 41 steps are one too many, and --timesteps overrides it.
        check(run(base, "--steps", "41"), "prism: --steps expected 1 to T = 40, found 41");
        check(run(base, "--sampler", "ddpm", "--steps", "10"), "prism: --steps for ddpm expected 40 (ancestral sampling visits every "
                + "timestep; use --sampler ddim for fewer), found 10");
        check(run(base, "--timesteps", "0"), "prism: --timesteps expected an integer from 1 to 1000000, found '0'");
        CliTest.Result longer = run(base, "--timesteps", "60", "--steps", "41");
        assertEquals(0, longer.code(), longer.out() + longer.err());
        assertTrue(longer.out().contains("schedule cosine(T=60, "), longer.out());
    }

    @Test
    void aScheduleInTheMetadataThatPrismCannotBuildIsRefused() throws Exception {
        var m = dev.prism.nn.models.Models.build("unet", java.util.Map.of("width", "8", "levels", "2", "attn", "1", "groups", "4"), 1);
        String options = dev.prism.nn.train.Checkpoint.json(m.options());
        Path odd = dir.resolve("odd-schedule.safetensors"), unknown = dir.resolve("unknown-schedule.safetensors");
        dev.prism.nn.ModelWeights.save(m.module(), odd, java.util.Map.of("model", "unet", "options", options, "image_size", "8",
                "schedule", "cosine(T=40, s=0.01, maxBeta=0.999)", "timesteps", "40"), false);
        dev.prism.nn.ModelWeights.save(m.module(), unknown, java.util.Map.of("model", "unet", "options", options, "image_size", "8",
                "schedule", "sigmoid(T=40)", "timesteps", "40"), false);
        List<String> tail = List.of("--samples", "4", "--classifier", judge.toString(), "--data", data.toString());
        check(run(concat(List.of("eval", "--weights", odd.toString()), tail)), "prism: schedule metadata of " + odd
                + " expected 'cosine(T=40, s=0.008, maxBeta=0.999)' (Prism's cosine schedule with the timesteps metadata's T), found "
                + "'cosine(T=40, s=0.01, maxBeta=0.999)'");
        check(run(concat(List.of("eval", "--weights", unknown.toString()), tail)), "prism: schedule metadata of " + unknown
                + " expected linear, cosine or vp, found 'sigmoid(T=40)'");
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static CliTest.Result run(List<String> base, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(base);
        args.addAll(List.of(extra));
        return BenchCommandTest.run(args.toArray(String[]::new));
    }

    @Test
    void badInputEndsWithOneLineNamingIt() throws Exception {
        check(eval("--samples", "1"), "prism: --samples expected >= 2 (a covariance needs two images), found 1");
        check(eval("--batch", "0"), "prism: --batch expected >= 1, found 0");
        check(eval("--steps", "2000"), "prism: --steps expected 1 to T = 1000, found 2000");
        Path missing = dir.resolve("missing.safetensors");
        check(eval("--classifier", missing.toString()), "prism: --classifier " + missing + ": no such file");
        Path unet = SampleCommandTest.weights();
        check(eval("--classifier", unet.toString()), "prism: --classifier " + unet + ": expected a classifier (metadata model = classifier), found 'unet'");
        check(eval("--size", "16"), "prism: --classifier " + judge + " was trained on 8x8 images; the samples are 16x16 (give --size 8, or a "
                + "classifier trained at that size)");
        check(eval("--data", dir.toString()), "prism: --data expected fashion-mnist or a folder of Fashion-MNIST IDX files "
                + "(train-images-idx3-ubyte[.gz], train-labels-..., t10k-images-..., t10k-labels-...), found '" + dir + "'");
        check(eval("--samples", "many"), "prism: Invalid value for option '--samples': expected an integer from -2147483648 to 2147483647,"
                + " found 'many' (see prism eval --help)");
        check(eval("--sampler", "euler"), "prism: --sampler expected ddpm or ddim, found 'euler'");
        check(eval("--eta", "-1"), "prism: --eta expected a finite number >= 0, found -1.0");
        check(eval("--schedule", "sigmoid"), "prism: --schedule expected linear, cosine or vp, found 'sigmoid'");
    }

    private static void check(CliTest.Result r, String expected) {
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(expected, r.err().strip());
        assertFalse(r.out().contains("FD "), "nothing measured: " + r.out());
    }
}
