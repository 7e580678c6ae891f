package dev.prism.cli;

import dev.prism.nn.io.WeightFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Opening weight files for commands: file-system failures become one line that names the path. */
final class WeightFiles {
    private WeightFiles() {
    }

    static WeightFile open(Path path) {
        try {
            return WeightFile.open(path);
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
}
