package dev.prism.diffusion;

import java.util.ArrayList;
import java.util.List;

/** Noise read from a reference file: x_T and one z per update; records which updates asked for noise. */
final class RecordedNoise implements Noise {
    private final float[] initial;
    private final float[] steps;
    final List<Integer> asked = new ArrayList<>();

    RecordedNoise(float[] initial, float[] steps) {
        this.initial = initial;
        this.steps = steps;
    }

    @Override
    public void initial(float[] out) {
        System.arraycopy(initial, 0, out, 0, out.length);
    }

    @Override
    public void step(int step, float[] out) {
        asked.add(step);
        System.arraycopy(steps, step * out.length, out, 0, out.length);
    }
}
