package dev.prism.diffusion.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Image folders of PNG and JPEG files written here, with patterns whose resampled values are known. */
class ImageFolderTest {
    @TempDir
    Path dir;
    final SplittableRandom random = new SplittableRandom(14);

    /** A grey image of random 8-bit values, {@code g[y][x]}. */
    int[][] grey(int w, int h) {
        int[][] g = new int[h][w];
        for (int[] row : g) {
            for (int x = 0; x < w; x++) {
                row[x] = random.nextInt(256);
            }
        }
        return g;
    }

    static void writeGrey(Path file, int[][] g) throws IOException {
        BufferedImage img = new BufferedImage(g[0].length, g.length, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < g.length; y++) {
            for (int x = 0; x < g[0].length; x++) {
                img.getRaster().setSample(x, y, 0, g[y][x]);
            }
        }
        write(file, img);
    }

    /** Writes {@code rgb[c][y][x]} as an RGB image. */
    static void writeRgb(Path file, int[][][] rgb, String format) throws IOException {
        BufferedImage img = new BufferedImage(rgb[0][0].length, rgb[0].length, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < rgb[0].length; y++) {
            for (int x = 0; x < rgb[0][0].length; x++) {
                img.setRGB(x, y, rgb[0][y][x] << 16 | rgb[1][y][x] << 8 | rgb[2][y][x]);
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, format, file.toFile()), "javax.imageio writes " + format);
    }

