package dev.prism.nn.novector;

import dev.prism.backend.Backend;
import dev.prism.backend.Executable;
import dev.prism.backend.JvmBackend;
import dev.prism.backend.Plan;
import dev.prism.kernels.Activation;
import dev.prism.kernels.Conv2d;
import dev.prism.kernels.Gemm;
import dev.prism.backend.Launch;
import dev.prism.kernels.Norm;
import dev.prism.kernels.PrismConv;
import dev.prism.nn.Graph;
import dev.prism.nn.Tensor;
import dev.prism.nn.models.Models;
import dev.prism.nn.models.UNet;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Runs kernels that have hand-vectorised variants, and a small UNet forward, on a backend; the child
 * process of {@link NoVectorApiTest} runs it on {@code JvmBackend.parallel} in a JVM without the Vector
 * API module and writes the results to the file named by its argument.
 */
public final class NoVectorApiMain {
    private NoVectorApiMain() {
    }

    public static void main(String[] args) throws IOException {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            System.err.println("this JVM has the Vector API module: the check needs one without it");
            System.exit(3);
        }
        List<float[]> out;
        try (JvmBackend b = JvmBackend.parallel(4); JvmBackend again = JvmBackend.parallel(2)) {
            System.out.println("backend " + b.id() + ": " + b.description());
            out = compute(b);
            List<float[]> twice = compute(again);
            for (int i = 0; i < out.size(); i++) {
                if (!java.util.Arrays.equals(out.get(i), twice.get(i))) {
                    System.err.println("result " + i + " differs between 4 and 2 threads");
                    System.exit(4);
                }
            }
        }
        try (DataOutputStream d = new DataOutputStream(Files.newOutputStream(Path.of(args[0])))) {
            d.writeInt(out.size());
            for (float[] a : out) {
                d.writeInt(a.length);
                for (float v : a) {
                    d.writeInt(Float.floatToRawIntBits(v));
                }
            }
        }
    }

    /** The results, in a fixed order: the outputs of six kernels with variants, then the UNet's ε. */
    static List<float[]> compute(Backend backend) {
        SplittableRandom r = new SplittableRandom(13);
        List<float[]> out = new ArrayList<>();
        int n = 2, c = 8, h = 12, w = 20;
        float[] x = random(r, n * c * h * w);

        float[] a = random(r, 37 * 29), bm = random(r, 29 * 45), cm = new float[37 * 45];
        backend.run(Gemm.matmul(a, bm, cm, 37, 45, 29, false, false));
        out.add(cm);

        float[] f = random(r, 27), bias = random(r, 1), y = new float[x.length];
        backend.run(PrismConv.forward(x, f, bias, y, n, c, h, w, PrismConv.ChannelPadding.ZEROS));
        out.add(y);

        Conv2d.Geometry g = Conv2d.Geometry.of(n, c, h, w, 6, 3, 1, 1, 1, 1);
        float[] wc = random(r, 6 * c * 9), yc = new float[n * 6 * h * w];
        for (Launch l : Conv2d.forward(x, wc, null, yc, g)) {
            backend.run(l);
        }
        out.add(yc);

        float[] s = new float[x.length];
        backend.run(Activation.silu(x, s, x.length));
        out.add(s);

        float[] p = new float[x.length];
        backend.run(Activation.softmax(x, p, n * c * h, w));
        out.add(p);

        float[] stats = new float[2 * n * 4], gamma = random(r, c), beta = random(r, c), yn = new float[x.length];
        backend.run(Norm.groupStats(x, stats, n, c, h, w, 4, 1e-6f));
        backend.run(Norm.groupApply(x, stats, gamma, beta, yn, n, c, h, w, 4, true));
        out.add(stats);
        out.add(yn);

        UNet unet = Models.build("unet", Map.of("width", "8", "groups", "4", "levels", "2", "attn", "1"), 5).unet();
        Graph graph = new Graph("unet");
        Tensor img = Tensor.of(random(r, 2 * 8 * 8), 2, 1, 8, 8);
        Tensor t = Tensor.of(new float[] {17f, 503f}, 2);
        Tensor eps = unet.forward(graph, img, t);
        Plan plan = graph.addForwardTo(Plan.builder("unet")).inputs(img.data(), t.data()).outputs(eps.data()).build();
        try (Executable e = backend.compile(plan)) {
            e.execute();
        }
        out.add(eps.data());
        return out;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }
}
