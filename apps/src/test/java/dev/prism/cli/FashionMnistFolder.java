package dev.prism.cli;

import dev.prism.diffusion.data.IdxFiles;
import dev.prism.nn.ModelWeights;
import dev.prism.nn.models.Models;
import dev.prism.nn.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/** Small stand-ins for the tests of prism train --model classifier and prism eval: Fashion-MNIST-format data, a tiny classifier. */
final class FashionMnistFolder {
    /** Options of a classifier that runs in milliseconds on 8×8 images. */
    static final Map<String, String> TINY = Map.of("width", "4", "stages", "2", "convs", "1", "hidden", "6", "classes", "10", "groups", "2");

    private FashionMnistFolder() {
    }

    /**
     * Writes plain IDX files of {@code train} and {@code test} 28×28 images into {@code dir}: image i of class
     * i mod 10 is a bright bar whose row depends on the class, on seeded noise.
     */
    static Path write(Path dir, int train, int test) throws IOException {
        split(dir, "train", train, 1);
        split(dir, "t10k", test, 2);
        return dir;
    }

    private static void split(Path dir, String prefix, int n, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] pixels = new byte[n * 28 * 28];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int k = i % 10;
            labels[i] = (byte) k;
            for (int p = 0; p < 28 * 28; p++) {
                int y = p / 28;
                int v = (y / 3 == k ? 200 : 20) + r.nextInt(40);
                pixels[i * 28 * 28 + p] = (byte) v;
            }
        }
        IdxFiles.write(dir, prefix + "-images-idx3-ubyte", IdxFiles.idx(0x08, new int[] {n, 28, 28}, pixels));
        IdxFiles.write(dir, prefix + "-labels-idx1-ubyte", IdxFiles.idx(0x08, new int[] {n}, labels));
    }

    /**
     * A random {@link #TINY} classifier's weights, with the metadata prism eval reads. Its hidden layer is
     * scaled up 30-fold, so that its features spread enough for distances well above the printed precision.
     */
    static Path classifier(Path file, int imageSize) throws IOException {
        var m = Models.build("classifier", TINY, 5);
        for (var p : m.module().parameters()) {
            if (p.name().startsWith("hidden.")) {
                float[] d = p.value().data();
                for (int i = 0; i < d.length; i++) {
                    d[i] *= 30;
                }
            }
        }
        ModelWeights.save(m.module(), file, Map.of("model", "classifier", "options", Checkpoint.json(m.options()),
                "image_size", String.valueOf(imageSize)), false);
        return file;
    }
}