    static void write(Path file, BufferedImage img) throws IOException {
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, "png", file.toFile()));
    }

    static float value(double byteValue) {
        return (float) (Math.floor(byteValue + 0.5) / 127.5 - 1);
    }

    static float[] image(DataSet set, int i) {
        float[] x = new float[set.imageLength()];
        Arrays.fill(x, Float.NaN);
        set.image(i, x, 0);
        return x;
    }

    @Test
    void aWideGreyImageIsCroppedToItsCentreSquareAndAreaAveraged() throws IOException {
        int[][] g = grey(12, 6);
        writeGrey(dir.resolve("wide.png"), g);
        ImageFolder set = ImageFolder.load(dir, 1, 3);
        assertEquals(1, set.size());
        assertEquals(3, set.height());
        assertEquals(3, set.width());
        float[] x = image(set, 0);
        for (int y = 0; y < 3; y++) {
            for (int c = 0; c < 3; c++) {
                int left = 3 + 2 * c; // the centred 6×6 square starts at column (12 − 6)/2 = 3
                double mean = (g[2 * y][left] + g[2 * y][left + 1] + g[2 * y + 1][left] + g[2 * y + 1][left + 1]) / 4.0;
                assertEquals(value(mean), x[y * 3 + c], "(" + y + ", " + c + ")");
            }
        }
    }

    @Test
    void aTallImageAtItsOwnWidthIsTheCentreRowsUnchanged() throws IOException {
        int[][] g = grey(4, 11);
        writeGrey(dir.resolve("tall.png"), g);
        float[] x = image(ImageFolder.load(dir, 1, 4), 0);
        for (int y = 0; y < 4; y++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(value(g[3 + y][c]), x[y * 4 + c], "(" + y + ", " + c + ")"); // top = ⌊(11 − 4)/2⌋ = 3
            }
        }
    }

    @Test
    void threeToTwoWeighsPartlyCoveredPixelsByTheCoveredFraction() throws IOException {
        int[][] g = grey(3, 3);
        writeGrey(dir.resolve("g.png"), g);
        float[] x = image(ImageFolder.load(dir, 1, 2), 0);
        // output pixel 0 covers source [0, 1.5): pixel 0 whole, pixel 1 half; output 1 covers [1.5, 3)
        double[][] w = {{1 / 1.5, 0.5 / 1.5, 0}, {0, 0.5 / 1.5, 1 / 1.5}};
        for (int oy = 0; oy < 2; oy++) {
            for (int ox = 0; ox < 2; ox++) {
                double v = 0;
                for (int y = 0; y < 3; y++) {
                    for (int c = 0; c < 3; c++) {
                        v += w[oy][y] * w[ox][c] * g[y][c];
                    }
                }
                assertEquals(value(v), x[oy * 2 + ox], "(" + oy + ", " + ox + ")");
            }
        }
    }

    @Test
    void enlargingRepeatsPixels() throws IOException {
        int[][] g = grey(2, 2);
        writeGrey(dir.resolve("small.png"), g);
        float[] x = image(ImageFolder.load(dir, 1, 4), 0);
        for (int y = 0; y < 4; y++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(value(g[y / 2][c / 2]), x[y * 4 + c]);
            }
        }
    }

    @Test
    void rgbImagesArePlanarAndCroppedTheSameInEveryChannel() throws IOException {
        int[][][] rgb = {grey(10, 6), grey(10, 6), grey(10, 6)};
        writeRgb(dir.resolve("rgb.png"), rgb, "png");
        ImageFolder same = ImageFolder.load(dir, 3, 6);
        ImageFolder half = ImageFolder.load(dir, 3, 3);
        assertEquals(3, same.channels());
        float[] a = image(same, 0);
        float[] b = image(half, 0);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 6; x++) {
                    assertEquals(value(rgb[c][y][2 + x]), a[c * 36 + y * 6 + x], "channel " + c + " (" + y + ", " + x + ")");
                }
            }
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 3; x++) {
                    int[][] p = rgb[c];
                    double mean = (p[2 * y][2 + 2 * x] + p[2 * y][3 + 2 * x] + p[2 * y + 1][2 + 2 * x] + p[2 * y + 1][3 + 2 * x]) / 4.0;
                    assertEquals(value(mean), b[c * 9 + y * 3 + x], "channel " + c + " (" + y + ", " + x + ")");
                }
            }
        }
    }

    @Test
    void colourBecomesLumaAndGreyIsCopiedToThreeChannels() throws IOException {
        int[][][] rgb = {grey(2, 2), grey(2, 2), grey(2, 2)};
        writeRgb(dir.resolve("colour").resolve("c.png"), rgb, "png");
        float[] luma = image(ImageFolder.load(dir.resolve("colour"), 1, 2), 0);
        for (int k = 0; k < 4; k++) {
            int y = k / 2, x = k % 2;
            assertEquals(value(0.299 * rgb[0][y][x] + 0.587 * rgb[1][y][x] + 0.114 * rgb[2][y][x]), luma[k], "pixel " + k);
        }
        int[][] g = grey(2, 2);
        writeGrey(dir.resolve("grey").resolve("g.png"), g);
        float[] three = image(ImageFolder.load(dir.resolve("grey"), 3, 2), 0);
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < 4; k++) {
                assertEquals(value(g[k / 2][k % 2]), three[c * 4 + k]);
            }
        }
    }

    @Test
    void alphaIsDroppedAndSixteenBitGreyIsScaledTo8Bits() throws IOException {
        BufferedImage argb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 10 << 16 | 20 << 8 | 30); // alpha 0: fully transparent
        write(dir.resolve("a").resolve("argb.png"), argb);
        float[] x = image(ImageFolder.load(dir.resolve("a"), 3, 1), 0);
        assertEquals(value(10), x[0]);
        assertEquals(value(20), x[1]);
        assertEquals(value(30), x[2]);

        BufferedImage wide = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        wide.getRaster().setSample(0, 0, 0, 257 * 100);
        wide.getRaster().setSample(1, 0, 0, 65535);
        write(dir.resolve("b").resolve("g16.png"), wide);
        BufferedImage back = ImageIO.read(dir.resolve("b").resolve("g16.png").toFile());
        assertEquals(16, back.getColorModel().getComponentSize(0), "the file really is 16-bit");
        // 2×1 crops to its left 1×1 pixel
        assertEquals(value(100), image(ImageFolder.load(dir.resolve("b"), 1, 1), 0)[0]);
    }

    @Test
    void jpegFilesAreRead() throws IOException {
        int[][][] rgb = new int[3][16][16];
        for (int c = 0; c < 3; c++) {
            for (int[] row : rgb[c]) {
                Arrays.fill(row, 40 + 80 * c);
            }
        }
        writeRgb(dir.resolve("photo.JPEG"), rgb, "jpeg");
        float[] x = image(ImageFolder.load(dir, 3, 8), 0);
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < 64; k++) {
                // JPEG is lossy; a flat colour comes back within a few levels
                assertEquals(value(40 + 80 * c), x[c * 64 + k], 4 / 127.5, "channel " + c + " pixel " + k);
            }
        }
    }

    @Test
    void filesAreFoundRecursivelyInPathOrderAndHiddenOrOtherFilesAreLeftOut() throws IOException {
        String[] names = {"b.png", "a.png", "sub/c.png", "sub/deeper/d.png", "Z.PNG", "sub/e.jpg"};
        for (int k = 0; k < names.length; k++) {
            int[][] g = {{10 * (k + 1)}};
            if (names[k].endsWith(".jpg")) {
                int[][][] rgb = new int[3][8][8];
                for (int[][] plane : rgb) {
                    for (int[] row : plane) {
                        Arrays.fill(row, 10 * (k + 1));
                    }
                }
                writeRgb(dir.resolve(names[k]), rgb, "jpeg");
            } else {
                writeGrey(dir.resolve(names[k]), g);
            }
        }
        writeGrey(dir.resolve(".hidden.png"), new int[][] {{255}});
        writeGrey(dir.resolve(".git").resolve("x.png"), new int[][] {{255}});
        Files.writeString(dir.resolve("notes.txt"), "not an image");
        Files.createDirectories(dir.resolve("folder.png"));

        ImageFolder set = ImageFolder.load(dir, 1, 1);
        String[] order = {"Z.PNG", "a.png", "b.png", "sub/c.png", "sub/deeper/d.png", "sub/e.jpg"};
        assertEquals(order.length, set.size());
        for (int i = 0; i < order.length; i++) {
            assertEquals(dir.resolve(order[i]), set.file(i));
            int k = List.of(names).indexOf(order[i]);
            assertEquals(value(10 * (k + 1)), image(set, i)[0], 3 / 127.5, order[i]);
        }
        assertEquals(0, set.skipped());
        assertFalse(set.hasLabels());
    }

    @Test
    void anUnreadableImageFailsTheLoadNamingTheFile() throws IOException {
        writeGrey(dir.resolve("good.png"), grey(4, 4));
        Files.writeString(dir.resolve("junk.png"), "this is not a PNG");
        assertEquals(dir.resolve("junk.png") + ": expected a PNG or JPEG image, found content no javax.imageio reader recognises;"
                        + " to leave such files out, ask to skip unreadable images",
                assertThrows(DataSetException.class, () -> ImageFolder.load(dir, 1, 4)).getMessage());

        Files.delete(dir.resolve("junk.png"));
        writeGrey(dir.resolve("big.png"), grey(64, 64));
        byte[] png = Files.readAllBytes(dir.resolve("big.png"));
        Files.write(dir.resolve("big.png"), Arrays.copyOf(png, png.length / 2));
        String m = assertThrows(DataSetException.class, () -> ImageFolder.load(dir, 1, 4)).getMessage();
        assertTrue(m.startsWith(dir.resolve("big.png") + ": expected a PNG or JPEG image javax.imageio can decode, found a broken one ("), m);
    }

    @Test
    void aTruncatedJpegIsUnreadableThoughJavaxImageioDecodesIt() throws IOException {
        int[][][] rgb = {grey(64, 64), grey(64, 64), grey(64, 64)};
        Path photo = dir.resolve("photo.jpg");
        writeRgb(photo, rgb, "jpeg");
        byte[] jpeg = Files.readAllBytes(photo);
        Files.write(photo, Arrays.copyOf(jpeg, jpeg.length / 2));
        assertTrue(ImageIO.read(photo.toFile()) != null, "ImageIO.read returns the truncated image, filled with grey");
        String m = assertThrows(DataSetException.class, () -> ImageFolder.load(dir, 3, 4)).getMessage();
        assertTrue(m.startsWith(photo + ": expected an intact image, found one javax.imageio decodes only with warnings ("), m);
        assertTrue(m.contains("premature end of data segment"), m);
    }

    @Test
    void theContentDecidesTheFormatNotTheName() throws IOException {
        int[][][] rgb = new int[3][8][8];
        for (int[][] plane : rgb) {
            for (int[] row : plane) {
                Arrays.fill(row, 200);
            }
        }
        writeRgb(dir.resolve("really-a-jpeg.png"), rgb, "jpeg");
        assertEquals(value(200), image(ImageFolder.load(dir, 1, 2), 0)[0], 3 / 127.5);
    }

    @Test
    void skippingUnreadableImagesCountsThemInOneWarningLine() throws IOException {
        int[][] g = grey(2, 2);
        writeGrey(dir.resolve("b.png"), g);
        writeGrey(dir.resolve("d.png"), g);
        Files.writeString(dir.resolve("a.png"), "junk");
        Files.writeString(dir.resolve("c.jpg"), "junk");
        List<String> lines = new ArrayList<>();
        ImageFolder set = ImageFolder.load(dir, 1, 2, ImageFolder.Unreadable.SKIP, lines::add);
        assertEquals(2, set.size());
        assertEquals(2, set.skipped());
        assertEquals(dir.resolve("b.png"), set.file(0));
        assertEquals(dir.resolve("d.png"), set.file(1));
        assertEquals(List.of("image folder " + dir + ": skipped 2 unreadable image files of 4 (first: " + dir.resolve("a.png")
                + ": expected a PNG or JPEG image, found content no javax.imageio reader recognises)"), lines);
        float[] x = image(set, 1);
        for (int k = 0; k < 4; k++) {
            assertEquals(value(g[k / 2][k % 2]), x[k]);
        }
    }

    @Test
    void aFolderWithNothingReadableIsAnError() throws IOException {
        Files.writeString(dir.resolve("a.png"), "junk");
        assertEquals(dir + ": expected at least one readable image, found 1 unreadable image files (first: " + dir.resolve("a.png")
                        + ": expected a PNG or JPEG image, found content no javax.imageio reader recognises)",
                assertThrows(DataSetException.class,
                        () -> ImageFolder.load(dir, 1, 2, ImageFolder.Unreadable.SKIP, line -> { })).getMessage());
    }

    @Test
    void emptyOrMissingFolders() throws IOException {
        String none = ": expected PNG or JPEG images (*.png, *.jpg, *.jpeg, in it or its subdirectories), found none";
        assertEquals(dir + none, assertThrows(DataSetException.class, () -> ImageFolder.load(dir, 3, 8)).getMessage());
        Files.writeString(dir.resolve("readme.txt"), "no images here");
        Files.createDirectories(dir.resolve("sub"));
        assertEquals(dir + none, assertThrows(DataSetException.class, () -> ImageFolder.load(dir, 3, 8)).getMessage());
        assertEquals(dir.resolve("nowhere") + ": directory not found",
                assertThrows(DataSetException.class, () -> ImageFolder.load(dir.resolve("nowhere"), 3, 8)).getMessage());
        assertEquals(dir.resolve("readme.txt") + ": expected a directory of PNG or JPEG images, found a file",
                assertThrows(DataSetException.class, () -> ImageFolder.load(dir.resolve("readme.txt"), 3, 8)).getMessage());
    }

    @Test
    void badArguments() throws IOException {
        writeGrey(dir.resolve("g.png"), grey(2, 2));
        assertEquals("image folder: argument 'channels' expected 1 (grey) or 3 (RGB), found 2",
                assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(dir, 2, 8)).getMessage());
        assertEquals("image folder: argument 'size' expected >= 1, found 0",
                assertThrows(IllegalArgumentException.class, () -> ImageFolder.load(dir, 1, 0)).getMessage());
        ImageFolder set = ImageFolder.load(dir, 1, 2);
        assertEquals("image folder " + dir + ": argument 'index' expected 0..0, found 1",
                assertThrows(IllegalArgumentException.class, () -> set.image(1, new float[4], 0)).getMessage());
        assertEquals("image folder " + dir + ": argument 'index' expected 0..0, found 1",
                assertThrows(IllegalArgumentException.class, () -> set.file(1)).getMessage());
        assertThrows(UnsupportedOperationException.class, () -> set.label(0));
    }
}
