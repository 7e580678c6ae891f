package dev.prism.backend.tornado;

import dev.prism.backend.Launch;
import dev.prism.kernels.ActivationKernels;
import dev.prism.kernels.Conv2dKernels;
import dev.prism.kernels.PrismConvKernels;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid3D;

import java.lang.reflect.Method;
import java.util.Optional;

/**
 * Kernels written for a device through TornadoVM's kernel API ({@link KernelContext}: work-item and
 * work-group indices, local memory, barriers), each standing in for one plain-loop kernel of
 * {@code dev.prism.kernels} with the same arguments and the same result up to rounding. The plain loops stay the one source
 * of what a kernel computes: these variants are tested against them on every shape of the kernel check
 * ({@code TornadoDeviceKernelsTest}, {@code prism kernels --check --backend tornado}), as the JVM's Vector API
 * variants are, and {@code prism.tornado.deviceKernels=off} runs the plain loops instead.
 *
 * <p>What each variant changes, and why it can pay on a device:
 * <ul>
 *   <li>{@code gemm.matmul}: one work-item per element of C in 16×16 work-groups that stage 16×16 tiles of
 *       op(A) and op(B) in local memory, instead of one work-item per row of C. Each element sums its terms
 *       one at a time in ascending order in fp32, as the plain kernel does, but adds the old value of C (when
 *       accumulating) last rather than first: a difference of rounding only.</li>
 *   <li>{@code norm.groupStats}: one work-group of 64 per group instead of one work-item, its two passes
 *       (mean, then squared deviations) reduced in double in local memory.</li>
 *   <li>{@code norm.groupApply}: one work-item per element, in a one-dimensional grid.</li>
 *   <li>{@code conv2d.forward}, {@code prismconv.forward}: one work-item per output pixel in 8×8 groups,
 *       instead of one per output row (a GPU runs tens of thousands of work-items at once; a work-item per
 *       output row gives it a few thousand at most).</li>
 * </ul>
 *
 * <p>These are shaped for GPUs. On a CPU OpenCL device (PoCL) they measured slower than the plain loops,
 * whose work-items each run long inner loops that the device compiler vectorises
 * (docs/BENCHMARKS.md, "Device kernels on PoCL"), so {@code prism.tornado.deviceKernels=auto}, the default,
 * uses them on devices that are not CPUs only.
 */
final class DeviceKernels {
    /** The side of the square tiles of {@link #matmul}. */
    static final int TILE = 16;
    /** The work-group of {@link #groupStats}, a power of two for its tree reduction. */
    static final int REDUCE = 64;
    /** The work-group of the element-wise variants. */
    static final int ELEMENTS = 64;
    /** The side of the square work-groups of output pixels of the convolutions. */
    static final int PIXELS = 8;

    private DeviceKernels() {
    }

    /**
     * A launch as a device kernel: the method (its first parameter a {@link KernelContext}), its arguments
     * after the context, and the grid it runs on.
     */
    record Variant(String name, Method method, Object[] args, WorkerGrid grid) {
        /** {@code gemm.matmul → DeviceKernels.matmul 16x16x1}, for the plan's build log. */
        String describe() {
            long[] l = grid.getLocalWork();
            return name + " (DeviceKernels." + method.getName() + ", work-group " + l[0] + "x" + l[1] + "x" + l[2] + ")";
        }
    }

    /** The device variant of {@code l}, or empty when its kernel has none. */
    static Optional<Variant> of(Launch l) {
        Object[] a = l.args();
        return switch (l.kernel()) {
            case "gemm.matmul" -> {
                int batch = (int) a[3], m = (int) a[4], n = (int) a[5];
                WorkerGrid g = new WorkerGrid3D(roundUp(n, TILE), roundUp(m, TILE), batch);
                g.setLocalWork(TILE, TILE, 1);
                yield Optional.of(new Variant(l.kernel(), method("matmul"), a, g));
            }
            case "norm.groupStats" -> {
                int n = (int) a[2], groups = (int) a[5];
                WorkerGrid g = new WorkerGrid1D(n * groups * REDUCE);
                g.setLocalWork(REDUCE, 1, 1);
                yield Optional.of(new Variant(l.kernel(), method("groupStats"), a, g));
            }
            case "norm.groupApply" -> {
                int total = (int) a[5] * (int) a[6] * (int) a[7] * (int) a[8];
                WorkerGrid g = new WorkerGrid1D(roundUp(total, ELEMENTS));
                g.setLocalWork(ELEMENTS, 1, 1);
                yield Optional.of(new Variant(l.kernel(), method("groupApply"), a, g));
            }
            case "conv2d.forward" -> {
                int[] geo = (int[]) a[4];
                WorkerGrid g = new WorkerGrid3D(roundUp(geo[Conv2dKernels.OW], PIXELS), roundUp(geo[Conv2dKernels.OH], PIXELS),
                        geo[Conv2dKernels.N] * geo[Conv2dKernels.COUT]);
                g.setLocalWork(PIXELS, PIXELS, 1);
                yield Optional.of(new Variant(l.kernel(), method("conv2dForward"), a, g));
            }
            case "prismconv.forward" -> {
                int n = (int) a[4], c = (int) a[5], h = (int) a[6], w = (int) a[7];
                WorkerGrid g = new WorkerGrid3D(roundUp(w, PIXELS), roundUp(h, PIXELS), n * c);
                g.setLocalWork(PIXELS, PIXELS, 1);
                yield Optional.of(new Variant(l.kernel(), method("prismConvForward"), a, g));
            }
            default -> Optional.empty();
        };
    }

