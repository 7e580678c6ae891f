package dev.prism.spark;

import dev.prism.nn.io.AtomicWrite;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The manifest of a {@code prism sample-many} output directory: {@code manifest.tsv}, one line per seed, sorted by
 * seed, under a header line {@value #HEADER}.
 *
 * <p>While a run is under way each executor records every batch it has written in a file of its own,
 * {@code .manifest.d/seeds-FIRST-LAST.tsv} (same columns, written after the batch's images, atomically); the driver
 * merges them into {@code manifest.tsv} at the end and deletes them. A run that was killed leaves them behind, and the
 * next run reads them with the manifest: that is how it knows which images are complete.
 */
public final class Manifest {
    /** The manifest's file name in the output directory. */
    public static final String FILE = "manifest.tsv";
    /** The folder of the executors' records of a run under way. */
    public static final String PARTS = ".manifest.d";
    /** The header line; the columns of {@link Record}. */
    public static final String HEADER = "seed\tfile\tsha256\tbackend\tsettings\tseconds\twritten";

    private Manifest() {
    }

    /**
     * One image.
     *
     * @param seed     its seed
     * @param file     its file name in the output directory
     * @param sha256   the SHA-256 of the file, in hex
     * @param backend  what sampled it: the backend and, for jvm, the vector width (what the image depends on)
     * @param settings a digest of every generation parameter but the seed (model, weights, sampler, steps, ...):
     *                 a re-run with other settings does not reuse the image
     * @param seconds  the sampling time of its batch divided by the images of the batch
     * @param written  when it was written (UTC, ISO-8601)
     */
    public record Record(long seed, String file, String sha256, String backend, String settings, double seconds, String written)
            implements Serializable {
        String line() {
            return seed + "\t" + file + "\t" + sha256 + "\t" + backend + "\t" + settings + "\t" + String.format(java.util.Locale.ROOT, "%.4f", seconds)
                    + "\t" + written;
        }

        /** The same image with its file checked: whether the file exists and its SHA-256 is the recorded one. */
        public boolean matches(Path dir) {
            Path f = dir.resolve(file);
            if (!Files.isRegularFile(f)) {
                return false;
            }
            try {
                return Manifest.sha256(f).equals(sha256);
            } catch (IOException e) {
                return false;
            }
        }
    }

    /**
     * The records of {@code dir}: its manifest and the executors' records of an unfinished run (these win), by seed;
     * empty when there are none.
     *
     * @throws IllegalArgumentException naming the file and the line of a malformed record
     */
    public static Map<Long, Record> read(Path dir) throws IOException {
        Map<Long, Record> out = new TreeMap<>();
        Path manifest = dir.resolve(FILE);
        if (Files.exists(manifest)) {
            readInto(manifest, out);
        }
        Path parts = dir.resolve(PARTS);
        if (Files.isDirectory(parts)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parts, "seeds-*.tsv")) {
                List<Path> files = new ArrayList<>();
                ds.forEach(files::add);
                files.sort(null);
                for (Path p : files) {
                    readInto(p, out);
                }
            }
        }
        return out;
    }

    /** The records of one manifest file, in its order. */
    public static List<Record> readFile(Path file) throws IOException {
        Map<Long, Record> m = new TreeMap<>();
        readInto(file, m);
        return new ArrayList<>(m.values());
    }

    private static void readInto(Path file, Map<Long, Record> out) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
            throw new IllegalArgumentException(file + ": expected the header line '" + HEADER.replace("\t", "\\t") + "', found "
                    + (lines.isEmpty() ? "an empty file" : "'" + lines.getFirst().replace("\t", "\\t") + "'"));
        }
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", -1);
            try {
                if (f.length != 7 || f[1].isEmpty() || f[1].contains("/") || f[1].startsWith(".") || !f[2].matches("[0-9a-f]{64}")) {
                    throw new NumberFormatException();
                }
                out.put(Long.parseLong(f[0]), new Record(Long.parseLong(f[0]), f[1], f[2], f[3], f[4], Double.parseDouble(f[5]), f[6]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected 7 tab-separated columns (" + HEADER.replace("\t", ", ")
                        + ") with an integer seed, a file name in the directory and a SHA-256 in hex, found '" + line.replace("\t", "\\t") + "'");
            }
        }
    }

    /** Writes {@code records} (sorted by seed) to {@code file} atomically, replacing it. */
    public static void write(Path file, Collection<Record> records) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        records.stream().sorted(java.util.Comparator.comparingLong(Record::seed)).forEach(r -> sb.append(r.line()).append('\n'));
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicWrite.write(file, true, ch -> ch.write(ByteBuffer.wrap(bytes)));
    }

    /** Records one batch of an executor under {@code dir/.manifest.d}. */
    public static void writePart(Path dir, long firstSeed, long lastSeed, List<Record> records) throws IOException {
        Path parts = dir.resolve(PARTS);
        Files.createDirectories(parts);
        write(parts.resolve("seeds-" + firstSeed + "-" + lastSeed + ".tsv"), records);
    }

    /** Writes the manifest of a finished run and deletes the executors' records. */
    public static void finish(Path dir, Collection<Record> records) throws IOException {
        write(dir.resolve(FILE), records);
        Path parts = dir.resolve(PARTS);
        if (Files.isDirectory(parts)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(parts)) {
                for (Path p : ds) {
                    Files.deleteIfExists(p);
                }
            }
            try {
                Files.deleteIfExists(parts);
            } catch (IOException e) {
                // a file another process put there since: leave the folder
            }
        }
    }

    /** The SHA-256 of a file, in hex. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = digest();
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException(file + ": no such file", e);
        }
    }

    /** The SHA-256 of bytes, in hex. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
