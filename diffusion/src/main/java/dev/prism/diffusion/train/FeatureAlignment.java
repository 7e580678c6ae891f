package dev.prism.diffusion.train;

import dev.prism.nn.Graph;
import dev.prism.nn.Module;
import dev.prism.nn.Tensor;
import dev.prism.nn.layers.Conv;
import dev.prism.nn.models.UNet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The 1×1 convolutions that align a student's feature maps with a teacher's for Spectral Diffusion §5.2's feature
 * matching ("a single 1×1 CONV layer is used to align the dimensions"): one per matched resolution level l, mapping
 * the student's decoder feature at l ({@link UNet.Features#levels()}, {@code [N, Cs_l, H/2^l, W/2^l]}) to the
 * teacher's width Ct_l. Level l has the same spatial size in every UNet (l downsamplings by 2), so the levels both
 * networks have, 0 … min(L_S, L_T) − 1, are the matching scales.
 *
 * <p>Parameters {@code feature_align.<l>.weight [Ct_l, Cs_l, 1, 1]} and {@code feature_align.<l>.bias [Ct_l]}: the
 * distillation run trains and checkpoints them with the student, but they are not part of the student. They start
 * as the identity on the first min(Cs_l, Ct_l) channels (weight 1 where output channel = input channel, 0 elsewhere,
 * bias 0), whatever the seed: so with equal networks the feature term starts at exactly 0.
 */
public final class FeatureAlignment extends Module {
    /** The parameter names' prefix. */
    public static final String PREFIX = "feature_align";

    private final int[] levels;
    private final Conv[] convs;
    private final int[] teacherWidths;

    /**
     * @param levels the matched levels, strictly increasing, each below both networks' level counts (may be empty)
     * @throws IllegalArgumentException naming {@code levels} when one is out of range or they are not increasing
     */
    public FeatureAlignment(UNet student, UNet teacher, int[] levels) {
        int shared = shared(student, teacher);
        for (int i = 0; i < levels.length; i++) {
            if (levels[i] < 0 || levels[i] >= shared || (i > 0 && levels[i] <= levels[i - 1])) {
                throw new IllegalArgumentException("feature levels expected increasing levels in 0.." + (shared - 1) + " (the student has "
                        + student.config().levels() + ", the teacher " + teacher.config().levels() + "), found " + Arrays.toString(levels));
            }
        }
        this.levels = levels.clone();
        convs = new Conv[levels.length];
        teacherWidths = new int[levels.length];
        for (int i = 0; i < levels.length; i++) {
            int l = levels[i];
            teacherWidths[i] = teacher.decoderWidth(l);
            convs[i] = child(PREFIX + "." + l, Conv.standard(student.decoderWidth(l), teacherWidths[i], 1));
        }
        identity();
    }

    /** The number of levels both networks have: the matchable ones are 0 … this − 1. */
    public static int shared(UNet student, UNet teacher) {
        return Math.min(student.config().levels(), teacher.config().levels());
    }

    /** Every level both networks have. */
    public static int[] allLevels(UNet student, UNet teacher) {
        int[] l = new int[shared(student, teacher)];
        Arrays.setAll(l, i -> i);
        return l;
    }

    /** The matched levels, increasing. */
    public int[] levels() {
        return levels.clone();
    }

    /** The teacher's channels at the {@code i}-th matched level (the i-th of {@link #levels()}). */
    public int teacherWidth(int i) {
        return teacherWidths[i];
    }

    private void identity() {
        for (Conv c : convs) {
            float[] w = c.ownParameters().get(0).value().data();
            float[] b = c.ownParameters().get(1).value().data();
            Arrays.fill(w, 0f);
            Arrays.fill(b, 0f);
            int cout = b.length, cin = w.length / cout;
            for (int o = 0; o < Math.min(cin, cout); o++) {
                w[o * cin + o] = 1f;
            }
        }
    }

    /** The identity start does not depend on a seed: {@link #initialise(long)} keeps it. */
    @Override
    protected void initialise(SplittableRandom r) {
        identity();
    }

    /**
     * Adds {@code F = mean over the matched levels l of mean (Ct_l-aligned student feature − teacher feature)²} to
     * {@code g}: for each matched level i, {@code g.meanSquaredError(conv_i(student.get(levels[i])), teacher.get(i))}
     * (so the gradient reaches the student's features and these convolutions, never the teacher's features, which are
     * data), then their sum scaled by 1 / (number of levels). {@code teacher} holds one tensor per matched level.
     *
     * @throws IllegalArgumentException if there are no matched levels or {@code teacher} has another count
     */
    public Tensor loss(Graph g, List<Tensor> student, List<Tensor> teacher) {
        if (levels.length == 0) {
            throw new IllegalArgumentException("feature levels: expected at least one matched level for the feature term, found none");
        }
        if (teacher.size() != levels.length) {
            throw new IllegalArgumentException("teacher features: expected " + levels.length + " (one per matched level), found " + teacher.size());
        }
        Tensor sum = null;
        for (int i = 0; i < levels.length; i++) {
            Tensor term = g.meanSquaredError(convs[i].forward(g, student.get(levels[i])), teacher.get(i));
            sum = sum == null ? term : g.add(sum, term);
        }
        return levels.length == 1 ? sum : g.scale(sum, 1f / levels.length);
    }

    /** The teacher's feature tensors at the matched levels, in order. */
    public List<Tensor> select(UNet.Features features) {
        List<Tensor> out = new ArrayList<>(levels.length);
        for (int l : levels) {
            out.add(features.levels().get(l));
        }
        return out;
    }
}
