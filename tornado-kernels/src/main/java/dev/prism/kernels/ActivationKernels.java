package dev.prism.kernels;

/**
 * Activation functions with their backward passes, each equal to the PyTorch function of the same
 * name: {@code F.silu}, {@code F.gelu(approximate='none')}, {@code F.leaky_relu}, {@code torch.sigmoid}
 * and {@code torch.softmax(x, -1)}.
 *
 * <p>The element-wise kernels run one work-item per element over a flat buffer of {@code len}
 * elements (any layout). Each reads element {@code i} of its inputs before it writes element
 * {@code i} of its output and touches no other element, so the output may be the input array
 * (in place). The softmax kernels run one work-item per row of {@code x[rows, n]}.
 *
 * <p>The per-element maths sits in the scalar helpers ({@link #siluOf}, {@link #geluOf}, ...), which
 * other families call too (group norm fuses SiLU), so each formula exists once. They evaluate in
 * double and round once to float: {@code Math.exp} is a double function anyway, and double keeps
 * {@code exp(-v)} from overflowing for very negative {@code v}.
 *
 * <p>Java has no erf; {@link #erfc(double)} is a fit of this project's own (see its Javadoc), and
 * GELU goes through erfc so that its negative tail keeps its relative accuracy.
 * Checked launch factories: {@link Activation}.
 */
public final class ActivationKernels {
    private static final double INV_SQRT2 = 0.70710678118654752440;
    private static final double INV_SQRT_2PI = 0.39894228040143267794;
    private static final double TWO_OVER_SQRT_PI = 1.12837916709551257390;

    private ActivationKernels() {
    }

    // ---------------------------------------------------------------- element-wise kernels

