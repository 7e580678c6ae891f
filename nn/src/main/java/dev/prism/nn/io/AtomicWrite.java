package dev.prism.nn.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that readers see either the old file or the complete new one, never a part: the
 * bytes go to a temporary file in the target's directory (same file system), which is flushed to disk
 * and then renamed over the target in one step. If anything fails, the temporary file is deleted
 * and the target is left exactly as it was.
 *
 * <p>With {@link #write(Path, boolean, Body) replace} false an existing target is refused, checked
 * before writing and again just before the rename; a file created by another process between that
 * second check and the rename would be replaced. Temporary files are named
 * {@code .<target name>.<random>.tmp} and are created with the process's default permissions.
 *
 * <p>An interrupted process leaves no temporary file either: while a write is under way its temporary
 * file is registered with a shutdown hook (installed on the first write), which deletes it when the
 * JVM shuts down on Ctrl-C (SIGINT), SIGTERM or {@code System.exit} before the rename. If the rename has
 * happened by then the target is complete; if not, it is untouched. Only SIGKILL and a power cut skip
 * shutdown hooks; {@link #removeLeftovers} cleans up after those.
 */
public final class AtomicWrite {

    /** Writes the new contents into the temporary file's channel. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel out) throws IOException;
    }

    /** The name of a temporary file {@link #write} makes: {@code .<target name>.<16 hex digits>.tmp}. */
    private static final java.util.regex.Pattern TEMPORARY = java.util.regex.Pattern.compile("\\..+\\.[0-9a-f]{16}\\.tmp");

    /** Temporary files of writes under way, deleted by the shutdown hook. */
    private static final java.util.Set<Path> PENDING = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private static final java.util.concurrent.atomic.AtomicBoolean HOOKED = new java.util.concurrent.atomic.AtomicBoolean();

    private AtomicWrite() {
    }

    /** Registers {@code tmp} for deletion at shutdown, installing the hook on first use. */
    private static void track(Path tmp) throws IOException {
        if (HOOKED.compareAndSet(false, true)) {
            try {
                Runtime.getRuntime().addShutdownHook(new Thread(AtomicWrite::removePending, "prism-atomic-write-cleanup"));
            } catch (IllegalStateException e) {
                HOOKED.set(false);
                throw new IOException(tmp.getParent() + ": not writing, the JVM is shutting down", e);
            }
        }
        PENDING.add(tmp);
    }

    private static void removePending() {
        for (Path p : PENDING) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException | RuntimeException e) {
                // At shutdown there is no one left to tell; the name pattern lets removeLeftovers find it later.
            }
        }
    }

    /**
     * Deletes the temporary files that writes into {@code dir} left behind when their process was killed
     * before it could clean up (a SIGKILL, a power cut): their targets are untouched, so they hold nothing
     * anyone reads. Only for a directory no other process is writing into at the time.
     *
     * @return the names of the files deleted, sorted
     */
    public static java.util.List<String> removeLeftovers(Path dir) throws IOException {
        java.util.List<String> removed = new java.util.ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return removed;
        }
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (TEMPORARY.matcher(name).matches() && Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(f);
                    removed.add(name);
                }
            }
        }
        java.util.Collections.sort(removed);
        return removed;
    }

    /**
     * Replaces (or creates) {@code target} with what {@code body} writes, atomically.
     *
     * @param replace whether an existing target may be replaced
     * @throws FileAlreadyExistsException if the target exists and {@code replace} is false
     * @throws NoSuchFileException        if the target's directory does not exist
     * @throws IOException                if writing, flushing or renaming fails (the target is untouched)
     */
    public static void write(Path target, boolean replace, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(target.toString(), null, "its directory does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new FileAlreadyExistsException(target.toString(), null, "is a directory");
        }
        if (!replace && Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString());
        }
        String random = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
        Path tmp = dir.resolve("." + abs.getFileName() + "." + random + ".tmp");
        // Registered before it exists: a signal between creating it and registering it would leave it behind.
        track(tmp);
        boolean renamed = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            if (!replace && Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(target.toString());
            }
            // rename(2): atomic, and it replaces an existing target in the same step.
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            renamed = true;
        } finally {
            try {
                if (!renamed) {
                    Files.deleteIfExists(tmp);
                }
            } finally {
                PENDING.remove(tmp);
            }
        }
    }
}
