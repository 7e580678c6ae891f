package dev.prism.io;

import dev.prism.nn.io.AtomicWrite;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOInvalidTreeException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Sampled images as 8-bit PNG files: a batch {@code x[N,C,H,W]} with values in [−1, 1] and C = 1 (grey)
 * or 3 (RGB), as one grid or one file per image, with text metadata in PNG {@code tEXt} chunks.
 *
 * <p>Pixels: {@code p = floor((x + 1)/2 · 255 + 0.5)} clamped to [0, 255] (torchvision's
 * {@code save_image} after mapping [−1, 1] to [0, 1]); a NaN becomes 0. Grid: images left to right,
 * top to bottom, {@code columns} per row (fewer if the batch is smaller), each surrounded by a black
 * margin of {@code margin} pixels, as {@code torchvision.utils.make_grid(padding=margin)}: the grid is
 * {@code cols·(W + margin) + margin} wide and {@code rows·(H + margin) + margin} high; cells after the
 * last image stay black.
 *
 * <p>Metadata: one text chunk per entry, in the map's order: {@code tEXt} when the value is Latin-1 (what
 * every PNG reader shows), else {@code iTXt} with the value in UTF-8 (a weight file named in any script);
 * keywords are 1 to 79 Latin-1 printable characters without leading, trailing or double spaces, values hold
 * no NUL. {@link #readText} reads both kinds. Files are written through {@link OutputFiles}: each under a
 * temporary name in the target directory, renamed over the target once complete (with {@link AtomicWrite});
 * nothing is left behind on error or interrupt; an existing regular file is replaced, anything else refused.
 */
public final class PngImages {
    /** The margin between grid cells, in pixels, as torchvision's default padding. */
    public static final int DEFAULT_MARGIN = 2;
    private static final String FORMAT = "javax_imageio_png_1.0";
    private static final java.nio.charset.Charset LATIN_1 = StandardCharsets.ISO_8859_1;

    private PngImages() {
    }

    /**
     * Writes the batch as one grid image to {@code target}.
     *
     * @param images  {@code x[N,C,H,W]}, values in [−1, 1]
     * @param columns images per grid row, at least 1
     * @param margin  black pixels around each image, at least 0
     * @param text    key/value pairs stored as text chunks
     * @throws IllegalArgumentException naming the argument for a bad shape, an empty batch, a
     *                                  {@code columns < 1}, a {@code margin < 0}, metadata PNG cannot hold,
     *                                  a target that is not a regular file or a new path, or whose directory
     *                                  does not exist or cannot be written
     * @throws IOException              if writing fails (the target is then untouched)
     */
    public static void writeGrid(Path target, float[] images, int n, int c, int h, int w, int columns, int margin,
                                 Map<String, String> text) throws IOException {
        try (OutputFiles files = new OutputFiles()) {
            stageGrid(files, target, images, n, c, h, w, columns, margin, text);
            files.commit();
        }
    }

    /** {@link #writeGrid} into {@code files}: written when they are committed, with the others, or not at all. */
    public static void stageGrid(OutputFiles files, Path target, float[] images, int n, int c, int h, int w, int columns, int margin,
                                 Map<String, String> text) throws IOException {
        checkTarget("target", target);
        files.add(target, encode(grid(images, n, c, h, w, columns, margin), text));
    }

    /**
     * Writes each image of the batch to {@code directory/<prefix>-<index>.png} ({@link #eachName}), all or
     * none ({@link OutputFiles}); each file's metadata is {@code text} plus an entry {@code index} with the
     * image's position in the batch (replacing any {@code index} given).
     *
     * @return the files written, in batch order
     * @throws IllegalArgumentException as {@link #writeGrid}, and for a prefix that is empty or holds a
     *                                  path separator
     * @throws IOException              if writing fails (no file is then written)
     */
    public static List<Path> writeEach(Path directory, String prefix, float[] images, int n, int c, int h, int w,
                                       Map<String, String> text) throws IOException {
        try (OutputFiles files = new OutputFiles()) {
            stageEach(files, directory, prefix, images, n, c, h, w, text);
            return files.commit();
        }
    }

    /** {@link #writeEach} into {@code files}: written when they are committed, with the others, or not at all. */
    public static List<Path> stageEach(OutputFiles files, Path directory, String prefix, float[] images, int n, int c, int h, int w,
                                       Map<String, String> text) throws IOException {
        Objects.requireNonNull(directory, "directory");
        checkDirectory("directory", directory);
        checkBatch(images, n, c, h, w);
        checkText(text);
        List<Path> written = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> meta = new LinkedHashMap<>(text);
            meta.remove("index");
            meta.put("index", String.valueOf(i));
            Path file = directory.resolve(eachName(prefix, i, n));
            files.add(file, encode(image(images, i, c, h, w), meta));
            written.add(file);
        }
        return written;
    }

    /**
     * The file name of image {@code index} of {@code n}: {@code <prefix>-<index>.png}, the index zero-padded to
     * at least three digits.
     *
     * @throws IllegalArgumentException for a prefix that is empty or holds a path separator
     */
    public static String eachName(String prefix, int index, int n) {
        if (prefix == null || prefix.isEmpty() || prefix.contains("/") || prefix.contains("\\")) {
            throw bad("prefix", "a non-empty file name prefix without path separators", prefix == null ? "null" : "'" + prefix + "'");
        }
        int digits = Math.max(3, String.valueOf(n - 1).length());
        return prefix + "-" + String.format(java.util.Locale.ROOT, "%0" + digits + "d", index) + ".png";
    }

    /**
     * An upper bound on the heap bytes {@link #writeGrid} takes per image of {@code c × h × w}, beyond the
     * batch itself: a grid has at most two cells per image (a last row partly empty), each
     * {@code (h + margin)·(w + margin)} pixels of one byte (grey) or four (RGB), and the encoding holds the
     * PNG bytes (at most the raw {@code c} bytes per pixel, as the encoder stores rows it cannot compress) up
     * to three times while its buffer grows and is copied out.
     */
    public static long gridBytesPerImage(int c, int h, int w, int margin) {
        long cell = ((long) h + margin) * ((long) w + margin);
        return 2 * cell * ((c == 1 ? 1 : 4) + 3L * c);
    }

    /** The grid of the batch as an image (see the class comment); TYPE_BYTE_GRAY for C = 1, TYPE_INT_RGB for C = 3. */
    public static BufferedImage grid(float[] images, int n, int c, int h, int w, int columns, int margin) {
        checkBatch(images, n, c, h, w);
        if (columns < 1) {
            throw bad("columns", ">= 1", columns);
        }
        if (margin < 0) {
            throw bad("margin", ">= 0", margin);
        }
        int cols = Math.min(columns, n);
        int rows = (n + cols - 1) / cols;
        long gw = (long) cols * (w + margin) + margin, gh = (long) rows * (h + margin) + margin;
        if (gw * gh > Integer.MAX_VALUE - 8) {
            throw bad("columns", "a grid of at most " + (Integer.MAX_VALUE - 8) + " pixels", gw + "x" + gh + " pixels");
        }
        BufferedImage img = new BufferedImage((int) gw, (int) gh, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < n; i++) {
            paint(img, images, i, c, h, w, margin + (i % cols) * (w + margin), margin + (i / cols) * (h + margin));
        }
        return img;
    }

    /** Image {@code index} of the batch on its own; TYPE_BYTE_GRAY for C = 1, TYPE_INT_RGB for C = 3. */
    public static BufferedImage image(float[] images, int index, int c, int h, int w) {
        if (c != 1 && c != 3) {
            throw bad("c", "1 or 3 (grey or RGB)", c);
        }
        long per = (long) c * h * w;
        if (h < 1 || w < 1 || index < 0 || images == null || (index + 1) * per > images.length) {
            throw bad("index", "an image inside the batch of " + (images == null || per == 0 ? 0 : images.length / per) + " images of "
                    + c + "x" + h + "x" + w, index);
        }
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        paint(img, images, index, c, h, w, 0, 0);
        return img;
    }

    /** The 8-bit value of a sample in [−1, 1]. */
    public static int toByte(float v) {
        float p = (v + 1f) * 0.5f * 255f + 0.5f;
        return p >= 255f ? 255 : p > 0f ? (int) p : 0;
    }

    private static void paint(BufferedImage img, float[] x, int index, int c, int h, int w, int left, int top) {
        int plane = h * w;
        int base = index * c * plane;
        if (c == 1) {
            var raster = img.getRaster();
            for (int y = 0; y < h; y++) {
                for (int j = 0; j < w; j++) {
                    raster.setSample(left + j, top + y, 0, toByte(x[base + y * w + j]));
                }
            }
            return;
        }
        for (int y = 0; y < h; y++) {
            for (int j = 0; j < w; j++) {
                int o = base + y * w + j;
                int rgb = toByte(x[o]) << 16 | toByte(x[o + plane]) << 8 | toByte(x[o + 2 * plane]);
                img.setRGB(left + j, top + y, rgb);
            }
        }
    }

    /**
     * The PNG encoding of {@code img} with {@code text} as text chunks (tEXt for Latin-1 values, iTXt otherwise).
     *
     * @throws IllegalArgumentException naming the entry if a key or value cannot be a tEXt chunk
     */
    public static byte[] encode(BufferedImage img, Map<String, String> text) throws IOException {
        checkText(text);
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IllegalStateException("this JVM has no javax.imageio PNG writer");
        }
        ImageWriter writer = writers.next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
            if (!text.isEmpty()) {
                IIOMetadataNode latin = new IIOMetadataNode("tEXt");
                IIOMetadataNode unicode = new IIOMetadataNode("iTXt");
                IIOMetadataNode root = new IIOMetadataNode(FORMAT);
                for (Map.Entry<String, String> en : text.entrySet()) {
                    if (LATIN_1.newEncoder().canEncode(en.getValue())) {
                        IIOMetadataNode e = new IIOMetadataNode("tEXtEntry");
                        e.setAttribute("keyword", en.getKey());
                        e.setAttribute("value", en.getValue());
                        latin.appendChild(e);
                    } else {
                        IIOMetadataNode e = new IIOMetadataNode("iTXtEntry");
                        e.setAttribute("keyword", en.getKey());
                        e.setAttribute("compressionFlag", "FALSE");
                        e.setAttribute("compressionMethod", "0");
                        e.setAttribute("languageTag", "");
                        e.setAttribute("translatedKeyword", "");
                        e.setAttribute("text", en.getValue());
                        unicode.appendChild(e);
                    }
                }
                if (latin.hasChildNodes()) {
                    root.appendChild(latin);
                }
                if (unicode.hasChildNodes()) {
                    root.appendChild(unicode);
                }
                try {
                    meta.mergeTree(FORMAT, root);
                } catch (IIOInvalidTreeException ex) {
                    throw new IllegalStateException("javax.imageio refused the text metadata: " + ex.getMessage(), ex);
                }
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(img, null, meta), param);
            }
            return bytes.toByteArray();
        } finally {
            writer.dispose();
        }
    }

    /**
     * The text entries of a PNG file ({@code tEXt}, then {@code iTXt}), read through javax.imageio.
     *
     * @throws IOException if the file cannot be read or is not a PNG
     */
    public static Map<String, String> readText(Path png) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(png.toFile())) {
            if (in == null) {
                throw new IOException(png + ": cannot be opened");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            ImageReader reader = null;
            while (readers.hasNext()) {
                ImageReader r = readers.next();
                if (r.getFormatName().equalsIgnoreCase("png")) {
                    reader = r;
                    break;
                }
            }
            if (reader == null) {
                throw new IOException(png + ": not a PNG file");
            }
            try {
                reader.setInput(in, true, false);
                Node root = reader.getImageMetadata(0).getAsTree(FORMAT);
                Map<String, String> out = new LinkedHashMap<>();
                for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
                    boolean latin = n.getNodeName().equals("tEXt");
                    if (latin || n.getNodeName().equals("iTXt")) {
                        NodeList entries = n.getChildNodes();
                        for (int i = 0; i < entries.getLength(); i++) {
                            var a = entries.item(i).getAttributes();
                            out.put(a.getNamedItem("keyword").getNodeValue(), a.getNamedItem(latin ? "value" : "text").getNodeValue());
                        }
                    }
                }
                return out;
            } finally {
                reader.dispose();
            }
        }
    }

    private static void checkBatch(float[] images, int n, int c, int h, int w) {
        if (n < 1) {
            throw bad("n", ">= 1 (an empty batch has no image to write)", n);
        }
        if (c != 1 && c != 3) {
            throw bad("c", "1 or 3 (grey or RGB)", c);
        }
        if (h < 1) {
            throw bad("h", ">= 1", h);
        }
        if (w < 1) {
            throw bad("w", ">= 1", w);
        }
        long len = (long) n * c * h * w;
        if (images == null || images.length != len) {
            throw bad("images", "length N·C·H·W = " + len, images == null ? "null" : images.length);
        }
    }

    private static void checkText(Map<String, String> text) {
        Objects.requireNonNull(text, "text");
        for (Map.Entry<String, String> e : text.entrySet()) {
            String k = e.getKey(), v = e.getValue();
            if (k == null || k.isEmpty() || k.length() > 79 || k.startsWith(" ") || k.endsWith(" ") || k.contains("  ")
                    || !k.chars().allMatch(ch -> (ch >= 32 && ch <= 126) || (ch >= 161 && ch <= 255))) {
                throw bad("text", "PNG tEXt keywords of 1 to 79 Latin-1 printable characters without leading, trailing or double spaces",
                        k == null ? "null" : "'" + k + "'");
            }
            if (v == null || v.indexOf('\0') >= 0 || !StandardCharsets.UTF_8.newEncoder().canEncode(v)) {
                throw bad("text", "a value without NUL that UTF-8 can hold for key '" + k + "'", v == null ? "null" : "'" + v + "'");
            }
        }
    }

    private static void checkTarget(String name, Path target) {
        Objects.requireNonNull(target, name);
        Path abs = target.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            throw bad(name, "a file in an existing, writable directory", target + " (a directory)");
        }
        String problem = directoryProblem(abs.getParent());
        if (problem != null) {
            throw bad(name, "a file in an existing, writable directory", target + " (" + problem + ")");
        }
    }

    private static void checkDirectory(String name, Path dir) {
        String problem = directoryProblem(dir.toAbsolutePath());
        if (problem != null) {
            throw bad(name, "an existing, writable directory", dir + " (" + problem + ")");
        }
    }

    /** Null when files can be created in {@code dir}, else why not. */
    private static String directoryProblem(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return (dir == null ? "no directory" : dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            return dir + " is not a directory";
        }
        if (!Files.isWritable(dir)) {
            return dir + " is not writable";
        }
        return null;
    }

    private static IllegalArgumentException bad(String argument, String expected, Object found) {
        return new IllegalArgumentException("png: argument '" + argument + "' expected " + expected + ", found " + found);
    }
}
