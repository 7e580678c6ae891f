package dev.prism.cli;

import dev.prism.nn.io.PickleLimits;
import dev.prism.nn.io.Printable;
import dev.prism.nn.io.WeightFile;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** Opening weight files for commands: file-system failures become one line that names the path. */
final class WeightFiles {
    private WeightFiles() {
    }

    /** {@link #open(Path, PickleLimits)} under the default limits. */
    static WeightFile open(Path path) {
        return open(path, PickleLimits.DEFAULT);
    }

    /**
     * Opens {@code path} with {@link WeightFile#open(Path, PickleLimits)}: a path that is not a regular file,
     * a file in another format or a broken one fails with its {@link dev.prism.nn.io.WeightFileException};
     * one that cannot be opened with an {@link UncheckedIOException} whose message names it.
     */
    static WeightFile open(Path path, PickleLimits limits) {
        try {
            return WeightFile.open(path, limits);
        } catch (IOException e) {
            throw io(path, e);
        }
    }

    /** An {@link UncheckedIOException} whose message is {@code "<path>: <what happened>"}, for Main's one-line report. */
    static UncheckedIOException io(Path path, IOException e) {
        String what = switch (e) {
            case NoSuchFileException n -> n.getReason() != null ? n.getReason() : "no such file";
            case AccessDeniedException a -> "permission denied";
            default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        };
        return new UncheckedIOException(path + ": " + what, e);
    }

    /** {@code --pickle-limit KEY=N}: the commands that read weight files raise {@link PickleLimits} with it. */
    static final class LimitOptions {
        /** The library's parameter name, for {@link LibraryNames}. */
        static final java.util.Map<String, String> FLAGS = java.util.Map.of("pickle limit", "--pickle-limit");

        @Option(names = "--pickle-limit", paramLabel = "KEY=N", split = ",",
                description = "Raise a bound on reading a .pth file's pickle, for a file you trust: objects, depth, memo or"
                        + " bytes (suffix k, m or g); defaults: objects=524288, depth=32, memo=262144, bytes=32m.")
        List<String> items;

        PickleLimits limits() {
            return PickleLimits.parse(PickleLimits.DEFAULT, items);
        }
    }

    /** {@code text} safe to print on a terminal ({@link Printable#escape}). */
    static String printable(Object text) {
        return Printable.escape(String.valueOf(text));
    }
}
