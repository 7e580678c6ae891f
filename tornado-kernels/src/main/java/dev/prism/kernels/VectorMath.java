package dev.prism.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the hand-vectorised JVM variants share: their species, and arithmetic whose results must not depend on the JIT: the
 * float exponential (softmax, SiLU, sigmoid, group norm + SiLU), as a vector of any width and as one scalar that
 * takes the same IEEE operations in the same order, so a row's tail computed one element at a time gives
 * the bits its vector body would; and a lane sum in a fixed order.
 *
 * <p>Written with the Vector API's basic operations only (multiply, add, fused multiply-add, compare,
 * blend, integer shift and add), never {@link VectorOperators#EXP}: each of those is exactly defined, so
 * the interpreter's and C1's Java fallback and C2's intrinsics give the same bits, and a run gives the
 * same result before and after the JIT compiles it. The transcendental {@code EXP} does not: C2 calls a
 * vector math library for it while the fallback computes {@code Math.exp} per lane.
 *
 * <p>The classic reduction: {@code n = round(v·log₂e)}, {@code r = v − n·ln2} (in two parts, so r keeps
 * its low bits), {@code |r| ≤ ln2/2}, {@code e^r ≈ 1 + r + r²·P(r)} with P of degree 5 (the minimax
 * coefficients of Moshier's Cephes {@code expf}), then the exponent field raised by n. Within 2 ulp of
 * the exact value for {@code v} in [−87.3, 88.3]; +∞ above, 0 below (where the result would be
 * subnormal), NaN for NaN.
 */
public final class VectorMath {
    /**
     * The float species of every variant, {@link VectorWidth#bits()} wide. A {@code static final}, so that C2
     * treats it as a constant: the Vector API compiles to vector instructions only for a constant species.
     * Every variant uses this one species, and no other: {@link #exp(FloatVector)} called with two
     * species in one JVM (a 256-bit SiLU and a 512-bit softmax) sees two vector classes at every call
     * inside it, and C2, no longer sure of the class, boxed the vectors: {@code attention.forward} (512-bit)
     * took 14.3 ms instead of 2.2 after the 256-bit SiLU had run in the same JVM. The same holds for any second
     * vector class, not only a second width of the same variant: with the softmax's double sum loading
     * half-width float vectors (the only ones in those runs), C2's inlining log showed the receiver profile of
     * {@code FloatVector.intoArray} holding both float vector classes, and C2, storing an
     * accumulator it could not type exactly after a loop, compiled the store for both classes and boxed:
     * the 3×3 prism convolutions then allocated up to 14 MB per launch in some runs. {@code VectorWidthTest}
     * fails on a species or shape named outside this class.
     */
    static final VectorSpecies<Float> FLOAT = VectorSpecies.of(float.class, VectorShape.forBitSize(VectorWidth.bits()));
    /** The double species of the same width (half as many lanes), for sums widened from {@link #FLOAT}. */
    static final VectorSpecies<Double> DOUBLE = VectorSpecies.of(double.class, VectorShape.forBitSize(VectorWidth.bits()));

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that {@code n·LN2_HI} is exact for the |n| &le; 128 used here. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /** Above this, 2^n would leave the float exponent range: the result is +∞ (exp(88.38) is 2.4e38). */
    private static final float EXP_HI = 88.3762626647949f;
    /** Below this, the result would be subnormal: it is 0 (exp(−87.34) is 1.2e-38, the smallest normal). */
    private static final float EXP_LO = -87.3365447504f;
    /** 1.5·2^23: adding and subtracting it rounds a float of magnitude below 2^22 to the nearest integer. */
    private static final float ROUNDER = 12582912f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    private VectorMath() {
    }

    /** {@code e^v} lane by lane, for a vector of any species. */
    public static FloatVector exp(FloatVector v) {
        // No clamp: lanes outside [EXP_LO, EXP_HI] compute garbage that the blends below replace, and a
        // NaN stays NaN through every step (its shifted bits add nothing to the exponent field).
        FloatVector rounded = v.mul(LOG2E).add(ROUNDER);
        FloatVector n = rounded.sub(ROUNDER);
        FloatVector r = n.neg().fma(v.broadcast(LN2_HI), v);
        r = n.neg().fma(v.broadcast(LN2_LO), r);
        FloatVector p = r.mul(P0).add(P1);
        p = p.fma(r, v.broadcast(P2));
        p = p.fma(r, v.broadcast(P3));
        p = p.fma(r, v.broadcast(P4));
        p = p.fma(r, v.broadcast(P5));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        // n sits in the low mantissa bits of 1.5·2^23 + n, and only its low 9 bits reach the exponent field
        IntVector k = rounded.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        FloatVector y = e.reinterpretAsInts().add(k).reinterpretAsFloats();
        y = y.blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GT, EXP_HI));
        return y.blend(0f, v.compare(VectorOperators.LT, EXP_LO));
    }

    /** {@code e^v} for one float: the operations of {@link #exp(FloatVector)} on a single lane. */
    public static float exp(float v) {
        float rounded = v * LOG2E + ROUNDER;
        float n = rounded - ROUNDER;
        float r = Math.fma(-n, LN2_HI, v);
        r = Math.fma(-n, LN2_LO, r);
        float p = r * P0 + P1;
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float e = Math.fma(p, r * r, r) + 1f;
        float y = Float.intBitsToFloat(Float.floatToRawIntBits(e) + (Float.floatToRawIntBits(rounded) << 23));
        return v > EXP_HI ? Float.POSITIVE_INFINITY : v < EXP_LO ? 0f : y;
    }

    /** One {@link #DOUBLE} vector's lanes, per thread, reused: see {@link #sumLanes(double[])}. */
    private static final ThreadLocal<double[]> LANES = ThreadLocal.withInitial(() -> new double[DOUBLE.length()]);

    /**
     * A per-thread array of {@link #DOUBLE}'s length, for {@link #sumLanes(double[])}: the caller stores its
     * vector there with {@code intoArray(lanes, 0)} in its own code, so no vector is passed to a method. C2
     * inlines a called method only while the compiled method stays under its node budget, and a vector passed
     * to a method it did not inline is boxed on the heap: a group-norm launch allocated 60 KB when a former
     * {@code sumLanes(DoubleVector)} was left out of a large compiled method.
     */
    static double[] lanes() {
        return LANES.get();
    }

    /**
     * The first {@link #DOUBLE}{@code .length()} values of {@code lanes} added left to right. {@code reduceLanes(ADD)}
     * leaves the order open, and C2's tree and the interpreter's loop round differently, so a run's result
     * would change when the JIT compiles it.
     */
    static double sumLanes(double[] lanes) {
        double s = lanes[0];
        for (int i = 1; i < DOUBLE.length(); i++) {
            s += lanes[i];
        }
        return s;
    }
}
