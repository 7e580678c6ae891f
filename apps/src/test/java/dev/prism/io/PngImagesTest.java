package dev.prism.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PngImagesTest {
    @TempDir
    Path dir;

    static Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", "deepprism-unet-64");
        m.put("weights", "sha256:9f86d081884c7d659a2feaa0c55ad015");
        m.put("sampler", "ddim(steps=25, eta=0.0, leading)");
        m.put("steps", "25");
        m.put("seed", "1234");
        m.put("backend", "jvm (2 threads)");
        return m;
    }

    /** The tEXt entries as javax.imageio's PNG reader reports them, independently of PngImages.readText. */
    static Map<String, String> textChunks(Path png) throws IOException {
        return chunks(png, "tEXtEntry", "value");
    }

    /** The iTXt entries as javax.imageio's PNG reader reports them. */
    static Map<String, String> internationalChunks(Path png) throws IOException {
        return chunks(png, "iTXtEntry", "text");
    }

    private static Map<String, String> chunks(Path png, String entry, String valueAttribute) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(png.toFile())) {
            ImageReader reader = ImageIO.getImageReadersByFormatName("png").next();
            reader.setInput(in);
            Node root = reader.getImageMetadata(0).getAsTree("javax_imageio_png_1.0");
            Map<String, String> out = new LinkedHashMap<>();
            NodeList chunks = ((org.w3c.dom.Element) root).getElementsByTagName(entry);
            for (int i = 0; i < chunks.getLength(); i++) {
                var a = chunks.item(i).getAttributes();
                out.put(a.getNamedItem("keyword").getNodeValue(), a.getNamedItem(valueAttribute).getNodeValue());
            }
            reader.dispose();
            return out;
        }
    }

    @Test
    void valuesBeyondLatin1GoIntoUtf8TextChunksAndReadBack() throws Exception {
        Path png = dir.resolve("g.png");
        Map<String, String> text = new LinkedHashMap<>();
        text.put("model", "unet");
        text.put("weights", "modèle-名前 ✓.safetensors");
        text.put("seed", "7");
        PngImages.writeGrid(png, new float[54], 2, 3, 3, 3, 4, 2, text);
        assertEquals(Map.of("model", "unet", "seed", "7"), textChunks(png), "Latin-1 values stay tEXt");
        assertEquals(Map.of("weights", "modèle-名前 ✓.safetensors"), internationalChunks(png), "the rest is iTXt, in UTF-8");
        assertEquals(Map.of("model", "unet", "seed", "7", "weights", "modèle-名前 ✓.safetensors"), PngImages.readText(png));
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aGridOfRgbImagesHasMarginsPixelsAndMetadata() throws IOException {
        // 5 images of 3x2x3 (C, H, W) in 2 columns: 3 rows, margin 1 -> (2·(3+1)+1) x (3·(2+1)+1) = 9 x 10.
        int n = 5, c = 3, h = 2, w = 3;
        float[] x = new float[n * c * h * w];
        for (int i = 0; i < n; i++) {
            int base = i * c * h * w;
            x[base] = 1f;                          // image i, red of pixel (0, 0): 255
            x[base + h * w + 1] = -1f;             // green of pixel (0, 1): 0 (the rest is 0.0 -> 128)
            x[base + 2 * h * w + h * w - 1] = 0.5f; // blue of pixel (1, 2): round(0.75·255) = 191
        }
        Path png = dir.resolve("grid.png");
        PngImages.writeGrid(png, x, n, c, h, w, 2, 1, metadata());
        assertEquals(List.of("grid.png"), files(), "no temporary file is left behind");

        assertEquals(metadata(), textChunks(png));
        assertEquals(metadata(), PngImages.readText(png));
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(9, img.getWidth());
        assertEquals(10, img.getHeight());
        for (int i = 0; i < n; i++) {
            int left = 1 + (i % 2) * 4, top = 1 + (i / 2) * 3;
            assertEquals(0xFF8080, img.getRGB(left, top) & 0xFFFFFF, "image " + i + " pixel (0,0)");
            assertEquals(0x800080, img.getRGB(left + 1, top) & 0xFFFFFF, "image " + i + " pixel (0,1)");
            assertEquals(0x8080BF, img.getRGB(left + 2, top + 1) & 0xFFFFFF, "image " + i + " pixel (1,2)");
            assertEquals(0, img.getRGB(left - 1, top) & 0xFFFFFF, "margin left of image " + i);
            assertEquals(0, img.getRGB(left, top - 1) & 0xFFFFFF, "margin above image " + i);
        }
        // The sixth cell (row 2, column 1) is empty: black.
        assertEquals(0, img.getRGB(5 + 1, 7 + 1) & 0xFFFFFF);
    }

    @Test
    void greyImagesAreWrittenOnePerFileWithTheirIndex() throws IOException {
        int n = 3, h = 4, w = 5;
        float[] x = new float[n * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = -1f + 2f * i / (x.length - 1);
        }
        List<Path> written = PngImages.writeEach(dir, "sample", x, n, 1, h, w, metadata());
        assertEquals(List.of("sample-000.png", "sample-001.png", "sample-002.png"), files());
        assertEquals(written.stream().map(p -> p.getFileName().toString()).toList(), files());
        for (int i = 0; i < n; i++) {
            Map<String, String> expected = new LinkedHashMap<>(metadata());
            expected.put("index", String.valueOf(i));
            assertEquals(expected, textChunks(written.get(i)));
            BufferedImage img = ImageIO.read(written.get(i).toFile());
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
            int[] row = img.getRaster().getSamples(0, 1, w, 1, 0, new int[w]);
            int[] expectedRow = new int[w];
            for (int j = 0; j < w; j++) {
                expectedRow[j] = PngImages.toByte(x[i * h * w + w + j]);
            }
            assertArrayEquals(expectedRow, row, "image " + i + " row 1");
        }
    }

    @Test
    void samplesMapToBytesAsTorchvisionSavesThem() {
        assertEquals(0, PngImages.toByte(-1f));
        assertEquals(0, PngImages.toByte(-3f));
        assertEquals(128, PngImages.toByte(0f));
        assertEquals(255, PngImages.toByte(1f));
        assertEquals(255, PngImages.toByte(7f));
        assertEquals(64, PngImages.toByte(-0.5f));
        assertEquals(0, PngImages.toByte(Float.NaN));
    }

    @Test
    void aReplacedFileIsRewrittenWhole() throws IOException {
        Path png = dir.resolve("grid.png");
        Files.writeString(png, "not a png");
        PngImages.writeGrid(png, new float[3 * 2 * 2], 1, 3, 2, 2, 8, PngImages.DEFAULT_MARGIN, Map.of("seed", "7"));
        assertEquals(Map.of("seed", "7"), textChunks(png));
        assertEquals(List.of("grid.png"), files());
    }

    @Test
    void badInputsAreRejectedByName() throws IOException {
        float[] x = new float[2 * 4 * 3 * 3];
        Path png = dir.resolve("g.png");
        var e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, x, 2, 4, 3, 3, 4, 2, Map.of()));
        assertEquals("png: argument 'c' expected 1 or 3 (grey or RGB), found 4", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, new float[0], 0, 3, 3, 3, 4, 2, Map.of()));
        assertEquals("png: argument 'n' expected >= 1 (an empty batch has no image to write), found 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, x, 2, 3, 3, 3, 4, 2, Map.of()));
        assertEquals("png: argument 'images' expected length N·C·H·W = 54, found 72", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, new float[54], 2, 3, 3, 3, 0, 2, Map.of()));
        assertEquals("png: argument 'columns' expected >= 1, found 0", e.getMessage());
        Path missing = dir.resolve("nosuch").resolve("g.png");
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(missing, new float[54], 2, 3, 3, 3, 4, 2, Map.of()));
        assertEquals("png: argument 'target' expected a file in an existing, writable directory, found " + missing
                + " (" + dir.resolve("nosuch").toAbsolutePath() + " does not exist)", e.getMessage());
        Path file = Files.writeString(dir.resolve("plain"), "x");
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeEach(file, "s", new float[54], 2, 3, 3, 3, Map.of()));
        assertEquals("png: argument 'directory' expected an existing, writable directory, found " + file
                + " (" + file.toAbsolutePath() + " is not a directory)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, new float[54], 2, 3, 3, 3, 4, 2,
                Map.of("weights", "a\0b")));
        assertEquals("png: argument 'text' expected a value without NUL that UTF-8 can hold for key 'weights', found 'a\0b'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeGrid(png, new float[54], 2, 3, 3, 3, 4, 2,
                Map.of(" seed", "1")));
        assertEquals("png: argument 'text' expected PNG tEXt keywords of 1 to 79 Latin-1 printable characters without leading,"
                + " trailing or double spaces, found ' seed'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PngImages.writeEach(dir, "../s", new float[54], 2, 3, 3, 3, Map.of()));
        assertEquals("png: argument 'prefix' expected a non-empty file name prefix without path separators, found '../s'", e.getMessage());
        assertEquals(List.of("plain"), files(), "nothing was written by the failed calls");
    }
}
