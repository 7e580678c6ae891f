package dev.prism.nn.io;

import java.util.Objects;

/**
 * A weight file that cannot be read as asked: its bytes break the format (a safetensors header that is
 * not JSON, offsets outside the file, a pickle that names a global outside the allow-list, ...), a
 * tensor cannot be converted as asked (an integer dtype loaded as float), or its tensors do not fit a
 * model's parameter set.
 *
 * <p>The message always starts with the file, then says what was expected and what was found:
 * {@code "model.safetensors: tensor 'conv.weight': dtype F32 and shape [4,3] need 48 bytes, data_offsets span 40"}.
 * The message is {@link Printable#escape escaped}: names taken from a hostile file cannot send a
 * terminal control sequences when the message is printed ({@link #file()} and {@link #problem()} are
 * the text as given).
 *
 * <p>It is an {@link IllegalArgumentException} because a bad file is bad input, like a bad option value:
 * callers that do not care need no {@code catch}, and the command line maps it to exit code 2 with
 * one line. Failures of the file system itself (a missing file, a read error) are not this exception
 * but the {@link java.io.IOException} of the method that met them.
 */
public final class WeightFileException extends IllegalArgumentException {
    private final String file;
    private final String problem;

    /**
     * @param file    the file, as the caller named it (a path, or a label for bytes in memory)
     * @param problem what was wrong, expected versus found
     */
    public WeightFileException(String file, String problem) {
        this(file, problem, null);
    }

    public WeightFileException(String file, String problem, Throwable cause) {
        super(Printable.escape(Objects.requireNonNull(file, "file")) + ": "
                + Printable.escape(Objects.requireNonNull(problem, "problem")), cause);
        this.file = file;
        this.problem = problem;
    }

    /** The file as the caller named it. */
    public String file() {
        return file;
    }

    /** The message without the file name. */
    public String problem() {
        return problem;
    }

    /** The error of a look-up by a name the file does not have. */
    static WeightFileException noSuchTensor(String source, String name, int tensors) {
        return new WeightFileException(source, "no tensor named '" + Printable.name(name) + "' (the file has " + tensors + " tensors)");
    }
}