    /**
     * {@code gemm.matmul}: {@code C_b = [C_b +] op(A_b)·op(B_b)}. Work-item (j, i, b) of a grid rounded up to
     * whole 16×16 tiles computes {@code C_b[i, j]}; items outside C load zeros and write nothing.
     *
     * <p>The old value of C is read after the tile loop, not before it: read before the loop (the plain
     * kernel's order), TornadoVM 5.2 on PoCL returned C unchanged whenever it accumulated, and some shapes
     * ended the process in PoCL assertions about events; not understood further. Reading it last passes
     * {@code TornadoDeviceKernelsTest} at every shape there.
     */
    public static void matmul(KernelContext ctx, float[] a, float[] b, float[] c, int batch, int m, int n, int k,
                              int transA, int transB, int strideA, int strideB, int strideC, int accumulate) {
        int lx = ctx.localIdx;
        int ly = ctx.localIdy;
        int j = ctx.groupIdx * TILE + lx;
        int i = ctx.groupIdy * TILE + ly;
        int bi = ctx.globalIdz;
        float[] as = ctx.allocateFloatLocalArray(TILE * TILE);
        float[] bs = ctx.allocateFloatLocalArray(TILE * TILE);
        int aOff = bi * strideA;
        int bOff = bi * strideB;
        int cAt = bi * strideC + i * n + j;
        boolean inside = i < m && j < n;
        float sum = 0f;
        for (int t = 0; t < k; t += TILE) {
            // This item loads op(A)[i, t + lx] and op(B)[t + ly, j].
            int pa = t + lx;
            float av = 0f;
            if (i < m && pa < k) {
                av = transA == 0 ? a[aOff + i * k + pa] : a[aOff + pa * m + i];
            }
            as[ly * TILE + lx] = av;
            int pb = t + ly;
            float bv = 0f;
            if (j < n && pb < k) {
                bv = transB == 0 ? b[bOff + pb * n + j] : b[bOff + j * k + pb];
            }
            bs[ly * TILE + lx] = bv;
            ctx.localBarrier();
            int terms = Math.min(TILE, k - t);
            for (int q = 0; q < terms; q++) {
                sum += as[ly * TILE + q] * bs[q * TILE + lx];
            }
            ctx.localBarrier();
        }
        if (inside) {
            c[cAt] = accumulate != 0 ? c[cAt] + sum : sum;
        }
    }

    /**
     * {@code norm.groupStats}: work-group {@code q} reduces group {@code q} ({@code m = (C/G)·H·W} elements),
     * each of its {@link #REDUCE} items summing every {@code REDUCE}-th element in double, then a tree in
     * local memory; first the mean, then the squared deviations from it, as the plain kernel's two passes.
     */
    public static void groupStats(KernelContext ctx, float[] x, float[] stats, int n, int c, int hw, int groups, float eps) {
        int q = ctx.groupIdx;
        int l = ctx.localIdx;
        int m = (c / groups) * hw;
        int base = q * m;
        double[] part = ctx.allocateDoubleLocalArray(REDUCE);
        double s = 0;
        for (int e = l; e < m; e += REDUCE) {
            s += x[base + e];
        }
        part[l] = s;
        ctx.localBarrier();
        for (int step = REDUCE / 2; step > 0; step >>= 1) {
            if (l < step) {
                part[l] += part[l + step];
            }
            ctx.localBarrier();
        }
        double mean = part[0] / m;
        ctx.localBarrier();
        double v = 0;
        for (int e = l; e < m; e += REDUCE) {
            double d = x[base + e] - mean;
            v += d * d;
        }
        part[l] = v;
        ctx.localBarrier();
        for (int step = REDUCE / 2; step > 0; step >>= 1) {
            if (l < step) {
                part[l] += part[l + step];
            }
            ctx.localBarrier();
        }
        if (l == 0) {
            stats[2 * q] = (float) mean;
            stats[2 * q + 1] = (float) (1.0 / Math.sqrt(part[0] / m + eps));
        }
    }