    /** {@code y = x·σ(x)}; writes {@code y}. One work-item per element. */
    public static void silu(float[] x, float[] y, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            siluLane(x, y, len, i);
        }
    }

    /** Element {@code i} of {@link #silu}. */
    public static void siluLane(float[] x, float[] y, int len, int i) {
        y[i] = siluOf(x[i]);
    }

    /** {@code gx = gy·silu'(x)}, {@code silu'(x) = σ(x)·(1 + x·(1 − σ(x)))}; writes {@code gx}. */
    public static void siluBackward(float[] x, float[] gy, float[] gx, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            siluBackwardLane(x, gy, gx, len, i);
        }
    }

    /** Element {@code i} of {@link #siluBackward}. */
    public static void siluBackwardLane(float[] x, float[] gy, float[] gx, int len, int i) {
        gx[i] = siluGradOf(x[i], gy[i]);
    }

    /** {@code y = x·Φ(x)} with Φ the standard normal CDF (exact GELU); writes {@code y}. */
    public static void gelu(float[] x, float[] y, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            geluLane(x, y, len, i);
        }
    }

    /** Element {@code i} of {@link #gelu}. */
    public static void geluLane(float[] x, float[] y, int len, int i) {
        y[i] = geluOf(x[i]);
    }

    /** {@code gx = gy·(Φ(x) + x·φ(x))}; writes {@code gx}. */
    public static void geluBackward(float[] x, float[] gy, float[] gx, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            geluBackwardLane(x, gy, gx, len, i);
        }
    }

    /** Element {@code i} of {@link #geluBackward}. */
    public static void geluBackwardLane(float[] x, float[] gy, float[] gx, int len, int i) {
        gx[i] = geluGradOf(x[i], gy[i]);
    }

    /** {@code y = x > 0 ? x : slope·x}; writes {@code y}. */
    public static void leakyRelu(float[] x, float[] y, int len, float slope) {
        for (@Parallel int i = 0; i < len; i++) {
            leakyReluLane(x, y, len, slope, i);
        }
    }

    /** Element {@code i} of {@link #leakyRelu}. */
    public static void leakyReluLane(float[] x, float[] y, int len, float slope, int i) {
        y[i] = leakyReluOf(x[i], slope);
    }

    /** {@code gx = x > 0 ? gy : slope·gy} (PyTorch's choice at x = 0 is the slope); writes {@code gx}. */
    public static void leakyReluBackward(float[] x, float[] gy, float[] gx, int len, float slope) {
        for (@Parallel int i = 0; i < len; i++) {
            leakyReluBackwardLane(x, gy, gx, len, slope, i);
        }
    }

    /** Element {@code i} of {@link #leakyReluBackward}. */
    public static void leakyReluBackwardLane(float[] x, float[] gy, float[] gx, int len, float slope, int i) {
        gx[i] = leakyReluGradOf(x[i], gy[i], slope);
    }

    /** {@code y = σ(x) = 1 / (1 + exp(−x))}; writes {@code y}. */
    public static void sigmoid(float[] x, float[] y, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            sigmoidLane(x, y, len, i);
        }
    }

    /** Element {@code i} of {@link #sigmoid}. */
    public static void sigmoidLane(float[] x, float[] y, int len, int i) {
        y[i] = sigmoidOf(x[i]);
    }

    /**
     * {@code gx = gy·y·(1 − y)} from the forward <em>output</em> {@code y} (as PyTorch's
     * {@code sigmoid_backward} does, which saves an exp); writes {@code gx}.
     */
    public static void sigmoidBackward(float[] y, float[] gy, float[] gx, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            sigmoidBackwardLane(y, gy, gx, len, i);
        }
    }

    /** Element {@code i} of {@link #sigmoidBackward}. */
    public static void sigmoidBackwardLane(float[] y, float[] gy, float[] gx, int len, int i) {
        gx[i] = sigmoidGradOf(y[i], gy[i]);
    }

    /**
     * {@code y = tanh(x)} ({@code torch.tanh}, the output of WaveDiff's generator); writes {@code y}. Not called
     * {@code tanh}: TornadoVM names the OpenCL kernel after the method, and a kernel named like OpenCL C's built-in
     * {@code tanh} fails to build (clCreateKernel: CL_INVALID_KERNEL_NAME on PoCL, then a crash).
     */
    public static void tanhForward(float[] x, float[] y, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            tanhForwardLane(x, y, len, i);
        }
    }

    /** Element {@code i} of {@link #tanhForward}, evaluated in double and rounded once. */
    public static void tanhForwardLane(float[] x, float[] y, int len, int i) {
        y[i] = (float) Math.tanh(x[i]);
    }

    /** {@code gx = gy·(1 − y²)} from the forward <em>output</em> {@code y}; writes {@code gx}. */
    public static void tanhBackward(float[] y, float[] gy, float[] gx, int len) {
        for (@Parallel int i = 0; i < len; i++) {
            tanhBackwardLane(y, gy, gx, len, i);
        }
    }

    /** Element {@code i} of {@link #tanhBackward}. */
    public static void tanhBackwardLane(float[] y, float[] gy, float[] gx, int len, int i) {
        double v = y[i];
        gx[i] = (float) (gy[i] * (1.0 - v * v));
    }

    // ---------------------------------------------------------------- softmax over the last dimension

    /**
     * {@code y[r,i] = exp(x[r,i] − m_r) / Σ_j exp(x[r,j] − m_r)}, {@code m_r = max_j x[r,j]}, over
     * {@code x[rows, n]} row-major; writes {@code y}. One work-item per row.
     */
    public static void softmax(float[] x, float[] y, int rows, int n) {
        for (@Parallel int r = 0; r < rows; r++) {
            softmaxRow(x, y, rows, n, r);
        }
    }

    /**
     * Row {@code r} of {@link #softmax}. Subtracting the row maximum keeps every exponent ≤ 0, so no
     * exp overflows; the sum is in double. {@code y} first holds the exponentials, then is scaled,
     * which reads each {@code x[i]} before {@code y[i]} is written (in place is safe).
     */
    public static void softmaxRow(float[] x, float[] y, int rows, int n, int r) {
        int base = r * n;
        float m = x[base];
        for (int i = 1; i < n; i++) {
            m = Math.max(m, x[base + i]);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp(x[base + i] - m);
            y[base + i] = (float) e;
            s += e;
        }
        double inv = 1.0 / s;
        for (int i = 0; i < n; i++) {
            y[base + i] = (float) (y[base + i] * inv);
        }
    }

    /**
     * {@code gx[r,i] = y[r,i]·(gy[r,i] − Σ_j gy[r,j]·y[r,j])} from the forward output {@code y};
     * writes {@code gx}. One work-item per row.
     */
    public static void softmaxBackward(float[] y, float[] gy, float[] gx, int rows, int n) {
        for (@Parallel int r = 0; r < rows; r++) {
            softmaxBackwardRow(y, gy, gx, rows, n, r);
        }
    }

    /** Row {@code r} of {@link #softmaxBackward}; the dot product is summed in double, in index order. */
    public static void softmaxBackwardRow(float[] y, float[] gy, float[] gx, int rows, int n, int r) {
        int base = r * n;
        double dot = 0;
        for (int i = 0; i < n; i++) {
            dot += (double) gy[base + i] * y[base + i];
        }
        for (int i = 0; i < n; i++) {
            gx[base + i] = (float) (y[base + i] * (gy[base + i] - dot));
        }
    }

    // ---------------------------------------------------------------- scalar helpers (one formula each)

    /** σ(v) in double; {@code exp(−v)} may be +∞ (v &lt; −709), which gives the right limit 0. */
    public static double logistic(double v) {
        return 1.0 / (1.0 + Math.exp(-v));
    }

    public static float sigmoidOf(float v) {
        return (float) logistic(v);
    }

    public static float sigmoidGradOf(float y, float gy) {
        return gy * y * (1f - y);
    }

    /** {@code silu(v) = v·σ(v)}. */
    public static float siluOf(float v) {
        return (float) (v * logistic(v));
    }

    /** {@code gy·silu'(v)}, {@code silu'(v) = σ(v)·(1 + v·(1 − σ(v)))}. */
    public static float siluGradOf(float v, float gy) {
        double s = logistic(v);
        return (float) (gy * (s * (1.0 + v * (1.0 - s))));
    }

    /** {@code v·Φ(v)}, Φ(v) = erfc(−v/√2)/2: for v &lt; 0 that is erfc of a positive argument, accurate to its last bits. */
    public static float geluOf(float v) {
        return (float) (v * normalCdf(v));
    }

    /** {@code gy·(Φ(v) + v·φ(v))}, φ the standard normal density. */
    public static float geluGradOf(float v, float gy) {
        double pdf = Math.exp(-0.5 * v * v) * INV_SQRT_2PI;
        return (float) (gy * (normalCdf(v) + v * pdf));
    }

    /** Φ(v) = erfc(−v/√2)/2; the argument is scaled in double so that it carries no float rounding. */
    public static double normalCdf(double v) {
        return 0.5 * erfc(-v * INV_SQRT2);
    }

    public static float leakyReluOf(float v, float slope) {
        return v * leakyFactor(v, slope);
    }

    public static float leakyReluGradOf(float v, float gy, float slope) {
        return gy * leakyFactor(v, slope);
    }

    /**
     * Exactly 1 for {@code v > 0} and exactly {@code slope} otherwise (PyTorch's choice at 0). A plain
     * conditional: device compilers turn it into a select, and an arithmetic trick with overflowing
     * constants is not safe there (an OpenCL compiler may re-associate {@code v·1e300·1e300}).
     */
    public static float leakyFactor(float v, float slope) {
        return v > 0f ? 1f : slope;
    }

    /**
     * The complementary error function, {@code erfc(z) = 2/√π ∫_z^∞ exp(−s²) ds}, with relative error
     * below 5.3e-9 for every z ≥ 0 (so below half a float ulp after rounding; for z &lt; 0 the value lies
     * in (1, 2] and the absolute error is below 5.3e-9).
     *
     * <p>Form: for {@code a = |z|} and {@code t = 1/(1 + a/2)},
     * {@code erfc(a) = t·exp(−a² + P(t))}, the functional form of the Chebyshev-fitted {@code erfcc} in
     * Press et al., <i>Numerical Recipes in C</i>, 2nd ed. (1992), §6.2, whose degree-9 fit has
     * relative error 1.2e-7. The degree-12 coefficients of P here are this project's own: a minimax
     * (Lawson-weighted least-squares) fit of {@code ln(erfcx(a)/t)} over t ∈ (0, 1], that is over all
     * a ≥ 0, computed by {@code fit_erfc()} in {@code tools/refgen/families/activation.py}, which also
     * re-measures the bound (5.25e-9) against SciPy and {@code math.erfc} on every regeneration. For
     * z &lt; 0, {@code erfc(z) = 2 − erfc(−z)}. Evaluated in double; exp underflows to 0 beyond a ≈ 27.
     */
    public static double erfc(double z) {
        double a = Math.abs(z);
        double t = 1.0 / (1.0 + 0.5 * a);
        // Estrin's scheme: coefficient pairs, then the powers t², t⁴, t⁸, so that the chain of dependent
        // multiply-adds is 4 long instead of Horner's 12 (GELU spends most of its time here)
        double t2 = t * t;
        double t4 = t2 * t2;
        double t8 = t4 * t4;
        double q0 = -1.2655121182324303 + 0.99999820360268932 * t;
        double q1 = 0.37510165393285583 + 0.08108338803826215 * t;
        double q2 = -0.060279491326036994 - 0.31545220359914805 * t;
        double q3 = 0.62875176351624862 - 1.9180742231321652 * t;
        double q4 = 3.490682311299607 - 3.3425184272696398 * t;
        double q5 = 1.7429268356827576 - 0.46412437015332919 * t;
        double lo = (q0 + q1 * t2) + (q2 + q3 * t2) * t4;
        double hi = (q4 + q5 * t2) + 0.047416672390035719 * t4;
        double r = t * Math.exp((lo + hi * t8) - a * a);
        return z < 0.0 ? 2.0 - r : r;
    }

    /**
     * The error function. For |x| &lt; 0.5 the Maclaurin series {@code 2/√π·Σ (−1)^k x^(2k+1)/(k!(2k+1))}
     * to k = 8 (truncation below 1e-12 relative), so that erf keeps its relative accuracy near 0 where
     * {@code 1 − erfc} would cancel; beyond, {@code ±(1 − erfc(|x|))}, whose relative error is at most
     * 5.3e-9·erfc(0.5)/erf(0.5) &lt; 5e-9. No kernel calls it (GELU goes through {@link #erfc}); it is here
     * for hosts and tests.
     */
    public static double erf(double x) {
        double a = Math.abs(x);
        if (a < 0.5) {
            double u = x * x;
            double s = 1.0 / 685440;
            s = s * u - 1.0 / 75600;
            s = s * u + 1.0 / 9360;
            s = s * u - 1.0 / 1320;
            s = s * u + 1.0 / 216;
            s = s * u - 1.0 / 42;
            s = s * u + 1.0 / 10;
            s = s * u - 1.0 / 3;
            s = s * u + 1.0;
            return TWO_OVER_SQRT_PI * x * s;
        }
        return Math.copySign(1.0 - erfc(a), x);
    }
}
