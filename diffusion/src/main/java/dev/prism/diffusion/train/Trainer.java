package dev.prism.diffusion.train;

import dev.prism.nn.Module;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.TrainingStep;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A training run's steps, whatever the objective: what {@code prism train} drives. Step {@code s}'s
 * inputs are functions of the run's seeds and s alone, so a run resumed from a checkpoint continues
 * exactly as one that never stopped.
 */
public interface Trainer extends AutoCloseable {

    /** Runs training step {@code s} (from 1) on its batch and returns the loss. */
    float step(long s);

    /** The names of the loss's terms that {@link #term} reports after each step (none for a single-term loss). */
    default List<String> termNames() {
        return List.of();
    }

    /** Term {@code i} of the last step's loss ({@link #termNames}). */
    default float term(int i) {
        return training().term(i);
    }

    /** The compiled step: the learning rate, the gradient norm and the optimiser state of the last step. */
    TrainingStep training();

    /** The run's state for a checkpoint after {@code completedSteps} steps. */
    Map<String, String> state(long completedSteps);

    /** The optimiser state of every parameter, in the model's order (host values after {@link TrainingStep#fetch}). */
    default List<TrainingStep.State> states() {
        return new ArrayList<>(training().states().values());
    }

    /** Copies the EMA weights into {@code target}, a module of the same architecture. */
    default void copyEmaInto(Module target) {
        training().copyEmaInto(target);
    }

    /** Restores weights, moments and EMA from a checkpoint; call before the first {@link #step}. */
    default void restore(Checkpoint.Contents c) {
        Checkpoint.restore(c, training());
    }

    @Override
    default void close() {
        training().close();
    }
}
