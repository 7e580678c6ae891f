package dev.prism.diffusion.data;

import dev.prism.nn.Heap;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28×28 grey images of garments in 10 classes, 60000 for
 * training and 10000 for testing, read from the IDX files of Debian's package
 * {@code dataset-fashion-mnist} (under {@link #DEFAULT_DIRECTORY}; the project's
 * {@code scripts/setup-machine.sh data} installs it).
 *
 * <p>Files of a split, in its directory: {@code <prefix>-images-idx3-ubyte.gz} and
 * {@code <prefix>-labels-idx1-ubyte.gz} with prefix {@code train} or {@code t10k}; the names without
 * {@code .gz} (plain IDX files) are used when the compressed ones are absent. Everything is checked
 * (see {@link IdxFile}): the magic numbers and data type, 3 dimensions of sizes N×28×28 for the images
 * and 1 dimension of size N for the labels, the data lengths against the files' real lengths, every
 * label in 0..9. Any failure is a {@link DataSetException} that names the file, the offset and what
 * was expected and found.
 *
 * <p>Images: {@code [1, size, size]}, {@code x = b/127.5 − 1} for the 8-bit pixel b (0 is the black
 * background, −1). {@code size = 28} is the raw image; {@code size > 28} places it in the middle of a
 * background of −1 ({@code ⌊(size−28)/2⌋} pixels above and left, the rest below and right), the usual
 * way to give a UNet a side divisible by 2^(levels−1) (32 for four levels, the {@link #DEFAULT_SIZE});
 * {@code size < 28} shrinks it by area averaging (see {@link ImageFolder}), each value rounded to 8 bits.
 * The whole split is held in memory as N·size² bytes.
 */
public final class FashionMnist extends ByteImageSet {
    /** Where Debian's {@code dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    /** The side of the images in the files. */
    public static final int RAW_SIZE = 28;
    /** The side for training: 28 padded to 32 with background. */
    public static final int DEFAULT_SIZE = 32;
    /** The number of classes; labels are 0..9. */
    public static final int CLASSES = 10;
    /** What to do when the data set is missing. */
    public static final String INSTALL_HINT = "Fashion-MNIST comes from Debian's package dataset-fashion-mnist:"
            + " install it with scripts/setup-machine.sh data (or apt-get install dataset-fashion-mnist)";

    /** The two parts of the data set. */
    public enum Split {
        /** 60000 images: {@code train-*}. */
        TRAIN("train"),
        /** 10000 images: {@code t10k-*}. */
        TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        /** The file name prefix, {@code train} or {@code t10k}. */
        public String prefix() {
            return prefix;
        }
    }

    private final Split split;
    private final byte[] labels;

    private FashionMnist(Split split, byte[] pixels, int n, int size, byte[] labels) {
        super("Fashion-MNIST " + split.prefix, pixels, n, 1, size, size);
        this.split = split;
        this.labels = labels;
    }

    /** The split from {@link #DEFAULT_DIRECTORY} at the training size, 32×32. */
    public static FashionMnist load(Split split) {
        return load(DEFAULT_DIRECTORY, split, DEFAULT_SIZE);
    }

    /**
     * Reads a split.
     *
     * @param directory the directory holding the IDX files
     * @param split     which part
     * @param size      the side of the images returned, at least 1 (28: raw; larger: padded; smaller: shrunk)
     * @throws DataSetException         for a missing directory or file (with {@link #INSTALL_HINT} when the
     *                                  directory is the default one) and for any file that fails a check
     * @throws IllegalArgumentException for {@code size < 1}, or a size whose N·size² bytes exceed one Java array
     */
    public static FashionMnist load(Path directory, Split split, int size) {
        return load(directory, split, size, directory.toAbsolutePath().normalize().equals(DEFAULT_DIRECTORY));
    }

    /** {@link #load(Path, Split, int)}; {@code standard}: messages about missing files carry {@link #INSTALL_HINT}. */
    static FashionMnist load(Path directory, Split split, int size, boolean standard) {
        if (size < 1) {
            throw new IllegalArgumentException("Fashion-MNIST: argument 'size' expected >= 1, found " + size);
        }
        if (!Files.isDirectory(directory)) {
            String found = Files.exists(directory) ? "not a directory" : "directory not found";
            throw new DataSetException(directory.toString(), found + "; " + (standard ? INSTALL_HINT
                    : "expected a directory holding " + split.prefix + "-images-idx3-ubyte.gz and " + split.prefix + "-labels-idx1-ubyte.gz"));
        }
        Path imageFile = file(directory, split.prefix + "-images-idx3-ubyte", standard);
        Path labelFile = file(directory, split.prefix + "-labels-idx1-ubyte", standard);

        IdxFile img = IdxFile.read(imageFile, 3, "pixels");
        if (img.dim(1) != RAW_SIZE || img.dim(2) != RAW_SIZE) {
            throw new DataSetException(imageFile.toString(), 8, "expected " + RAW_SIZE + "×" + RAW_SIZE + " images, found "
                    + img.dim(1) + "×" + img.dim(2), null);
        }
        int n = img.dim(0);
        if ((long) size * size > (Integer.MAX_VALUE - 8L) / Math.max(1, n)) {   // n·size² would overflow a long first
            throw dev.prism.kernels.ArgumentException.expected("size", "at most " + (int) Math.sqrt((Integer.MAX_VALUE - 8.0) / n)
                    + " for Fashion-MNIST's " + n + " images in one array of bytes", size);
        }
        if (size != RAW_SIZE) {
            Heap.require("size", size, "Fashion-MNIST's " + n + " images at " + size + "×" + size,
                    Heap.floatArrayBytes((long) n * size * size / 4 + 1));
        }
        IdxFile lab = IdxFile.read(labelFile, 1, "labels");
        if (lab.dim(0) != n) {
            throw new DataSetException(labelFile.toString(), 4, "expected " + n + " labels (the image count of "
                    + imageFile.getFileName() + "), found " + lab.dim(0), null);
        }
        byte[] labels = lab.data();
        for (int i = 0; i < n; i++) {
            if ((labels[i] & 0xFF) >= CLASSES) {
                throw new DataSetException(labelFile.toString(), lab.dataOffset() + i, "expected a label in 0.." + (CLASSES - 1)
                        + ", found " + (labels[i] & 0xFF) + " (label of image " + i + ")", null);
            }
        }
        return new FashionMnist(split, sized(img.data(), n, size), n, size, labels);
    }

    private static Path file(Path directory, String base, boolean standard) {
        Path gz = directory.resolve(base + ".gz");
        if (Files.exists(gz)) {
            return gz;
        }
        Path plain = directory.resolve(base);
        if (Files.exists(plain)) {
            return plain;
        }
        throw new DataSetException(gz.toString(), "file not found (nor " + base + ")" + (standard ? "; " + INSTALL_HINT : ""));
    }

    /** The raw 28×28 images as {@code [N, size, size]} bytes: padded with 0 (background), or shrunk. */
    private static byte[] sized(byte[] raw, int n, int size) {
        int plane = RAW_SIZE * RAW_SIZE;
        if (size == RAW_SIZE) {
            return raw;
        }
        byte[] out = new byte[n * size * size];
        if (size > RAW_SIZE) {
            int pad = (size - RAW_SIZE) / 2;
            for (int i = 0; i < n; i++) {
                for (int y = 0; y < RAW_SIZE; y++) {
                    System.arraycopy(raw, i * plane + y * RAW_SIZE, out, i * size * size + (y + pad) * size + pad, RAW_SIZE);
                }
            }
            return out;
        }
        float[] src = new float[plane];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < plane; k++) {
                src[k] = raw[i * plane + k] & 0xFF;
            }
            Resample.areaSquare(src, 1, RAW_SIZE, RAW_SIZE, 0, 0, RAW_SIZE, size, out, i * size * size);
        }
        return out;
    }

    /** Which part this is. */
    public Split split() {
        return split;
    }

    @Override
    public boolean hasLabels() {
        return true;
    }

    /** The class, 0..9: T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot. */
    @Override
    public int label(int index) {
        checkIndex(index);
        return labels[index];
    }
}
