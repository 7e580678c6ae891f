package dev.prism.diffusion.data;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.prism.diffusion.data.IdxFiles.gzip;
import static dev.prism.diffusion.data.IdxFiles.idx;
import static dev.prism.diffusion.data.IdxFiles.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fashion-MNIST's reader on small IDX files written here: what it returns, and every error it names. */
class FashionMnistFilesTest {
    static final int N = 3;
    static final String IMAGES = "train-images-idx3-ubyte.gz";
    static final String LABELS = "train-labels-idx1-ubyte.gz";

    @TempDir
    Path dir;
    byte[] pixels;
    byte[] labels = {0, 9, 4};

    @BeforeEach
    void pixels() {
        pixels = new byte[N * 28 * 28];
        new SplittableRandom(14).nextBytes(pixels);
    }

    byte[] imageFile() {
        return idx(0x08, new int[] {N, 28, 28}, pixels);
    }

    byte[] labelFile() {
        return idx(0x08, new int[] {N}, labels);
    }

    void writeBoth() {
        write(dir, IMAGES, imageFile());
        write(dir, LABELS, labelFile());
    }

    String failure(int size) {
        return assertThrows(DataSetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, size)).getMessage();
    }

    String at(String name) {
        return dir.resolve(name) + ": ";
    }

    @Test
    void rawImagesAreTheBytesScaledToMinusOneOne() {
        writeBoth();
        FashionMnist set = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 28);
        assertEquals(N, set.size());
        assertEquals(1, set.channels());
        assertEquals(28, set.height());
        assertEquals(28, set.width());
        float[] x = new float[2 + 28 * 28];
        x[0] = 7;
        x[x.length - 1] = 7;
        for (int i = 0; i < N; i++) {
            Arrays.fill(x, 1, x.length - 1, Float.NaN);
            set.image(i, x, 1);
            for (int k = 0; k < 28 * 28; k++) {
                assertEquals((float) ((pixels[i * 784 + k] & 0xFF) / 127.5 - 1), x[1 + k], "image " + i + " pixel " + k);
            }
            assertEquals(labels[i], set.label(i));
        }
        assertEquals(7, x[0], "nothing before the offset is written");
        assertEquals(7, x[x.length - 1], "nothing after the image is written");
    }

    @Test
    void byteZeroIsMinusOneAnd255IsOne() {
        Arrays.fill(pixels, (byte) 0);
        pixels[5] = (byte) 255;
        writeBoth();
        float[] x = new float[784];
        FashionMnist.load(dir, FashionMnist.Split.TRAIN, 28).image(0, x, 0);
        assertEquals(-1f, x[0]);
        assertEquals(1f, x[5]);
    }

    @ParameterizedTest
    @ValueSource(ints = {29, 32, 33, 40})
    void largerSizesCentreTheImageOnBackground(int size) {
        writeBoth();
        FashionMnist raw = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 28);
        FashionMnist padded = FashionMnist.load(dir, FashionMnist.Split.TRAIN, size);
        assertEquals(size, padded.height());
        assertEquals(size, padded.width());
        int pad = (size - 28) / 2;
        float[] r = new float[784];
        float[] p = new float[size * size];
        for (int i = 0; i < N; i++) {
            raw.image(i, r, 0);
            padded.image(i, p, 0);
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    boolean inside = y >= pad && y < pad + 28 && x >= pad && x < pad + 28;
                    float expected = inside ? r[(y - pad) * 28 + x - pad] : -1f;
                    assertEquals(expected, p[y * size + x], "image " + i + " at (" + y + ", " + x + ")");
                }
            }
        }
    }

    @Test
    void size14AveragesTwoByTwoBlocks() {
        writeBoth();
        FashionMnist set = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 14);
        float[] x = new float[14 * 14];
        set.image(2, x, 0);
        for (int y = 0; y < 14; y++) {
            for (int c = 0; c < 14; c++) {
                int o = 2 * 784 + 2 * y * 28 + 2 * c;
                int sum = (pixels[o] & 0xFF) + (pixels[o + 1] & 0xFF) + (pixels[o + 28] & 0xFF) + (pixels[o + 29] & 0xFF);
                int mean = (sum + 2) / 4; // round half up
                assertEquals((float) (mean / 127.5 - 1), x[y * 14 + c], "(" + y + ", " + c + ")");
            }
        }
    }

    @Test
    void plainFilesAreReadWhenThereIsNoGzip() {
        write(dir, "t10k-images-idx3-ubyte", imageFile());
        write(dir, "t10k-labels-idx1-ubyte", labelFile());
        FashionMnist set = FashionMnist.load(dir, FashionMnist.Split.TEST, 28);
        assertSame(FashionMnist.Split.TEST, set.split());
        assertEquals(N, set.size());
        assertEquals(9, set.label(1));
    }

    @ParameterizedTest
    @CsvSource({
            "0, 'offset 0: expected 4 bytes of IDX magic number, found 0'",
            "2, 'offset 0: expected 4 bytes of IDX magic number, found 2'",
            "4, 'offset 4: expected 12 bytes of dimension sizes (3 × 4-byte big-endian), found 0'",
            "9, 'offset 4: expected 12 bytes of dimension sizes (3 × 4-byte big-endian), found 5'",
            "16, 'offset 16: expected 2352 bytes of pixels (3×28×28), found 0'",
            "1220, 'offset 16: expected 2352 bytes of pixels (3×28×28), found 1204'",
            "2367, 'offset 16: expected 2352 bytes of pixels (3×28×28), found 2351'",
    })
    void truncatedImageFilesNameTheOffsetAndTheShortfall(int length, String problem) {
        byte[] cut = Arrays.copyOf(imageFile(), length);
        for (String name : new String[] {IMAGES, "train-images-idx3-ubyte"}) {
            write(dir, name, cut);
            write(dir, LABELS, labelFile());
            assertEquals(at(IMAGES.equals(name) ? IMAGES : name) + problem, failure(28), name);
            deleteAll();
        }
    }

    @Test
    void aTruncatedLabelFileNamesItsOffset() {
        write(dir, IMAGES, imageFile());
        write(dir, LABELS, Arrays.copyOf(labelFile(), 10));
        assertEquals(at(LABELS) + "offset 8: expected 3 bytes of labels (3), found 2", failure(32));
    }

    @Test
    void aBrokenGzipStreamNamesWhereItBrokeAndHowMuchCameBefore() throws IOException {
        byte[] gz = gzip(imageFile());
        Files.write(dir.resolve(IMAGES), Arrays.copyOf(gz, gz.length / 2));
        write(dir, LABELS, labelFile());
        DataSetException e = assertThrows(DataSetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 28));
        assertTrue(e.offset() >= 16 && e.offset() < 16 + 2352, "offset " + e.offset());
        String prefix = at(IMAGES) + "offset " + e.offset() + ": the gzip data is broken here (";
        String suffix = "): expected 2352 bytes of pixels (3×28×28) from offset 16, found " + (e.offset() - 16);
        assertTrue(e.getMessage().startsWith(prefix) && e.getMessage().endsWith(suffix), e.getMessage());
        assertTrue(e.getCause() instanceof IOException, String.valueOf(e.getCause()));
    }

    @Test
    void aCorruptGzipTrailerIsReported() throws IOException {
        byte[] gz = gzip(imageFile());
        gz[gz.length - 6] ^= 0x5A; // inside the CRC-32 of the trailer
        Files.write(dir.resolve(IMAGES), gz);
        write(dir, LABELS, labelFile());
        DataSetException e = assertThrows(DataSetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 28));
        assertEquals(16 + 2352, e.offset());
        assertEquals(at(IMAGES) + "offset 2368: the gzip data is broken here (Corrupt GZIP trailer): after 2352 bytes of pixels (3×28×28)",
                e.getMessage());
    }

    @Test
    void aBrokenGzipHeaderIsReported() throws IOException {
        Files.write(dir.resolve(IMAGES), new byte[] {0x1F, (byte) 0x8B, 8});
        write(dir, LABELS, labelFile());
        String m = failure(28);
        assertTrue(m.startsWith(at(IMAGES) + "offset 0: expected a gzip header, found a broken one ("), m);
    }

    @Test
    void badMagicNumber() {
        byte[] f = imageFile();
        f[0] = 8;
        f[1] = 3;
        write(dir, IMAGES, f);
        write(dir, LABELS, labelFile());
        assertEquals(at(IMAGES) + "offset 0: expected an IDX magic number starting with two zero bytes, found 0x08030803", failure(28));
    }

    @Test
    void wrongDataType() {
        write(dir, IMAGES, idx(0x0D, new int[] {N, 28, 28}, pixels));
        write(dir, LABELS, labelFile());
        assertEquals(at(IMAGES) + "offset 2: expected data type 0x08 (unsigned byte), found 0x0D (float)", failure(28));
    }

    @Test
    void wrongDimensionCount() {
        writeBoth();
        write(dir, LABELS, idx(0x08, new int[] {N, 1}, labels));
        assertEquals(at(LABELS) + "offset 3: expected 1 dimension, found 2", failure(28));
        write(dir, IMAGES, idx(0x08, new int[] {N, 784}, pixels));
        assertEquals(at(IMAGES) + "offset 3: expected 3 dimensions, found 2", failure(28));
    }

    @Test
    void sizesBelowOne() {
        write(dir, LABELS, labelFile());
        write(dir, IMAGES, idx(0x08, new int[] {0, 28, 28}, new byte[0]));
        assertEquals(at(IMAGES) + "offset 4: expected size of dimension 0 >= 1, found 0", failure(28));
        write(dir, IMAGES, idx(0x08, new int[] {N, -28, 28}, pixels));
        assertEquals(at(IMAGES) + "offset 8: expected size of dimension 1 >= 1, found -28", failure(28));
    }

    @Test
    void sizesBeyondOneArray() {
        write(dir, LABELS, labelFile());
        write(dir, IMAGES, idx(0x08, new int[] {1 << 20, 1 << 12, 28}, pixels));
        assertEquals(at(IMAGES) + "offset 4: expected at most 2147483639 bytes of pixels (the most one Java array holds),"
                + " found sizes 1048576×4096×..., more than that", failure(28));
    }

    @Test
    void imagesThatAreNot28By28() {
        write(dir, IMAGES, idx(0x08, new int[] {N, 27, 28}, Arrays.copyOf(pixels, N * 27 * 28)));
        write(dir, LABELS, labelFile());
        assertEquals(at(IMAGES) + "offset 8: expected 28×28 images, found 27×28", failure(28));
    }

    @Test
    void bytesAfterTheData() {
        byte[] f = imageFile();
        write(dir, IMAGES, Arrays.copyOf(f, f.length + 5));
        write(dir, LABELS, labelFile());
        assertEquals(at(IMAGES) + "offset 2368: expected the end of the file after 2352 bytes of pixels (3×28×28), found 5 more bytes",
                failure(28));
    }

    @Test
    void labelOutOfRange() {
        labels[1] = 10;
        writeBoth();
        assertEquals(at(LABELS) + "offset 9: expected a label in 0..9, found 10 (label of image 1)", failure(28));
        labels[1] = (byte) 200;
        writeBoth();
        assertEquals(at(LABELS) + "offset 9: expected a label in 0..9, found 200 (label of image 1)", failure(28));
    }

    @Test
    void moreOrFewerLabelsThanImages() {
        write(dir, IMAGES, imageFile());
        write(dir, LABELS, idx(0x08, new int[] {N - 1}, Arrays.copyOf(labels, N - 1)));
        assertEquals(at(LABELS) + "offset 4: expected 3 labels (the image count of train-images-idx3-ubyte.gz), found 2", failure(28));
        write(dir, LABELS, idx(0x08, new int[] {N + 1}, Arrays.copyOf(labels, N + 1)));
        assertEquals(at(LABELS) + "offset 4: expected 3 labels (the image count of train-images-idx3-ubyte.gz), found 4", failure(28));
    }

    @Test
    void missingFilesAndDirectories() {
        write(dir, IMAGES, imageFile());
        assertEquals(at(LABELS) + "file not found (nor train-labels-idx1-ubyte)", failure(28));
        Path missing = dir.resolve("nowhere");
        assertEquals(missing + ": directory not found; expected a directory holding train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz",
                assertThrows(DataSetException.class, () -> FashionMnist.load(missing, FashionMnist.Split.TRAIN, 32)).getMessage());
        DataSetException e = assertThrows(DataSetException.class, () -> FashionMnist.load(dir.resolve(IMAGES), FashionMnist.Split.TRAIN, 32));
        assertEquals(at(IMAGES) + "not a directory; expected a directory holding train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz",
                e.getMessage());
        assertEquals(DataSetException.NO_OFFSET, e.offset());
    }

    @Test
    void theDefaultDirectorySaysHowToInstallTheDataSet() {
        Path missing = dir.resolve("fashion-mnist");
        assertEquals(missing + ": directory not found; Fashion-MNIST comes from Debian's package dataset-fashion-mnist:"
                        + " install it with scripts/setup-machine.sh data (or apt-get install dataset-fashion-mnist)",
                assertThrows(DataSetException.class, () -> FashionMnist.load(missing, FashionMnist.Split.TRAIN, 32, true)).getMessage());
        write(dir, LABELS, labelFile());
        assertEquals(at(IMAGES) + "file not found (nor train-images-idx3-ubyte); " + FashionMnist.INSTALL_HINT,
                assertThrows(DataSetException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 32, true)).getMessage());
    }

    @Test
    void badArguments() {
        writeBoth();
        assertEquals("Fashion-MNIST: argument 'size' expected >= 1, found 0",
                assertThrows(IllegalArgumentException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 0)).getMessage());
        assertEquals("size expected at most 26754 for Fashion-MNIST's 3 images in one array of bytes, found 26755",
                assertThrows(IllegalArgumentException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 26755)).getMessage());
        FashionMnist set = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 32);
        assertEquals("Fashion-MNIST train: argument 'index' expected 0..2, found 3",
                assertThrows(IllegalArgumentException.class, () -> set.image(3, new float[1024], 0)).getMessage());
        assertEquals("Fashion-MNIST train: argument 'dst' expected room for 1024 floats at offset 1, found length 1024",
                assertThrows(IllegalArgumentException.class, () -> set.image(0, new float[1024], 1)).getMessage());
        assertEquals("Fashion-MNIST train: argument 'index' expected 0..2, found -1",
                assertThrows(IllegalArgumentException.class, () -> set.label(-1)).getMessage());
    }

    private void deleteAll() {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
