package dev.prism.diffusion.data;

import java.util.Objects;

/**
 * Training data that cannot be read as asked: a missing file or directory, a file whose bytes break its
 * format (an IDX header with the wrong magic number, a size that does not match the file's length, a
 * label out of range, a gzip stream that ends early), an image javax.imageio cannot decode, a folder with
 * no images, or a read error of the file system.
 *
 * <p>The message starts with the file, then the byte offset where the problem is (when there is one),
 * then what was expected and what was found:
 * {@code "train-images-idx3-ubyte.gz: offset 16: expected 47040000 bytes of pixels (60000×28×28), found 1204"}.
 * Offsets in a gzip-compressed file count bytes of the decompressed data, as the IDX format defines them.
 *
 * <p>It is unchecked so that it travels unchanged through the batch iterator and the background loader
 * (which re-throws it in the consumer's thread with the original as its cause); the command line maps it
 * to one line and exit code 2.
 */
public final class DataSetException extends RuntimeException {
    /** The value of {@link #offset()} when the problem has no byte position (a missing file, an empty folder). */
    public static final long NO_OFFSET = -1;

    private final String file;
    private final long offset;
    private final String problem;

    /**
     * @param file    the file or directory, as the caller named it
     * @param offset  the byte offset of the problem, or {@link #NO_OFFSET}
     * @param problem what was wrong, expected versus found
     * @param cause   the underlying exception, or null
     */
    public DataSetException(String file, long offset, String problem, Throwable cause) {
        super(Objects.requireNonNull(file, "file") + ": " + (offset >= 0 ? "offset " + offset + ": " : "")
                + Objects.requireNonNull(problem, "problem"), cause);
        this.file = file;
        this.offset = offset;
        this.problem = problem;
    }

    /** A problem without a byte position. */
    public DataSetException(String file, String problem) {
        this(file, NO_OFFSET, problem, null);
    }

    /** The file or directory as the caller named it. */
    public String file() {
        return file;
    }

    /** The byte offset of the problem (decompressed, for a gzip file), or {@link #NO_OFFSET}. */
    public long offset() {
        return offset;
    }

    /** The message without the file and the offset. */
    public String problem() {
        return problem;
    }
}