    /** {@code norm.groupApply}: one work-item per element of {@code y}; items past the end do nothing. */
    public static void groupApply(KernelContext ctx, float[] x, float[] stats, float[] gamma, float[] beta, float[] y,
                                  int n, int c, int h, int w, int groups, int silu) {
        int e = ctx.globalIdx;
        int plane = h * w;
        if (e < n * c * plane) {
            int p = e / plane;
            int ch = p % c;
            int q = p / (c / groups);
            float v = (x[e] - stats[2 * q]) * (stats[2 * q + 1] * gamma[ch]) + beta[ch];
            y[e] = silu != 0 ? ActivationKernels.siluOf(v) : v;
        }
    }

    /**
     * {@code conv2d.forward}: work-item (ox, oy, n·Cout + co) of a grid rounded up to whole 8×8 groups sums
     * {@code y[n, co, oy, ox]} over its input channels and taps (stride, padding, dilation and groups from the
     * geometry array), in the plain kernel's order: input channel, then kernel row, then kernel column; then adds
     * {@code b[co]}, as the plain kernel does last.
     */
    public static void conv2dForward(KernelContext ctx, float[] x, float[] w, float[] b, float[] y, int[] g) {
        int ox = ctx.globalIdx;
        int oy = ctx.globalIdy;
        int nco = ctx.globalIdz;
        int oh = g[Conv2dKernels.OH];
        int ow = g[Conv2dKernels.OW];
        if (ox < ow && oy < oh) {
            int cin = g[Conv2dKernels.CIN];
            int h = g[Conv2dKernels.H];
            int wi = g[Conv2dKernels.W];
            int cout = g[Conv2dKernels.COUT];
            int kh = g[Conv2dKernels.KH];
            int kw = g[Conv2dKernels.KW];
            int cinG = cin / g[Conv2dKernels.GROUPS];
            int coutG = cout / g[Conv2dKernels.GROUPS];
            int n = nco / cout;
            int co = nco - n * cout;
            int iy0 = oy * g[Conv2dKernels.SH] - g[Conv2dKernels.PH];
            int ix0 = ox * g[Conv2dKernels.SW] - g[Conv2dKernels.PW];
            int dh = g[Conv2dKernels.DH];
            int dw = g[Conv2dKernels.DW];
            float sum = 0f;
            for (int cil = 0; cil < cinG; cil++) {
                int xPlane = (n * cin + (co / coutG) * cinG + cil) * h * wi;
                int wBase = (co * cinG + cil) * kh * kw;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = iy0 + ky * dh;
                    if (iy >= 0 && iy < h) {
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ix0 + kx * dw;
                            if (ix >= 0 && ix < wi) {
                                sum += w[wBase + ky * kw + kx] * x[xPlane + iy * wi + ix];
                            }
                        }
                    }
                }
            }
            y[(nco * oh + oy) * ow + ox] = sum + b[co];
        }
    }

    /**
     * {@code prismconv.forward}: work-item (j, i, n·C + ch) of a grid rounded up to whole 8×8 groups computes
     * {@code y[n, ch, i, j]}: the bias, then every tap whose source row and column lie inside the image, from
     * the source channel the padding mode gives ({@link PrismConvKernels#sourceChannel}).
     */
    public static void prismConvForward(KernelContext ctx, float[] x, float[] f, float[] b, float[] y, int n, int c, int h, int w,
                                        int kc, int kh, int kw, int mode) {
        int j = ctx.globalIdx;
        int i = ctx.globalIdy;
        int p = ctx.globalIdz;
        if (j < w && i < h) {
            int img = p / c;
            int ch = p - img * c;
            int pc = kc / 2;
            int ph = kh / 2;
            int pw = kw / 2;
            float acc = b[0];
            for (int dc = 0; dc < kc; dc++) {
                int cs = PrismConvKernels.sourceChannel(ch + dc - pc, c, mode);
                if (cs >= 0) {
                    int plane = (img * c + cs) * h;
                    for (int dy = 0; dy < kh; dy++) {
                        int row = i + dy - ph;
                        if (row >= 0 && row < h) {
                            for (int d = 0; d < kw; d++) {
                                int col = j + d - pw;
                                if (col >= 0 && col < w) {
                                    acc += f[(dc * kh + dy) * kw + d] * x[(plane + row) * w + col];
                                }
                            }
                        }
                    }
                }
            }
            y[(p * h + i) * w + j] = acc;
        }
    }

    private static int roundUp(int v, int to) {
        return (v + to - 1) / to * to;
    }

    private static Method method(String name) {
        for (Method m : DeviceKernels.class.getDeclaredMethods()) {
            if (m.getName().equals(name) && m.getParameterCount() > 0 && m.getParameterTypes()[0] == KernelContext.class) {
                return m;
            }
        }
        throw new IllegalStateException("DeviceKernels has no kernel method " + name);
    }
}
