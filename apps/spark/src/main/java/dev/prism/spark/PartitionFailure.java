package dev.prism.spark;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A task of a prism Spark job failed: names the partition, its seeds, the seed it was at and the executor,
 * then what went wrong. Thrown on the executor; Spark carries it to the driver inside its own exception,
 * where {@link #unwrap} takes it out again.
 */
public final class PartitionFailure extends RuntimeException {
    private final boolean badInput;

    public PartitionFailure(int partition, String seeds, long seed, String executor, Throwable cause) {
        super("partition " + partition + " (seeds " + seeds + ") failed at seed " + seed + " on " + executor + ": " + describe(cause), cause);
        this.badInput = cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException || cause instanceof IOException;
    }

    /** A partition of an evaluation, which names the image's file too. */
    public PartitionFailure(int partition, String seeds, long seed, String file, String executor, Throwable cause) {
        super("partition " + partition + " (seeds " + seeds + ") failed at seed " + seed + " (" + file + ") on " + executor + ": "
                + describe(cause), cause);
        this.badInput = cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException || cause instanceof IOException;
    }

    private static String describe(Throwable cause) {
        return cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException ? cause.getMessage() : cause.toString();
    }

    /**
     * What the driver reports for a failed Spark job: the first {@link PartitionFailure} among its causes, as an
     * {@link IllegalArgumentException} (bad input: a missing file, an unwritable directory; one line, exit code 2) or
     * an {@link IllegalStateException}; the exception itself when it holds none.
     */
    public static RuntimeException unwrap(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PartitionFailure f) {
                String m = "Spark job failed: " + f.getMessage();
                return f.badInput ? new IllegalArgumentException(m, e) : new IllegalStateException(m, e);
            }
        }
        return e;
    }
}
