package dev.prism.diffusion.compress;

import dev.prism.kernels.Approx;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ApproxConv compression of a trained model (ApproxConv §3.4): every convolution weight
 * {@code X.weight [Cout, Cin, K, K]} of a source model whose counterpart in the target model is CosConv / ChebConv
 * coefficients {@code X.coeff [Cout, Cin, N, N]} is replaced by coefficients fitted by exact least squares
 * ({@link KernelFit}); every other parameter is copied. The target is the same architecture built with
 * {@code conv=cosconv|chebconv} and the chosen orders, so its parameter names are the source's with
 * {@code weight} → {@code coeff} where a kernel became a series.
 */
public final class ApproxCompression {
    private ApproxCompression() {
    }

    /**
     * One replaced convolution.
     *
     * @param name          the target's parameter ({@code down.0.res.0.conv1.coeff})
     * @param cout          output channels
     * @param cin           input channels
     * @param k             the kernel size K
     * @param order         N, coefficients per axis
     * @param before        parameters of the kernel: Cout·Cin·K²
     * @param after         parameters of the series: Cout·Cin·N²
     * @param fit           the fit
     * @param seconds       the time of the fit
     */
    public record Layer(String name, int cout, int cin, int k, int order, long before, long after, KernelFit.Fit fit, double seconds) {
    }

    /**
     * Fills {@code target}'s parameters from {@code source}'s: fitted coefficients for each {@code .coeff}, copies
     * for the rest. Reads {@code source}, writes {@code target}'s parameters.
     *
     * @param basis the target's series: COSINE for CosConv, CHEBYSHEV for ChebConv
     * @return the replaced convolutions in the target's parameter order
     * @throws IllegalArgumentException naming the parameter when a target parameter has no source counterpart, a
     *                                  source parameter none in the target, or the shapes disagree (the message lists
     *                                  every such parameter)
     */
    public static List<Layer> compress(Module source, Module target, Approx.Basis basis) {
        Map<String, Parameter> from = new LinkedHashMap<>();
        for (Parameter p : source.parameters()) {
            from.put(p.name(), p);
        }
        List<String> problems = new ArrayList<>();
        List<Layer> layers = new ArrayList<>();
        for (Parameter p : target.parameters()) {
            int[] ts = p.shape();
            boolean series = p.name().endsWith(".coeff");
            String srcName = series ? p.name().substring(0, p.name().length() - "coeff".length()) + "weight" : p.name();
            Parameter s = from.remove(srcName);
            if (s == null) {
                problems.add("'" + p.name() + "': no '" + srcName + "' in the source");
                continue;
            }
            int[] ss = s.shape();
            if (!series) {
                if (!Arrays.equals(ts, ss)) {
                    problems.add("'" + p.name() + "': expected " + Arrays.toString(ts) + ", found " + Arrays.toString(ss));
                } else {
                    p.load(s.value());
                }
                continue;
            }
            if (ss.length != 4 || ss[0] != ts[0] || ss[1] != ts[1] || ss[2] != ss[3]) {
                problems.add("'" + srcName + "': expected a square convolution kernel [" + ts[0] + ", " + ts[1] + ", K, K], found "
                        + Arrays.toString(ss));
                continue;
            }
            int cout = ts[0], cin = ts[1], n = ts[2], k = ss[2];
            long t0 = System.nanoTime();
            KernelFit.Fit fit = KernelFit.fit(basis, n, k, s.value().data(), cout * cin);
            double seconds = (System.nanoTime() - t0) / 1e9;
            p.load(Tensor.of(fit.coefficients(), cout, cin, n, n));
            layers.add(new Layer(p.name(), cout, cin, k, n, (long) cout * cin * k * k, (long) cout * cin * n * n, fit, seconds));
        }
        for (String left : from.keySet()) {
            problems.add("'" + left + "' of the source has no place in the compressed model");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the compressed model does not match the source model: " + String.join("; ", problems));
        }
        return layers;
    }
}
