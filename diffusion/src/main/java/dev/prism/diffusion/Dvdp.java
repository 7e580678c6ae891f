package dev.prism.diffusion;

import dev.prism.backend.JvmBackend;
import dev.prism.backend.Launch;
import dev.prism.kernels.Dct;

import java.util.Arrays;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The dimensionality-varying diffusion process (DVDP, Zhang et al. 2022) over the orthonormal 2-D DCT: DDPM on
 * every DCT coefficient, where the coefficients outside a shrinking low-frequency block are dropped once the
 * noise has buried them.
 *
 * <h2>Definition</h2>
 * Let {@code D} be the orthonormal 2-D DCT-II of an {@code N×N} plane (applied to each channel; {@link Dct}), and
 * {@code P_k} the projection onto the lowest {@code k×k} block of coefficients. The stages are sides
 * {@code N = k_0 > k_1 > … > k_m ≥ 1} and the switch steps {@code r_1 < r_2 < … < r_m} (timesteps of the
 * schedule, {@code r_m ≤ T−2}); the state at step t has side
 * <pre>
 *   k(t) = k_j   for r_j < t ≤ r_{j+1}     (r_0 = −1, r_{m+1} = T−1)
 * </pre>
 * and, written in coefficients {@code y = D x}, the forward process is DDPM's Markov chain followed by the
 * projection onto the current block:
 * <pre>
 *   y_t = P_{k(t)} ( √α_t · y_{t−1} + √β_t · ε_t ),   ε_t ~ N(0, I),   y_{−1} = D x_0.
 * </pre>
 * The map {@code D} is orthogonal, so {@code D ε} is again white noise: on the kept coefficients this is DDPM's
 * chain exactly, and a coefficient leaves the state at the first step of a stage that does not keep it.
 *
 * <h2>Why the marginals are consistent</h2>
 * The projections commute with the per-coefficient scaling and the blocks are nested, so composing the steps
 * gives, for every t,
 * <pre>
 *   y_t = P_{k(t)} ( √ᾱ_t · D x_0 + √(1−ᾱ_t) · ε ),     ε ~ N(0, I):
 * </pre>
 * every coefficient that is still present at step t has exactly DDPM's marginal {@code N(√ᾱ_t·y_0, 1−ᾱ_t)} given
 * x0, independently of the others, before and after any switch ({@link #forward} is this closed form, what the
 * trainer uses; {@code DvdpTest} checks the chain against it statistically, step by step, across the switches).
 * The denoiser sees the state as a small image, {@code x_t = D_k⁻¹ y_t} with the {@code k×k} inverse DCT, which
 * is DDPM on the DCT-resized image {@code D_k⁻¹ P_k D x_0} ({@link #resize}): it predicts the white noise
 * {@code D_k⁻¹ P_k ε}, so one ε-prediction loss serves every stage.
 *
 * <h2>The reverse process: re-inserting what was dropped</h2>
 * Reverse sampling starts from {@code N(0, I)} in {@code k_m²} dimensions (per channel) and runs the ordinary
 * sampler update in the current dimension. On reaching the switch step {@code r_j} it re-inserts the coefficients
 * of block {@code k_{j−1}} outside block {@code k_j} as independent {@code N(0, 1−ᾱ_{r_j})}, the forward variance of
 * a coefficient at that step given x0, with its mean {@code √ᾱ_{r_j}·y_0} left out ({@link #lift}), and continues
 * in the larger dimension. Leaving the mean out is the only approximation, and it is bounded: writing q for the
 * forward marginal at {@code r_j} and r for the re-inserted one ({@code q} of the kept coefficients times the
 * Gaussian), the joint convexity of the KL divergence gives
 * <pre>
 *   KL(q ‖ r) ≤ E_{x0} KL( N(√ᾱ·y_0,c, 1−ᾱ) ‖ N(0, 1−ᾱ) ) summed over the dropped c
 *            = ½ Σ_{c dropped} SNR_c(r_j),      SNR_c(t) = ᾱ_t · E[y_0,c²] / (1−ᾱ_t),
 * </pre>
 * with {@code E[y_0,c²]} the data's mean power of coefficient c. The switch step is therefore chosen from the
 * data ({@link #switches}): {@code r_j} is the first step at which this bound is at most {@code kl}
 * (default {@link #DEFAULT_KL} = 0.1 nats); SNR falls with t, so it holds at every later step too. By the data
 * processing inequality the reverse chain then adds at most {@code kl} nats per switch to the divergence of a
 * perfect model, and every step from {@code r_j + 1} on runs in {@code k_j²} instead of {@code N²} dimensions.
 *
 * @param schedule the noise schedule
 * @param channels C, the image channels (each plane is transformed on its own)
 * @param stages   the sides {@code N = k_0 > k_1 > … > k_m ≥ 1}; {@code stages[0]} is the image side
 * @param switches {@code r_1 < … < r_m} in {@code [0, T−2]}, one per stage after the first
 */
public record Dvdp(NoiseSchedule schedule, int channels, int[] stages, int[] switches) {
    /** The default bound on the divergence each switch adds, in nats: see the class comment. */
    public static final double DEFAULT_KL = 0.1;

    /**
     * Checks the stages and switches.
     *
     * @throws IllegalArgumentException naming {@code stages} unless they strictly decrease and are at least 1, or
     *                                  {@code switches} unless there is one per later stage, strictly
     *                                  increasing in {@code [0, T−2]}
     */
    public Dvdp {
        Objects.requireNonNull(schedule, "schedule");
        if (channels < 1) {
            throw new IllegalArgumentException("dvdp: argument 'channels' expected >= 1, found " + channels);
        }
        stages = stages.clone();
        switches = switches.clone();
        checkStages(stages);
        if (switches.length != stages.length - 1) {
            throw new IllegalArgumentException("dvdp: argument 'switches' expected " + (stages.length - 1) + " step(s) (one per stage after the first), found "
                    + Arrays.toString(switches));
        }
        int T = schedule.timesteps();
        for (int j = 0; j < switches.length; j++) {
            int lo = j == 0 ? 0 : switches[j - 1] + 1;
            if (switches[j] < lo || switches[j] > T - 2) {
                throw new IllegalArgumentException("dvdp: argument 'switches' expected strictly increasing steps in [0, " + (T - 2)
                        + "] (T = " + T + "), found " + Arrays.toString(switches));
            }
        }
    }

    /**
     * Fails unless {@code stages} is a strictly decreasing list of sides, all at least 1.
     *
     * @throws IllegalArgumentException naming {@code stages}
     */
    public static void checkStages(int[] stages) {
        boolean ok = stages.length >= 1 && stages[stages.length - 1] >= 1;
        for (int j = 1; ok && j < stages.length; j++) {
            ok = stages[j] < stages[j - 1];
        }
        if (!ok) {
            throw new IllegalArgumentException("dvdp: argument 'stages' expected strictly decreasing sides >= 1 (e.g. 32,16,8), found "
                    + Arrays.toString(stages));
        }
    }

    /** N, the image side (the first stage). */
    public int size() {
        return stages[0];
    }

    @Override
    public int[] stages() {
        return stages.clone();
    }

    @Override
    public int[] switches() {
        return switches.clone();
    }

    /** The number of stages, m + 1. */
    public int stageCount() {
        return stages.length;
    }

    /** The stage j of step t: the number of switch steps below t. */
    public int stageAt(int t) {
        Objects.checkIndex(t, schedule.timesteps());
        int j = 0;
        while (j < switches.length && switches[j] < t) {
            j++;
        }
        return j;
    }

    /** k(t), the side of the state at step t. */
    public int sideAt(int t) {
        return stages[stageAt(t)];
    }

    /** The first step of stage j: {@code r_j + 1} ({@code 0} for the first stage). */
    public int firstStep(int j) {
        Objects.checkIndex(j, stages.length);
        return j == 0 ? 0 : switches[j - 1] + 1;
    }

    /** The last step of stage j: {@code r_{j+1}} ({@code T − 1} for the last stage). */
    public int lastStep(int j) {
        Objects.checkIndex(j, stages.length);
        return j == stages.length - 1 ? schedule.timesteps() - 1 : switches[j];
    }

    /**
     * The switch steps of {@code stages} for data whose mean coefficient power is {@code power}: {@code r_j} is the
     * first step t with {@link #klBound}{@code (k_j, t) <= kl}, and at least {@code r_{j−1} + 1}.
     *
     * @param power {@code E[y_0,c²]} per coefficient {@code [C, N, N]} ({@link #power})
     * @throws IllegalArgumentException naming {@code stages} when a stage cannot be reached before the last step
     *                                  (the schedule's noise never buries its dropped coefficients that far), or
     *                                  {@code kl} unless it is positive
     */
    public static Dvdp fromPower(NoiseSchedule schedule, int channels, int[] stages, double[] power, double kl) {
        checkStages(stages);
        if (!(kl > 0) || Double.isInfinite(kl)) {
            throw new IllegalArgumentException("dvdp: argument 'kl' expected a finite number > 0 (nats), found " + kl);
        }
        int n = stages[0], T = schedule.timesteps();
        if (power.length != channels * n * n) {
            throw new IllegalArgumentException("dvdp: argument 'power' expected " + channels + "x" + n + "x" + n + " values, found " + power.length);
        }
        int[] r = new int[stages.length - 1];
        for (int j = 0; j < r.length; j++) {
            int t = j == 0 ? 0 : r[j - 1] + 1;
            while (t < T && klBound(schedule, power, channels, n, stages[j + 1], t) > kl) {
                t++;
            }
            if (t > T - 2) {
                throw new IllegalArgumentException("dvdp: argument 'stages' " + Arrays.toString(stages) + ": dropping to " + stages[j + 1]
                        + "x" + stages[j + 1] + " keeps the divergence bound above " + kl + " nats until step " + t + " of T = " + T
                        + ", leaving that stage no step; expected sides whose dropped coefficients the noise buries earlier");
            }
            r[j] = t;
        }
        return new Dvdp(schedule, channels, stages, r);
    }

    /**
     * {@code ½ Σ SNR_c(t)} over the coefficients outside the {@code k×k} block: the bound on the divergence that
     * re-inserting them as pure noise at step t adds (class comment).
     */
    public static double klBound(NoiseSchedule schedule, double[] power, int channels, int n, int k, int t) {
        double dropped = 0;
        for (int c = 0; c < channels; c++) {
            for (int u = 0; u < n; u++) {
                for (int v = 0; v < n; v++) {
                    if (u >= k || v >= k) {
                        dropped += power[(c * n + u) * n + v];
                    }
                }
            }
        }
        double ab = schedule.alphaBar(t);
        return 0.5 * ab * dropped / (1 - ab);
    }

    /**
     * The mean power {@code E[y_0,c²]} of every DCT coefficient over {@code count} images {@code x [count, C, n, n]}:
     * {@code [C, n, n]}, summed in double.
     */
    public static double[] power(float[] x, int count, int channels, int n) {
        int plane = n * n, per = channels * plane;
        if (count < 1 || x.length < (long) count * per) {
            throw new IllegalArgumentException("dvdp: argument 'x' expected " + count + " images of " + channels + "x" + n + "x" + n
                    + " (count >= 1), found " + x.length + " values");
        }
        double[] sum = new double[per];
        float[] table = Dct.cosineTable(n), scratch = new float[per], y = new float[per], one = new float[per];
        try (JvmBackend host = JvmBackend.sequential()) {
            for (int i = 0; i < count; i++) {
                System.arraycopy(x, i * per, one, 0, per);
                run(host, Dct.dct2(one, table, table, scratch, y, 1, channels, n, n));
                for (int e = 0; e < per; e++) {
                    sum[e] += (double) y[e] * y[e];
                }
            }
        }
        for (int e = 0; e < per; e++) {
            sum[e] /= count;
        }
        return sum;
    }

    /**
     * The DCT resize of images {@code x [count, C, from, from]} to {@code [count, C, to, to]},
     * {@code D_to⁻¹ P D_from x}: the lowest {@code min(from, to)²} coefficients kept, the rest 0. With
     * {@code to < from} this is the image the denoiser sees of a clean image at a smaller stage.
     *
     * @return a new array
     */
    public static float[] resize(float[] x, int count, int channels, int from, int to) {
        return lift(x, count, channels, from, to, null, 0);
    }

    /**
     * The re-insertion of the reverse process: images {@code x [count, C, from, from]} to {@code [count, C, to, to]}
     * ({@code to >= from}) whose DCT keeps x's coefficients in the {@code from×from} block and has
     * {@code sigma·noise[…, u, v]} at every other coefficient (u, v), {@code noise [count, C, to, to]} standard
     * normals read at those positions only (null: 0).
     *
     * @return a new array
     */
    public static float[] lift(float[] x, int count, int channels, int from, int to, float[] noise, double sigma) {
        int inPer = channels * from * from, outPer = channels * to * to;
        if (x.length != count * inPer || (noise != null && noise.length != count * outPer)) {
            throw new IllegalArgumentException("dvdp: arguments 'x' and 'noise' expected " + count * inPer + " and " + count * outPer
                    + " values, found " + x.length + " and " + (noise == null ? "none" : noise.length));
        }
        float[] big = new float[count * channels * from * from], coefficients = new float[big.length];
        float[] tIn = Dct.cosineTable(from), tOut = Dct.cosineTable(to);
        float[] embedded = new float[count * outPer], out = new float[count * outPer];
        int keep = Math.min(from, to);
        try (JvmBackend host = JvmBackend.sequential()) {
            run(host, Dct.dct2(x, tIn, tIn, big, coefficients, count, channels, from, from));
            for (int p = 0; p < count * channels; p++) {
                for (int u = 0; u < to; u++) {
                    for (int v = 0; v < to; v++) {
                        int at = (p * to + u) * to + v;
                        embedded[at] = u < keep && v < keep ? coefficients[(p * from + u) * from + v]
                                : noise == null ? 0f : (float) (sigma * noise[at]);
                    }
                }
            }
            run(host, Dct.idct2(embedded, tOut, tOut, new float[out.length], out, count, channels, to, to));
        }
        return out;
    }

    private static void run(JvmBackend host, java.util.List<Launch> launches) {
        for (Launch l : launches) {
            host.run(l);
        }
    }

    /**
     * The forward marginal at step t in image form, {@code D_k⁻¹ (√ᾱ_t·P_k D x0 + √(1−ᾱ_t)·ε)} with k = k(t):
     * {@code x0 [count, C, N, N]} clean images, {@code eps [count, C, k, k]} standard normal noise in image form
     * (white, so it is its own DCT's law).
     *
     * @return a new array {@code [count, C, k, k]}
     */
    public float[] forward(float[] x0, int count, float[] eps, int t) {
        int k = sideAt(t);
        float[] small = resize(x0, count, channels, size(), k);
        double a = Math.sqrt(schedule.alphaBar(t)), b = Math.sqrt(1 - schedule.alphaBar(t));
        for (int i = 0; i < small.length; i++) {
            small[i] = (float) (a * small[i] + b * eps[i]);
        }
        return small;
    }

    /** The stages as the command line and the metadata write them, {@code 32,16,8}. */
    public static String join(int[] values) {
        StringJoiner s = new StringJoiner(",");
        for (int v : values) {
            s.add(Integer.toString(v));
        }
        return s.toString();
    }

    /**
     * {@code 32,16,8} as sides.
     *
     * @throws IllegalArgumentException naming {@code what} unless it is a comma-separated list of integers
     */
    public static int[] parse(String what, String list) {
        try {
            return list.isBlank() ? new int[0] : Arrays.stream(list.split(",", -1)).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " expected comma-separated integers (e.g. 32,16,8), found '" + list + "'");
        }
    }

    /** One line for logs and metadata, e.g. {@code dvdp(stages=32,16,8, switches=711,772)}. */
    public String describe() {
        return "dvdp(stages=" + join(stages) + ", switches=" + join(switches) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dvdp d && d.channels == channels && Arrays.equals(d.stages, stages) && Arrays.equals(d.switches, switches)
                && d.schedule.name().equals(schedule.name()) && d.schedule.timesteps() == schedule.timesteps();
    }

    @Override
    public int hashCode() {
        return Objects.hash(channels, Arrays.hashCode(stages), Arrays.hashCode(switches), schedule.name());
    }

    @Override
    public String toString() {
        return describe();
    }
}
