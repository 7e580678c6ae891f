package dev.prism.nn.models;

import dev.prism.kernels.ArgumentException;
import dev.prism.kernels.PrismConv.ChannelPadding;
import dev.prism.nn.Heap;
import dev.prism.nn.Module;
import dev.prism.nn.Parameter;
import dev.prism.nn.layers.ConvType;
import dev.prism.nn.layers.GroupNorm;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The models Prism builds by name, from {@code key=value} options ({@code prism --model unet --config conv=deepprism}).
 *
 * <ul>
 *   <li>{@code unet}: {@link UNet}; options in, width, levels, res, attn, conv, order, attention, heads, groups, padding,
 *       mults (one multiplier per level, or one for all: {@code 1,2,2}), skip ({@code add} or {@code concat})</li>
 *   <li>{@code wg-unet}: the same UNet with WG-Down / WG-Up; also gates, gate_hidden</li>
 *   <li>{@code ddpm-unet}: the same UNet with other defaults: the "plain UNet" of the training benchmark, the DDPM
 *       UNet (concatenated skips) at base width 32, multipliers 1,2,2, one residual block per level, attention at
 *       the third level (8×8 for a 32×32 input) and in the middle: 1,112,801 parameters for one input channel</li>
 *   <li>{@code deepprism-vae}: {@link DeepPrismVae}; options in, width, z, groups, padding</li>
 *   <li>{@code classifier}: {@link Classifier}; options in, width, stages, convs, hidden, classes, groups</li>
 *   <li>{@code wavediff}: {@link WaveDiffGenerator}; options preset (cifar10, whose values are the defaults, stl10, celeba_256,
 *       celeba_512, celeba_1024, lsun, or Prism's fmnist),
 *       in, size, nf, mults, res, attn (resolutions with attention, or none), nz, zdim, mlp, timesteps (T of the sampler),
 *       net (normal: NCSNpp, wavelet: WaveletNCSNpp), bands (the coefficients' order: hv or vh), patch (side of the
 *       patches the input is folded into, 1 for none)</li>
 * </ul>
 * Every option has a default (listed by {@link #defaults}; groups defaults to 32, the classifier's to 8, or
 * to the largest divisor of the width below that); an unknown model or option, or a bad value, is an IllegalArgumentException
 * naming it with the expected and the found value.
 */
public final class Models {
    /** A built model and the options it was built from. */
    public record Built(String name, Map<String, String> options, Module module) {
        /** The UNet, for the denoising models. */
        public UNet unet() {
            if (!(module instanceof UNet u)) {
                throw new IllegalArgumentException("model '" + name + "' is not a denoising UNet");
            }
            return u;
        }

        /** The generator, for the {@code wavediff} model. */
        public WaveDiffGenerator wavediff() {
            if (!(module instanceof WaveDiffGenerator w)) {
                throw new IllegalArgumentException("model '" + name + "' is not a WaveDiff generator");
            }
            return w;
        }

        /** The classifier, for the {@code classifier} model. */
        public Classifier classifier() {
            if (!(module instanceof Classifier c)) {
                throw new IllegalArgumentException("model '" + name + "' is not a classifier");
            }
            return c;
        }
    }

    public static final List<String> NAMES = List.of("unet", "wg-unet", "ddpm-unet", "deepprism-vae", "classifier", "wavediff");

    /** The presets of {@code wavediff}: the official configurations Prism has ({@link #WAVEDIFF_OFFICIAL}), then Prism's own. */
    public static final List<String> WAVEDIFF_PRESETS = List.of("cifar10", "stl10", "celeba_256", "celeba_512", "celeba_1024", "lsun", "fmnist");
    /** The presets that are configurations of the official code (run.sh), which its published checkpoints and timings use. */
    public static final List<String> WAVEDIFF_OFFICIAL = List.of("cifar10", "stl10", "celeba_256", "celeba_512", "celeba_1024", "lsun");

    /** The models that denoise: a {@link UNet} predicting ε from {@code x_t} and t. */
    public static final List<String> DENOISERS = List.of("unet", "wg-unet", "ddpm-unet");

    private Models() {
    }

    /** The options of {@code model} with their default values. */
    public static Map<String, String> defaults(String model) {
        Map<String, String> d = new LinkedHashMap<>();
        switch (check(model)) {
            case "unet", "wg-unet", "ddpm-unet" -> {
                boolean ddpm = model.equals("ddpm-unet");
                d.put("in", "1");
                d.put("width", ddpm ? "32" : "64");
                d.put("levels", "3");
                d.put("res", "1");
                d.put("attn", "2");
                d.put("conv", "standard");
                d.put("order", "2");
                d.put("attention", "standard");
                d.put("heads", "1");
                d.put("groups", "32");
                d.put("padding", "zeros");
                d.put("mults", ddpm ? "1,2,2" : "1");
                d.put("skip", ddpm ? "concat" : "add");
                if (model.equals("wg-unet")) {
                    d.put("gates", "1");
                    d.put("gate_hidden", "16");
                }
            }
            case "wavediff" -> {
                // The official CIFAR-10 test configuration (run.sh): class NCSNpp on 16×16 Haar coefficients.
                d.put("preset", "cifar10");
                d.put("in", "12");
                d.put("size", "16");
                d.put("nf", "128");
                d.put("mults", "1,2,2");
                d.put("res", "2");
                d.put("attn", "32");
                d.put("nz", "100");
                d.put("zdim", "256");
                d.put("mlp", "4");
                d.put("timesteps", "4");
                d.put("net", "normal");
                d.put("bands", "hv");
                d.put("patch", "1");
            }
            case "classifier" -> {
                d.put("in", "1");
                d.put("width", "16");
                d.put("stages", "3");
                d.put("convs", "2");
                d.put("hidden", "128");
                d.put("classes", "10");
                d.put("groups", "8");
                d.put("conv", "standard");
                d.put("order", "2");
            }
            default -> {
                d.put("in", "3");
                d.put("width", "256");
                d.put("z", "3");
                d.put("groups", "32");
                d.put("padding", "zeros");
            }
        }
        return d;
    }

    /**
     * Builds {@code model} with {@code options} over its defaults and initialises it from {@code seed}; first
     * checks that its weights fit in the heap ({@link Heap}).
     *
     * @throws IllegalArgumentException for an unknown model (an {@link ArgumentException} naming {@code model}) or
     *                                  option, or a value out of range
     * @throws Heap.HeapException       naming {@code options} when the weights need more heap than there is
     */
    public static Built build(String model, Map<String, String> options, long seed) {
        Built b = structure(model, options);
        checkHeap(b, options);
        b.module().initialise(seed);
        return b;
    }

    /**
     * Fails unless the weights of {@code built} fit in the heap ({@link Heap#require}), before any is allocated.
     *
     * @param given the options the caller chose (the message shows them)
     * @throws Heap.HeapException naming {@code options}
     */
    public static void checkHeap(Built built, Map<String, String> given) {
        List<Parameter> ps = built.module().parameters();
        long bytes = 0;
        for (Parameter p : ps) {
            bytes = Heap.saturatedAdd(bytes, Heap.floatArrayBytes(p.numel()));
        }
        Heap.require("options", new TreeMap<>(given), "model " + built.name() + " with " + built.module().parameterCount()
                + " parameters", bytes);
    }

    /**
     * The model {@code model} with {@code options} over its defaults, its parameters declared but not
     * allocated (see {@link Parameter#value()}): shapes and counts without their memory, for describing a
     * model or checking it against the heap.
     *
     * @throws IllegalArgumentException as {@link #build}
     */
    public static Built structure(String model, Map<String, String> options) {
        Map<String, String> o = defaults(model);
        if (model.equals("wavediff") && options.containsKey("preset")) {
            o.putAll(wavediffPreset(options.get("preset").trim()));
        }
        for (var e : options.entrySet()) {
            if (!o.containsKey(e.getKey())) {
                throw new IllegalArgumentException("model '" + model + "': unknown option '" + e.getKey() + "'; options: "
                        + String.join(", ", o.keySet()));
            }
            o.put(e.getKey(), e.getValue().trim());
        }
        Module m = switch (model) {
            case "unet", "wg-unet", "ddpm-unet" -> {
                int width = integer(o, "width");
                int levels = integer(o, "levels");
                boolean wg = model.equals("wg-unet");
                yield new UNet(new UNet.Config(integer(o, "in"), width, levels, integer(o, "res"),
                        integer(o, "attn"), ConvType.parse("conv", o.get("conv")), perLevel("order", o.get("order"), levels),
                        o.get("attention"), integer(o, "heads"), groups(o, options, width, 32), wg,
                        wg ? integer(o, "gates") : 1, wg ? integer(o, "gate_hidden") : 16, padding(o),
                        perLevel("mults", o.get("mults"), levels), o.get("skip").toLowerCase(Locale.ROOT)));
            }
            case "wavediff" -> {
                if (!WAVEDIFF_PRESETS.contains(o.get("preset"))) {
                    throw new IllegalArgumentException("option preset expected one of " + String.join(", ", WAVEDIFF_PRESETS)
                            + " (the official configurations, and Prism's Fashion-MNIST model), found '" + o.get("preset") + "'");
                }
                int size = integer(o, "size");
                int[] mults = integers("mults", o.get("mults"));
                int t = integer(o, "timesteps");
                if (t < 1) {
                    throw new IllegalArgumentException("option timesteps expected >= 1, found " + t);
                }
                String net = o.get("net");
                if (!net.equals("normal") && !net.equals("wavelet")) {
                    throw new IllegalArgumentException("option net expected normal (NCSNpp) or wavelet (WaveletNCSNpp), found '" + net + "'");
                }
                if (!o.get("bands").equals("hv") && !o.get("bands").equals("vh")) {
                    throw new IllegalArgumentException("option bands expected hv (cA, cH, cV, cD: pytorch_wavelets) or vh (cA, cV, cH, cD: "
                            + "the official DWT_IDWT module), found '" + o.get("bands") + "'");
                }
                yield new WaveDiffGenerator(new WaveDiffGenerator.Config(integer(o, "in"), size, integer(o, "nf"), mults,
                        integer(o, "res"), o.get("attn").equalsIgnoreCase("none") ? new int[0] : integers("attn", o.get("attn")),
                        integer(o, "nz"), integer(o, "zdim"), integer(o, "mlp"), net.equals("wavelet"), integer(o, "patch")));
            }
            case "classifier" -> {
                int width = integer(o, "width");
                int stages = integer(o, "stages");
                ConvType conv = ConvType.parse("conv", o.get("conv"));
                if (conv.keepsWidth()) {
                    throw new IllegalArgumentException("classifier option conv expected standard, cosconv or chebconv (its convolutions "
                            + "change the width), found '" + o.get("conv") + "'");
                }
                yield new Classifier(new Classifier.Config(integer(o, "in"), width, stages, integer(o, "convs"),
                        integer(o, "hidden"), integer(o, "classes"), groups(o, options, width, 8)), conv,
                        perLevel("order", o.get("order"), Math.min(Math.max(stages, 1), 16)));
            }
            default -> {
                int width = integer(o, "width");
                yield new DeepPrismVae(new DeepPrismVae.Config(integer(o, "in"), width, integer(o, "z"), groups(o, options, width, 32), padding(o)));
            }
        };
        return new Built(model, o, m);
    }

    /**
     * Parses {@code k=v} items, later ones winning. A first item that is a preset's name ({@link #WAVEDIFF_PRESETS})
     * stands for {@code preset=NAME}. An item without {@code =} after one with it continues that
     * value, with a comma: the command line splits {@code --config mults=1,2,2} at its commas into
     * {@code mults=1}, {@code 2}, {@code 2}, which this joins back into {@code mults=1,2,2}.
     *
     * @throws ArgumentException naming {@code options} for a first item without {@code =}, or one that starts with it
     */
    public static Map<String, String> parseOptions(List<String> items) {
        Map<String, String> out = new TreeMap<>();
        if (items == null) {
            return out;
        }
        String last = null;
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq < 0 && last == null && WAVEDIFF_PRESETS.contains(item.trim())) {
                out.put("preset", item.trim());  // --config cifar10, as the official run.sh names its configurations
                continue;
            }
            if (eq < 0 && last != null) {
                out.put(last, out.get(last) + "," + item.trim());
                continue;
            }
            if (eq <= 0) {
                throw ArgumentException.expected("options", "key=value", "'" + item + "'");
            }
            last = item.substring(0, eq).trim();
            out.put(last, item.substring(eq + 1).trim());
        }
        return out;
    }

    /**
     * The options stored in a weight file's {@code options} metadata: a JSON object of strings
     * ({@code {"width": "64", "conv": "deepprism"}}). Null or empty gives no options.
     *
     * @throws IllegalArgumentException when the text is not such an object
     */
    public static Map<String, String> fromJson(String json) {
        Map<String, String> out = new TreeMap<>();
        if (json == null || json.isBlank()) {
            return out;
        }
        try (com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory().createParser(json)) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("options metadata expected a JSON object, found '" + json + "'");
            }
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String k = p.currentName();
                if (!p.nextToken().isScalarValue()) {
                    throw new IllegalArgumentException("options metadata: value of '" + k + "' expected a string, found a structure");
                }
                out.put(k, p.getText());
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("options metadata is not valid JSON: " + e.getMessage());
        }
        return out;
    }

    private static String check(String model) {
        if (!NAMES.contains(model)) {
            throw ArgumentException.expected("model", "one of " + String.join(", ", NAMES), "'" + model + "'");
        }
        return model;
    }

    /**
     * An option with one integer per level (or per classifier stage), or one for every level, comma-separated:
     * {@code mults}, {@code order}.
     */
    private static int[] perLevel(String option, String text, int levels) {
        if (levels < 1 || levels > UNet.MAX_LEVELS) {
            throw new IllegalArgumentException("levels expected 1 to " + UNet.MAX_LEVELS + ", found " + levels);
        }
        String[] parts = text.split(",", -1);
        if (parts.length != 1 && parts.length != levels) {
            throw new IllegalArgumentException("option " + option + " expected 1 or " + levels + " values (levels=" + levels + "), found "
                    + parts.length + " in '" + text + "'");
        }
        int[] m = new int[Math.max(levels, 0)];
        for (int l = 0; l < m.length; l++) {
            String p = parts[parts.length == 1 ? 0 : l].trim();
            try {
                m[l] = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + option + " expected integers, found '" + p + "' in '" + text + "'");
            }
        }
        return m;
    }

    /**
     * The options of a WaveDiff preset, from the official run.sh test lines: cifar10 (class NCSNpp, the defaults),
     * stl10, celeba_512 and lsun (class WaveletNCSNpp, coefficients by pytorch_wavelets), celeba_256 and celeba_1024
     * (WaveletNCSNpp; the sampler inverts the official DWT_IDWT module, bands cA, cV, cH, cD; celeba_1024 folds its 512×512
     * coefficients into 2×2 patches, no attention level); and Prism's fmnist.
     * An unknown name gives no options (the build then names the presets there are).
     */
    private static Map<String, String> wavediffPreset(String preset) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("preset", preset);
        if (preset.equals("fmnist")) {
            // Prism's own: grey 32×32 Fashion-MNIST (28 padded) as 4 Haar bands of 16×16, the CIFAR-10 structure at a
            // width that trains on 2 cores (docs/WAVEDIFF.md, Training).
            p.put("in", "4");
            p.put("nf", "32");
            p.put("res", "1");
            p.put("nz", "32");
            p.put("zdim", "128");
            p.put("mlp", "2");
        }
        if (preset.equals("stl10")) {
            p.put("size", "32");
            p.put("mults", "1,2,2,2");
            p.put("attn", "16");
            p.put("net", "wavelet");
        }
        // The CelebA-HQ and LSUN presets: WaveletNCSNpp at nf 64 with n_mlp 3, and per preset (run.sh's test lines) the
        // coefficients' size, ch_mult, attention, T and band order. celeba_1024 also folds its input into 2×2 patches;
        // its --attn_resolutions 0 is a level that never occurs (attention in the middle only).
        String[] large = switch (preset) {
            case "celeba_256" -> new String[] {"128", "1,2,2,2,4", "16", "2", "vh"};
            case "celeba_512" -> new String[] {"256", "1,1,2,2,4,4", "16", "2", "hv"};
            case "celeba_1024" -> new String[] {"512", "1,1,2,2,4,4", "none", "2", "vh"};
            case "lsun" -> new String[] {"128", "1,2,2,2,4", "16", "4", "hv"};
            default -> null;
        };
        if (large != null) {
            p.put("size", large[0]);
            p.put("nf", "64");
            p.put("mults", large[1]);
            p.put("attn", large[2]);
            p.put("mlp", "3");
            p.put("timesteps", large[3]);
            p.put("net", "wavelet");
            p.put("bands", large[4]);
            if (preset.equals("celeba_1024")) {
                p.put("patch", "2");
            }
        }
        return p;
    }

    /** A comma-separated list of integers ({@code 1,2,2}). */
    private static int[] integers(String key, String text) {
        String[] parts = text.split(",", -1);
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                v[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + key + " expected integers separated by commas, found '" + text + "'");
            }
        }
        return v;
    }

    private static int integer(Map<String, String> o, String key) {
        try {
            return Integer.parseInt(o.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " expected an integer, found '" + o.get(key) + "'");
        }
    }

    /**
     * The group count: as given (the model checks it divides the width), or by default {@code preferred},
     * or the largest divisor of the width below it when it does not divide the width.
     */
    private static int groups(Map<String, String> o, Map<String, String> given, int width, int preferred) {
        int g = given.containsKey("groups") ? integer(o, "groups") : GroupNorm.groupsFor(width, preferred);
        // the options recorded with the model (weight files, checkpoints) hold the count used, so that
        // building from them again gives this model
        o.put("groups", String.valueOf(g));
        return g;
    }

    private static ChannelPadding padding(Map<String, String> o) {
        String p = o.get("padding").toLowerCase(Locale.ROOT);
        try {
            return ChannelPadding.ofTorchName(p);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option padding expected zeros, replicate or circular, found '" + o.get("padding") + "'");
        }
    }
}
