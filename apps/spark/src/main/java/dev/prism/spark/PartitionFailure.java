package dev.prism.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A task of a prism Spark job failed: names the partition, its seeds, the seed it was at and the executor,
 * then what went wrong. Thrown on the executor; Spark carries it to the driver inside its own exception,
 * where {@link #unwrap} takes it out again.
 */
public class PartitionFailure extends RuntimeException {
    /** A failure caused by bad input (a missing file, an unwritable directory): one line, exit code 2. */
    public static final class BadInput extends PartitionFailure {
        BadInput(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The first line of a message in which Spark quotes a failure of a task (with its class), when it does not pass it on. */
    private static final Pattern QUOTED = Pattern.compile(Pattern.quote(PartitionFailure.class.getName()) + "(\\$BadInput)?: ([^\n]*)");

    PartitionFailure(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The failure of partition {@code partition}, holding seeds {@code seeds}, at seed {@code seed} ({@code file}: the
     * image, or null) on {@code executor}.
     */
    public static PartitionFailure of(int partition, String seeds, long seed, String file, String executor, Throwable cause) {
        String m = "partition " + partition + " (seeds " + seeds + ") failed at seed " + seed + (file != null ? " (" + file + ")" : "") + " on "
                + executor + ": " + describe(cause);
        boolean badInput = cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException || cause instanceof IOException;
        return badInput ? new BadInput(m, cause) : new PartitionFailure(m, cause);
    }

    /** This JVM as a Spark executor: its id and host, for messages. */
    public static String executor() {
        org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "an unknown host";
        }
        return "executor " + (env != null ? env.executorId() : "?") + " on " + host;
    }

    private static String describe(Throwable cause) {
        return cause instanceof IllegalArgumentException || cause instanceof UncheckedIOException ? cause.getMessage() : cause.toString();
    }

    /**
     * What the driver reports for a failed Spark job: the first {@link PartitionFailure} among its causes, as an
     * {@link IllegalArgumentException} (bad input: a missing file, an unwritable directory; one line, exit code 2) or
     * an {@link IllegalStateException}; the exception itself when it holds none.
     */
    public static RuntimeException unwrap(Exception e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PartitionFailure f) {
                String m = "Spark job failed: " + f.getMessage();
                return f instanceof BadInput ? new IllegalArgumentException(m, e) : new IllegalStateException(m, e);
            }
            Matcher q = QUOTED.matcher(String.valueOf(t.getMessage()));
            if (q.find()) {
                String m = "Spark job failed: " + q.group(2);
                return q.group(1) != null ? new IllegalArgumentException(m, e) : new IllegalStateException(m, e);
            }
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }
}
