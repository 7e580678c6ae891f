package dev.prism.diffusion.train;

import dev.prism.nn.Module;
import dev.prism.nn.train.Checkpoint;
import dev.prism.nn.train.TrainingStep;

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

    /** The compiled step: the learning rate, the gradient norm and the optimiser state of the last step. */
    TrainingStep training();

    /** The run's state for a checkpoint after {@code completedSteps} steps. */
    Map<String, String> state(long completedSteps);

    /** The optimiser state of every parameter, in the model's order (host values after {@link TrainingStep#fetch}). */
    List<TrainingStep.State> states();

    /** Copies the EMA weights into {@code target}, a module of the same architecture. */
    void copyEmaInto(Module target);

    /** Restores weights, moments and EMA from a checkpoint; call before the first {@link #step}. */
    void restore(Checkpoint.Contents c);

    @Override
    void close();
}
