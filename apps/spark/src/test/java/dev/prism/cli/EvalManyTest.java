package dev.prism.cli;

import dev.prism.backend.Backend;
import dev.prism.backend.JvmBackend;
import dev.prism.diffusion.data.DataSet;
import dev.prism.diffusion.data.FashionMnist;
import dev.prism.diffusion.data.IdxFiles;
import dev.prism.diffusion.eval.ClassifierFeatures;
import dev.prism.diffusion.eval.FeatureStatistics;
import dev.prism.diffusion.eval.FrechetDistance;
import dev.prism.spark.Manifest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.Raster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code prism eval-many} over a {@code sample-many} manifest, against the same distance computed here in one process. */
class EvalManyTest {
    @TempDir
    static Path tmp;
    static Path samples;
    static Path data;

    @BeforeAll
    static void sampleAndData() throws Exception {
        samples = tmp.resolve("samples");
        SampleManyTest.Result r = SampleManyTest.run(SampleManyTest.BASE, "--seeds", "0..11", "--out", samples.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        data = Files.createDirectories(tmp.resolve("fmnist"));
        split(data, "train", 10, 1);
        split(data, "t10k", 40, 2);
    }

    private static void split(Path dir, String prefix, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] pixels = new byte[n * 28 * 28];
        byte[] labels = new byte[n];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) r.nextInt(256);
        }
        IdxFiles.write(dir, prefix + "-images-idx3-ubyte", IdxFiles.idx(0x08, new int[] {n, 28, 28}, pixels));
        IdxFiles.write(dir, prefix + "-labels-idx1-ubyte", IdxFiles.idx(0x08, new int[] {n}, labels));
    }

    static double fd(String out) {
        Matcher m = Pattern.compile("FD +([0-9.]+) +samples: N 12 ").matcher(out);
        assertTrue(m.find(), out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void theDistributedDistanceIsTheDistanceOfTheManifestsImagesComputedInOneProcess() throws Exception {
        SampleManyTest.Result three = SampleManyTest.run(List.of("eval-many", "--master", "local[2]", "--threads", "1"), "--manifest",
                samples.resolve(Manifest.FILE).toString(), "--data", data.toString(), "--partitions", "3", "--batch", "5");
        assertEquals(0, three.code(), three.out() + three.err());
        assertTrue(three.out().contains("12 images of " + samples.resolve(Manifest.FILE) + " in 3 partitions on local[2]"), three.out());
        // prism eval's floor and ceiling for the same N, computed on the driver
        assertTrue(Pattern.compile("FD +[0-9.]+ +floor: N 12 training images \\(seed 0; on the driver\\)").matcher(three.out()).find(), three.out());
        assertTrue(Pattern.compile("FD +[0-9.]+ +ceiling: N 12 images of uniform noise in \\[-1, 1\\] \\(seed 0; on the driver\\)")
                .matcher(three.out()).find(), three.out());

        // The same images, features and distance without Spark.
        EvalCommand.Judge judge = EvalCommand.loadClassifier(null);
        List<Manifest.Record> records = Manifest.readFile(samples.resolve(Manifest.FILE));
        float[] images = new float[12 * 32 * 32];
        for (int i = 0; i < 12; i++) {
            Raster r = ImageIO.read(samples.resolve(records.get(i).file()).toFile()).getRaster();
            int[] p = r.getPixels(0, 0, 32, 32, (int[]) null);
            for (int k = 0; k < p.length; k++) {
                images[i * 1024 + k] = (float) (p[k] / 127.5 - 1.0);
            }
        }
        DataSet test = TrainCommand.openData(data.toString(), 1, 32, FashionMnist.Split.TEST);
        double expected;
        try (Backend b = JvmBackend.parallel(1); ClassifierFeatures f = new ClassifierFeatures(b, judge.model(), 12, 32, 32)) {
            FeatureStatistics gen = f.extract((first, count, dst) -> System.arraycopy(images, first * 1024, dst, 0, count * 1024), 12, null)
                    .statistics();
            FeatureStatistics ref = f.extract(ClassifierFeatures.of(test), test.size(), null).statistics();
            expected = FrechetDistance.between(gen, ref);
        }
        assertEquals(String.format(Locale.ROOT, "%.2f", expected), String.format(Locale.ROOT, "%.2f", fd(three.out())), three.out());
        assertTrue(expected > 1, "a distance well above the printed precision: " + expected);

        SampleManyTest.Result one = SampleManyTest.run(List.of("eval-many", "--master", "local[2]", "--threads", "1"), "--manifest",
                samples.resolve(Manifest.FILE).toString(), "--data", data.toString(), "--partitions", "1");
        assertEquals(0, one.code(), one.out() + one.err());
        assertEquals(fd(three.out()), fd(one.out()));
    }

    @Test
    void anImageThatNoLongerMatchesTheManifestIsNamedWithItsPartitionAndSeed() throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("changed"));
        try (var s = Files.list(samples)) {
            for (Path f : s.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        Files.write(copy.resolve("seed-7.png"), new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        SampleManyTest.Result r = SampleManyTest.run(List.of("eval-many", "--master", "local[2]", "--threads", "1"), "--manifest",
                copy.resolve(Manifest.FILE).toString(), "--data", data.toString(), "--partitions", "2");
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().startsWith("prism: Spark job failed: partition 1 (seeds 6..11) failed at seed 7 (seed-7.png) on executor driver on "),
                r.err());
        assertTrue(r.err().contains(": " + copy.resolve("seed-7.png") + ": expected the manifest's SHA-256 "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
