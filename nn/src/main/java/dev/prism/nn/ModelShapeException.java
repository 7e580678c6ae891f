package dev.prism.nn;

/**
 * A model cannot be built for the shape it was given: the message names the layer, the expected and
 * the found shape. Thrown while the model's plan is built, before any computation.
 */
public final class ModelShapeException extends IllegalArgumentException {
    public ModelShapeException(String message) {
        super(message);
    }
}
