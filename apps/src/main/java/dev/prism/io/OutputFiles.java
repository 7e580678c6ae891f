package dev.prism.io;

import dev.prism.nn.io.AtomicWrite;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Files a command writes together: a grid and its per-image files, all or none. Each is first written
 * completely under a temporary name beside its target ({@link AtomicWrite}, flushed to disk); only when all
 * of them are written does {@link #commit} rename them over their targets, one after the other. Until then
 * a failure, {@link #close()} or the JVM's shutdown (Ctrl-C, SIGTERM, {@code System.exit}: a shutdown hook)
 * deletes every temporary file and leaves every target as it was. The temporary names have
 * {@link AtomicWrite}'s form, {@code .<target name>.<16 hex digits>.tmp}, so that
 * {@link AtomicWrite#removeLeftovers} finds what a SIGKILL leaves. If a rename itself fails (the target
 * was replaced by a directory meanwhile), the targets renamed before it stay written and the rest are
 * deleted.
 *
 * <p>Targets are new paths or regular files (links followed): {@link #checkTarget} refuses a directory,
 * a device, a FIFO or a socket, and {@link #add} checks again.
 */
public final class OutputFiles implements AutoCloseable {
    /** Temporary files of every open set in this JVM, deleted by the shutdown hook. */
    private static final Set<Path> STAGED = ConcurrentHashMap.newKeySet();
    private static final AtomicBoolean HOOKED = new AtomicBoolean();

    /** Target → its temporary file, in the order added. */
    private final Map<Path, Path> staged = new LinkedHashMap<>();
    private boolean committed;

    /**
     * Fails unless {@code target} is a path Prism may write: a regular file (replaced) or a new name, in an
     * existing directory where a file can be created (tried: a test file is created and deleted).
     *
     * @param option the option that named it, for the message ({@code --out})
     * @throws IllegalArgumentException naming the option, the path and what it is
     */
    public static void checkTarget(String option, Path target) {
        Path abs = target.toAbsolutePath();
        String kind = kind(abs);
        if (kind != null && !kind.equals("a regular file")) {
            throw new IllegalArgumentException(option + " " + target + ": expected a regular file or a new path, found " + kind);
        }
        checkDirectory(option + " " + target + ": directory", abs.getParent());
    }

    /**
     * Fails unless files can be created in {@code dir}: it exists, is a directory, and a test file can be
     * created there and deleted (a permission bit says less than trying, for root or on a read-only mount).
     *
     * @throws IllegalArgumentException {@code "<what> <dir>: <why>"}
     */
    public static void checkDirectory(String what, Path dir) {
        if (dir == null || !Files.exists(dir)) {
            throw new IllegalArgumentException(what + " " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(what + " " + dir + " is not a directory");
        }
        try {
            // named as AtomicWrite's temporaries, so that removeLeftovers finds it should a kill come between
            Path probe = Files.createFile(temporary(dir.resolve("prism-probe")));
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new IllegalArgumentException(what + " " + dir + " is not writable (" + reason(e) + ")");
        }
    }

    /** A temporary name beside {@code target}: {@code .<name>.<16 hex digits>.tmp}. */
    private static Path temporary(Path target) {
        String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        return target.resolveSibling("." + target.getFileName() + "." + random + ".tmp");
    }

    /** What is at {@code p}, links followed: null when nothing, else "a regular file", "a directory", "a FIFO", ... */
    static String kind(Path p) {
        if (!Files.exists(p)) {
            return null; // a new name (or a dangling link, which the rename replaces)
        }
        if (Files.isRegularFile(p)) {
            return "a regular file";
        }
        if (Files.isDirectory(p)) {
            return "a directory";
        }
        try {
            int type = (Integer) Files.getAttribute(p, "unix:mode") & 0170000;
            return switch (type) {
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0010000 -> "a FIFO";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "a special file";
        }
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /**
     * Writes {@code bytes} to a temporary file beside {@code target}, to be renamed over it by {@link #commit}.
     *
     * @throws IllegalArgumentException if the target is not a regular file or a new path, or was added already
     * @throws IOException              if writing fails (this set is then still open: close it to delete the rest)
     */
    public void add(Path target, byte[] bytes) throws IOException {
        if (committed) {
            throw new IllegalStateException("output files: already committed");
        }
        Path abs = target.toAbsolutePath();
        String kind = kind(abs);
        if (kind != null && !kind.equals("a regular file")) {
            throw new IllegalArgumentException(target + ": expected a regular file or a new path, found " + kind);
        }
        if (staged.containsKey(abs)) {
            throw new IllegalArgumentException(target + ": written twice in one set of outputs");
        }
        hook();
        Path tmp = temporary(abs);
        // Registered before it exists: a signal between creating and registering it would leave it behind.
        STAGED.add(tmp);
        staged.put(abs, tmp);
        AtomicWrite.write(tmp, false, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /**
     * Renames every temporary file over its target, in the order added.
     *
     * @return the targets written
     * @throws IOException if a rename fails (the targets renamed before it stay written; the others are deleted on close)
     */
    public List<Path> commit() throws IOException {
        if (committed) {
            throw new IllegalStateException("output files: already committed");
        }
        committed = true;
        List<Path> done = new ArrayList<>();
        for (var e : new ArrayList<>(staged.entrySet())) {
            Files.move(e.getValue(), e.getKey(), StandardCopyOption.ATOMIC_MOVE);
            staged.remove(e.getKey());
            STAGED.remove(e.getValue());
            done.add(e.getKey());
        }
        return done;
    }

    /** Deletes the temporary files not renamed (all of them before {@link #commit}). */
    @Override
    public void close() {
        for (Path tmp : staged.values()) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                // Left for AtomicWrite.removeLeftovers: its name has the temporary form.
            }
            STAGED.remove(tmp);
        }
        staged.clear();
    }

    private static void hook() {
        if (HOOKED.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                for (Path p : STAGED) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        // at shutdown there is no one left to tell; removeLeftovers finds it by its name
                    }
                }
            }, "prism-output-cleanup"));
        }
    }
}
