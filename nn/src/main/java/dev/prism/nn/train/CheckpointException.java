package dev.prism.nn.train;

/** A checkpoint that cannot be read: not a Prism checkpoint, another version, or bad metadata. */
public final class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }
}
