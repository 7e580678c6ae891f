package dev.prism.diffusion.data;

import dev.prism.nn.Heap;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A folder of PNG and JPEG images as a {@link DataSet} of {@code [C, size, size]} images in [−1, 1],
 * without labels.
 *
 * <p>Files: every regular file whose name ends in {@code .png}, {@code .jpg} or {@code .jpeg} (any case)
 * in the folder and, recursively, its subfolders; names that start with a dot (hidden files and folders,
 * macOS {@code ._} files) are left out, other files are ignored, and links to folders are not followed.
 * Image {@code i} is the i-th file in the order of the paths relative to the folder, written with
 * {@code /} and compared as strings ({@link #file} says which).
 *
 * <p>Each image is decoded once, at {@link #load}, with javax.imageio, then:
 * <ol>
 *   <li>colour: grey sources give their grey value (16-bit ones scaled to 0..255); any other source is
 *       read as 8-bit sRGB, and alpha is dropped. C = 1 asks for grey: a colour source becomes
 *       {@code 0.299·R + 0.587·G + 0.114·B} (ITU-R BT.601 luma, as PIL's {@code convert("L")}); C = 3 asks
 *       for RGB: a grey source is copied to all three channels.</li>
 *   <li>geometry: the centred square of side {@code s = min(W, H)} (left edge {@code ⌊(W−s)/2⌋}, top edge
 *       {@code ⌊(H−s)/2⌋}) is resampled to {@code size×size} by area averaging: each output pixel is the
 *       mean of the source area it covers, partly covered source pixels weighted by the covered fraction
 *       (a box filter). This is "resize the shorter side to size, then center-crop", with the crop taken
 *       in source pixels. Shrinking averages without aliasing; enlarging repeats pixels (no
 *       interpolation).</li>
 *   <li>storage: each value is rounded to 8 bits (halves up), as an 8-bit image pipeline does, and held in
 *       memory: N·C·size² bytes. {@link #image} returns {@code b/127.5 − 1}.</li>
 * </ol>
 *
 * <p>The content decides the format, not the name: a file {@code x.png} that holds a JPEG (or a GIF, a
 * BMP: whatever javax.imageio reads) is read. An image javax.imageio cannot decode, or decodes only with a
 * warning (its JPEG reader fills a truncated file with grey and warns), fails the load with a {@link DataSetException} naming the file,
 * unless {@link Unreadable#SKIP} is asked for: then unreadable files are left out and one warning line
 * counts them and names the first.
 */
public final class ImageFolder extends ByteImageSet {

    /** What {@link #load} does with a file javax.imageio cannot decode. */
    public enum Unreadable {
        /** Fail the load with a {@link DataSetException} naming the file (the default). */
        FAIL,
        /** Leave the file out; one warning line, at the end of the load, counts such files and names the first. */
        SKIP
    }

    private final List<Path> files;
    private final int skipped;

    private ImageFolder(String name, byte[] pixels, int channels, int size, List<Path> files, int skipped) {
        super(name, pixels, files.size(), channels, size, size);
        this.files = files;
        this.skipped = skipped;
    }

    /**
     * Loads every image of the folder; an unreadable image fails the load.
     *
     * @see #load(Path, int, int, Unreadable, Consumer)
     */
    public static ImageFolder load(Path directory, int channels, int size) {
        return load(directory, channels, size, Unreadable.FAIL, line -> { });
    }

    /**
     * Loads every image of the folder.
     *
     * @param directory  the folder
     * @param channels   C: 1 (grey) or 3 (RGB)
     * @param size       the side of the images, at least 1
     * @param unreadable what to do with a file javax.imageio cannot decode
     * @param warnings   receives the one warning line of {@link Unreadable#SKIP}, if any file was skipped
     * @throws DataSetException         naming the folder if it is missing, is not a folder, cannot be listed,
     *                                  holds no PNG or JPEG files, or (with SKIP) holds no readable one;
     *                                  naming the file for an image that cannot be decoded (with FAIL)
     * @throws IllegalArgumentException for C other than 1 or 3, {@code size < 1}, or more images than one
     *                                  Java array of bytes can hold
     */
    public static ImageFolder load(Path directory, int channels, int size, Unreadable unreadable, Consumer<String> warnings) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("image folder: argument 'channels' expected 1 (grey) or 3 (RGB), found " + channels);
        }
        if (size < 1) {
            throw new IllegalArgumentException("image folder: argument 'size' expected >= 1, found " + size);
        }
        Objects.requireNonNull(unreadable, "unreadable");
        Objects.requireNonNull(warnings, "warnings");
        List<Path> candidates = list(directory);
        // size² first: channels·size² could overflow a long
        long image = (long) size * size > Integer.MAX_VALUE ? Long.MAX_VALUE / 4 : (long) channels * size * size;
        long bytes = candidates.size() * image;
        if (image > Integer.MAX_VALUE - 8 || bytes > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("image folder " + directory + ": expected at most " + (Integer.MAX_VALUE - 8)
                    + " bytes of images, found " + candidates.size() + " images of " + channels + "×" + size + "×" + size);
        }
        Heap.require("size", size, candidates.size() + " images of " + channels + "×" + size + "×" + size + " in " + directory,
                Heap.floatArrayBytes(bytes / 4 + 1));
        int len = (int) image;
        byte[] pixels = new byte[(int) bytes];
        List<Path> loaded = new ArrayList<>();
        String firstSkipped = null;
        for (Path file : candidates) {
            String problem = decode(file, channels, size, pixels, loaded.size() * len);
            if (problem == null) {
                loaded.add(file);
            } else if (unreadable == Unreadable.FAIL) {
                throw new DataSetException(file.toString(), problem + "; to leave such files out, ask to skip unreadable images");
            } else if (firstSkipped == null) {
                firstSkipped = file + ": " + problem;
            }
        }
        int skipped = candidates.size() - loaded.size();
        if (loaded.isEmpty()) {
            throw new DataSetException(directory.toString(), "expected at least one readable image, found " + skipped
                    + " unreadable image files (first: " + firstSkipped + ")");
        }
        if (skipped > 0) {
            warnings.accept("image folder " + directory + ": skipped " + skipped + " unreadable image file"
                    + (skipped == 1 ? "" : "s") + " of " + candidates.size() + " (first: " + firstSkipped + ")");
        }
        byte[] kept = skipped == 0 ? pixels : Arrays.copyOf(pixels, loaded.size() * len);
        return new ImageFolder("image folder " + directory, kept, channels, size, List.copyOf(loaded), skipped);
    }

    /** The candidate files in their order; fails for a missing, unlistable or empty folder. */
    private static List<Path> list(Path directory) {
        String name = directory.toString();
        if (!Files.exists(directory)) {
            throw new DataSetException(name, "directory not found");
        }
        if (!Files.isDirectory(directory)) {
            throw new DataSetException(name, "expected a directory of PNG or JPEG images, found a file");
        }
        List<Path> found;
        try (Stream<Path> walk = Files.walk(directory)) {
            found = walk.filter(p -> !p.equals(directory) && !hidden(directory.relativize(p)) && isImageName(p) && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> relative(directory, p)))
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw new DataSetException(name, DataSetException.NO_OFFSET, "cannot be listed (" + e.getMessage() + ")", e);
        }
        if (found.isEmpty()) {
            throw new DataSetException(name, "expected PNG or JPEG images (*.png, *.jpg, *.jpeg, in it or its subdirectories), found none");
        }
        return found;
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
    }

    private static String relative(Path directory, Path p) {
        StringBuilder s = new StringBuilder();
        for (Path part : directory.relativize(p)) {
            s.append(s.isEmpty() ? "" : "/").append(part);
        }
        return s.toString();
    }

    /** Decodes, converts and resamples one file into {@code dst}; returns null, or what went wrong. */
    private static String decode(Path file, int channels, int size, byte[] dst, int offset) {
        BufferedImage img;
        List<String> warnings = new ArrayList<>();
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? Collections.emptyIterator() : ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return "expected a PNG or JPEG image, found content no javax.imageio reader recognises";
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return "expected a PNG or JPEG image javax.imageio can decode, found a broken one (" + e.getMessage() + ")";
        }
        if (!warnings.isEmpty()) {
            // The JPEG reader decodes a truncated file with a warning and fills the missing part with grey.
            return "expected an intact image, found one javax.imageio decodes only with warnings (" + String.join("; ", warnings) + ")";
        }
        int w = img.getWidth();
        int h = img.getHeight();
        int side = Math.min(w, h);
        Resample.areaSquare(planes(img, channels), channels, h, w, (h - side) / 2, (w - side) / 2, side, size, dst, offset);
        return null;
    }

    /** The image as planar {@code [C, H, W]} floats in [0, 255] (see the class comment, step 1). */
    static float[] planes(BufferedImage img, int channels) {
        int w = img.getWidth();
        int h = img.getHeight();
        int plane = w * h;
        float[] out = new float[channels * plane];
        ColorModel cm = img.getColorModel();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // Raw samples: getRGB would pass grey through the linear-grey colour space and brighten it.
            Raster r = img.getRaster();
            double scale = 255.0 / ((1 << cm.getComponentSize(0)) - 1);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float g = (float) (r.getSample(x, y, 0) * scale);
                    for (int c = 0; c < channels; c++) {
                        out[c * plane + y * w + x] = g;
                    }
                }
            }
            return out;
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int red = row[x] >> 16 & 0xFF;
                int green = row[x] >> 8 & 0xFF;
                int blue = row[x] & 0xFF;
                int o = y * w + x;
                if (channels == 1) {
                    out[o] = (float) (0.299 * red + 0.587 * green + 0.114 * blue);
                } else {
                    out[o] = red;
                    out[plane + o] = green;
                    out[2 * plane + o] = blue;
                }
            }
        }
        return out;
    }

    /** The file image {@code index} came from. */
    public Path file(int index) {
        checkIndex(index);
        return files.get(index);
    }

    /** How many unreadable files {@link Unreadable#SKIP} left out (0 with {@link Unreadable#FAIL}). */
    public int skipped() {
        return skipped;
    }
}
