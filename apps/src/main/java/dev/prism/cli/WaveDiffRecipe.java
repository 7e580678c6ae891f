package dev.prism.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The training settings {@code prism train --model wavediff} takes for a preset where their options are not given: for
 * the official configurations, the values the official {@code run.sh} passes to {@code train_wddgan.py} (and that
 * script's defaults where {@code run.sh} passes none: {@code t_emb_dim} 256, {@code ema_decay} 0.9999); for Prism's
 * {@code fmnist}, the settings of its bundled model.
 *
 * <p>The discriminator follows {@code train_wddgan.py}: {@code Discriminator_small} for CIFAR-10 and STL-10,
 * {@code Discriminator_large} for every other data set.
 *
 * @param lrG      the generator's learning rate ({@code --lr}; the official {@code --lr_g})
 * @param lrD      the discriminator's ({@code --d-lr}; {@code --lr_d})
 * @param r1Gamma  the R1 penalty's weight ({@code --r1-gamma}; {@code --r1_gamma})
 * @param lazyReg  R1 at every K-th iteration ({@code --lazy-reg}; {@code --lazy_reg})
 * @param ema      the generator's EMA decay ({@code --ema}; {@code --ema_decay})
 * @param kind     small or large ({@code --disc kind})
 * @param ngf      the discriminator's width ({@code --disc ngf}; {@code --ngf})
 * @param temb     its time-embedding width ({@code --disc temb}; {@code --t_emb_dim})
 * @param layers   its blocks ({@code --disc layers}; {@code --num_disc_layers})
 */
record WaveDiffRecipe(double lrG, double lrD, double r1Gamma, int lazyReg, double ema, String kind, int ngf, int temb, int layers) {

    /** The settings of {@code preset}; an unknown name gets CIFAR-10's (the model build names the presets there are). */
    static WaveDiffRecipe of(String preset) {
        return switch (preset.trim()) {
            case "fmnist" -> new WaveDiffRecipe(1.6e-4, 1.25e-4, 0.02, 1, 0.999, "small", 32, 128, 3);
            case "stl10" -> new WaveDiffRecipe(1.6e-4, 1.25e-4, 0.02, 15, 0.9999, "small", 64, 256, 4);
            case "celeba_256" -> new WaveDiffRecipe(2e-4, 1e-4, 2.0, 10, 0.9999, "large", 64, 256, 5);
            case "celeba_512", "celeba_1024" -> new WaveDiffRecipe(2e-4, 1e-4, 2.0, 10, 0.9999, "large", 64, 256, 6);
            case "lsun" -> new WaveDiffRecipe(1.6e-4, 1e-4, 1.0, 10, 0.999, "large", 64, 256, 5);
            default -> new WaveDiffRecipe(1.6e-4, 1.25e-4, 0.02, 15, 0.9999, "small", 64, 256, 3);
        };
    }

    /** The discriminator's options, in the order a checkpoint records them. */
    Map<String, String> disc() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("ngf", String.valueOf(ngf));
        o.put("temb", String.valueOf(temb));
        o.put("layers", String.valueOf(layers));
        o.put("kind", kind);
        return o;
    }
}
