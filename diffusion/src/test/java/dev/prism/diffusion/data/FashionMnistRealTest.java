package dev.prism.diffusion.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The installed Fashion-MNIST (Debian's dataset-fashion-mnist) against an independent reading of the same
 * files: java.util.zip and byte sums here, no code of the reader.
 */
class FashionMnistRealTest {

    @BeforeAll
    static void installed() {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIRECTORY),
                FashionMnist.DEFAULT_DIRECTORY + " is absent: " + FashionMnist.INSTALL_HINT);
    }

    /** The decompressed file minus its header. */
    static byte[] body(String name, int header) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(FashionMnist.DEFAULT_DIRECTORY.resolve(name)))) {
            new DataInputStream(in).skipNBytes(header);
            return in.readAllBytes();
        }
    }

    @Test
    void trainingSplitMatchesAnIndependentReading() throws IOException {
        check(FashionMnist.Split.TRAIN, 60000);
    }

    @Test
    void testSplitMatchesAnIndependentReading() throws IOException {
        check(FashionMnist.Split.TEST, 10000);
    }

    private static void check(FashionMnist.Split split, int count) throws IOException {
        byte[] pixels = body(split.prefix() + "-images-idx3-ubyte.gz", 16);
        byte[] labels = body(split.prefix() + "-labels-idx1-ubyte.gz", 8);
        assertEquals(count * 784, pixels.length);
        assertEquals(count, labels.length);

        FashionMnist raw = FashionMnist.load(FashionMnist.DEFAULT_DIRECTORY, split, 28);
        FashionMnist padded = FashionMnist.load(split);
        assertEquals(count, raw.size());
        assertEquals(count, padded.size());
        assertEquals(32, padded.height());

        long byteSum = 0;
        for (byte b : pixels) {
            byteSum += b & 0xFF;
        }
        // mean of x = b/127.5 − 1 over all pixels; padding adds (32² − 28²) pixels of −1 per image
        double expectedRaw = byteSum / 127.5 / pixels.length - 1;
        double expectedPadded = (expectedRaw * 784 - (1024 - 784)) / 1024;

        int[] perClass = new int[10];
        int[] expectedPerClass = new int[10];
        double sumRaw = 0;
        double sumPadded = 0;
        float[] r = new float[784];
        float[] p = new float[1024];
        for (int i = 0; i < count; i++) {
            raw.image(i, r, 0);
            padded.image(i, p, 0);
            for (float v : r) {
                sumRaw += v;
            }
            for (float v : p) {
                sumPadded += v;
            }
            perClass[raw.label(i)]++;
            expectedPerClass[labels[i]]++;
            assertEquals(labels[i], padded.label(i));
        }
        assertEquals(expectedRaw, sumRaw / (count * 784.0), 1e-6, "mean pixel, 28×28");
        assertEquals(expectedPadded, sumPadded / (count * 1024.0), 1e-6, "mean pixel, 32×32");
        for (int c = 0; c < 10; c++) {
            assertEquals(expectedPerClass[c], perClass[c], "images of class " + c);
            assertEquals(count / 10, perClass[c], "Fashion-MNIST is balanced: class " + c);
        }
        // the first and the last image, pixel by pixel
        for (int i : new int[] {0, count - 1}) {
            raw.image(i, r, 0);
            padded.image(i, p, 0);
            for (int k = 0; k < 784; k++) {
                float expected = (float) ((pixels[i * 784 + k] & 0xFF) / 127.5 - 1);
                assertEquals(expected, r[k], "image " + i + " pixel " + k);
                assertEquals(expected, p[(k / 28 + 2) * 32 + k % 28 + 2], "padded image " + i + " pixel " + k);
            }
        }
        assertTrue(expectedRaw > -1 && expectedRaw < 0, "garments on black: mean " + expectedRaw);
    }
}
