package dev.prism.nn.train;

import dev.prism.kernels.ArgumentException;

/**
 * The settings of the AdamW optimiser (Loshchilov &amp; Hutter, decoupled weight decay), with PyTorch's
 * defaults for β₁, β₂ and ε.
 *
 * @param lr          the peak learning rate (the schedule scales it)
 * @param beta1       the first moment's decay
 * @param beta2       the second moment's decay
 * @param eps         added to the root of the second moment
 * @param weightDecay the decoupled weight decay λ (0: Adam)
 */
public record AdamW(double lr, double beta1, double beta2, double eps, double weightDecay) {
    public AdamW {
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new ArgumentException("lr", "expected a finite number > 0, found " + lr);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new ArgumentException("beta1", "expected a number in [0, 1), found " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new ArgumentException("beta2", "expected a number in [0, 1), found " + beta2);
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new ArgumentException("eps", "expected a finite number > 0, found " + eps);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new ArgumentException("weightDecay", "expected a finite number >= 0, found " + weightDecay);
        }
    }

    /** β₁ = 0.9, β₂ = 0.999, ε = 1e-8, as {@code torch.optim.AdamW}. */
    public static AdamW of(double lr, double weightDecay) {
        return new AdamW(lr, 0.9, 0.999, 1e-8, weightDecay);
    }
}
