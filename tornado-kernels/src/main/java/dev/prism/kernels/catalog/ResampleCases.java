package dev.prism.kernels.catalog;

import dev.prism.backend.Plan;
import dev.prism.kernels.Resample;

import java.util.List;

/**
 * Nearest 2× upsampling, 2×2 average pooling and WaveDiff's FIR resampling (upfirdn), forward and backward, at one
 * image size: pooling and FIR downsampling read it, upsampling writes it (MODEL: 64×64 and 32×32, C = 64); WaveDiff's
 * patchify and unpatchify, forward and backward (MODEL: 1×64×64×64 and 2×2 patches).
 */
final class ResampleCases implements CaseProvider {
    @Override
    public List<KernelCase> cases(Size size) {
        boolean small = size == Size.SMALL;
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 14 : 64, w = small ? 18 : 64;
        int big = n * c * h * w, little = big / 4;
        String down = n + "x" + c + "x" + h + "x" + w + " -> " + h / 2 + "x" + w / 2;
        String up = n + "x" + c + "x" + h / 2 + "x" + w / 2 + " -> " + h + "x" + w;
        return List.of(
                new KernelCase("resample.upsample2x", up, seed -> {
                    float[] x = new Rand(seed).gaussian(little), y = Rand.poisoned(big);
                    return Plan.builder("resample.upsample2x").add(Resample.upsample2x(x, y, n, c, h / 2, w / 2))
                            .inputs(x).outputs(y).build();
                }),
                new KernelCase("resample.upsample2x.backward", up, seed -> {
                    float[] gy = new Rand(seed).gaussian(big), gx = Rand.poisoned(little);
                    return Plan.builder("resample.upsample2x.backward")
                            .add(Resample.upsample2xBackward(gy, gx, n, c, h / 2, w / 2)).inputs(gy).outputs(gx).build();
                }),
                new KernelCase("resample.avgPool2x", down, seed -> {
                    float[] x = new Rand(seed).gaussian(big), y = Rand.poisoned(little);
                    return Plan.builder("resample.avgPool2x").add(Resample.avgPool2x(x, y, n, c, h, w))
                            .inputs(x).outputs(y).build();
                }),
                new KernelCase("resample.avgPool2x.backward", down, seed -> {
                    float[] gy = new Rand(seed).gaussian(little), gx = Rand.poisoned(big);
                    return Plan.builder("resample.avgPool2x.backward").add(Resample.avgPool2xBackward(gy, gx, n, c, h, w))
                            .inputs(gy).outputs(gx).build();
                }),
                // WaveDiff's NCSN++ FIR resampling with the kernel [1,3,3,1]: 2x up (pads 2, 1), 2x down (pads 1, 1), and the
                // blur before a stride-2 convolution (pads 2, 2).
                fir("resample.upfirdn.up2", n, c, h / 2, w / 2, UP_TAPS, 2, 1, 2, 1, false),
                fir("resample.upfirdn.up2.backward", n, c, h / 2, w / 2, UP_TAPS, 2, 1, 2, 1, true),
                fir("resample.upfirdn.down2", n, c, h, w, TAPS, 1, 2, 1, 1, false),
                fir("resample.upfirdn.down2.backward", n, c, h, w, TAPS, 1, 2, 1, 1, true),
                fir("resample.upfirdn.blur", n, c, h, w, TAPS, 1, 1, 2, 2, false),
                fir("resample.upfirdn.blur.backward", n, c, h, w, TAPS, 1, 1, 2, 2, true),
                // WaveDiff's patchify (its generator's order, (p1 p2 c)) and unpatchify ((c p1 p2)): SMALL 2x5x15x9 with 3x3
                // patches, MODEL 1x64x64x64 with 2x2 patches.
                patch("resample.patchify", small, false, false),
                patch("resample.patchify.backward", small, false, true),
                patch("resample.unpatchify", small, true, false),
                patch("resample.unpatchify.backward", small, true, true));
    }

    /** A patchify ({@code (p1 p2 c)}) or an unpatchify ({@code (c p1 p2)}) of the image {@code [n,c,h,w]}, or its backward. */
    private static KernelCase patch(String name, boolean small, boolean unpatchify, boolean backward) {
        int n = small ? 2 : 1, c = small ? 5 : 64, h = small ? 15 : 64, w = small ? 9 : 64, p = small ? 3 : 2;
        int size = n * c * h * w;
        String image = c + "x" + h + "x" + w, patches = c * p * p + "x" + h / p + "x" + w / p;
        String shape = n + "x" + (unpatchify ? patches + " -> " + image : image + " -> " + patches) + " p" + p;
        return new KernelCase(name, shape, seed -> {
            float[] in = new Rand(seed).gaussian(size), out = Rand.poisoned(size);
            var launch = unpatchify
                    ? (backward ? Resample.unpatchifyBackward(in, out, n, c, h, w, p, true) : Resample.unpatchify(in, out, n, c, h, w, p, true))
                    : (backward ? Resample.patchifyBackward(in, out, n, c, h, w, p, false) : Resample.patchify(in, out, n, c, h, w, p, false));
            return Plan.builder(name).add(launch).inputs(in).outputs(out).build();
        });
    }

    private static final float[] TAPS = {1f / 8, 3f / 8, 3f / 8, 1f / 8};
    private static final float[] UP_TAPS = {2f / 8, 6f / 8, 6f / 8, 2f / 8};

    /** An upfirdn of {@code [n,c,h,w]}, or its backward (the adjoint of the upstream gradient of the forward's output). */
    private static KernelCase fir(String name, int n, int c, int h, int w, float[] taps, int up, int down, int pad0, int pad1,
                                  boolean backward) {
        int oh = Resample.upfirdnSize(h, up, down, pad0, pad1, taps.length), ow = Resample.upfirdnSize(w, up, down, pad0, pad1, taps.length);
        int in = n * c * h * w, out = n * c * oh * ow;
        String shape = n + "x" + c + "x" + h + "x" + w + " -> " + oh + "x" + ow + " up" + up + " down" + down + " pad" + pad0 + "," + pad1;
        return new KernelCase(name, shape, seed -> {
            float[] k = taps.clone();
            if (!backward) {
                float[] x = new Rand(seed).gaussian(in), y = Rand.poisoned(out);
                return Plan.builder(name).add(Resample.upfirdn(x, k, y, n, c, h, w, up, down, pad0, pad1)).constants(k).inputs(x)
                        .outputs(y).build();
            }
            float[] gy = new Rand(seed).gaussian(out), gx = Rand.poisoned(in);
            return Plan.builder(name).add(Resample.upfirdnBackward(gy, k, gx, n, c, h, w, up, down, pad0, pad1)).constants(k)
                    .inputs(gy).outputs(gx).build();
        });
    }
}
