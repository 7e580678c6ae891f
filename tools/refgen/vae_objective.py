#!/usr/bin/python3
"""Reference for the DeepPrism autoencoder's training objective (Prism's DeepPrismVae.objective):
    mean, logvar = E(x);  z = mean + exp(logvar/2)*eps  (logvar clamped to [-30, 20], as LDM's DiagonalGaussianDistribution)
    reconstruction = mse(G(z), x);  kl = 0.5*sum(mean^2 + exp(logvar) - 1 - logvar)/N
    loss = 0.5*reconstruction + kl_weight*kl
in float64 on the float32 weights of the nn test model 'deepprism-vae' (tools/refgen/models.py), on a fixed
batch x in [-1, 1] and noise eps, with every parameter's gradient by autograd. kl_weight is 0.05 here (1e-6 in
training) so that the KL's share of each gradient is well above the comparison's tolerance.

    /usr/bin/python3 tools/refgen/vae_objective.py

Writes nn/src/test/resources/training/deepprism-vae-objective.npz: x, eps, kl_weight, loss, reconstruction, kl
and 'grad.<name>' for every parameter.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

OUT = os.path.join(models.ROOT, "nn", "src", "test", "resources", "training")
CASE = "deepprism-vae"
KL_WEIGHT = 0.05


def main():
    o = next(o for c, n, o in models.CASES if c == CASE)
    model = models.DeepPrismVae(o)
    model.load_state_dict(torch.load(os.path.join(models.OUT, CASE + ".pth")))
    model = model.double()
    g = np.random.default_rng(int.from_bytes((CASE + "/objective").encode(), "little") % 2**32)
    x = g.uniform(-1, 1, (2, o["in"], 16, 16)).astype(np.float32)
    eps = g.standard_normal((2, o["z"], 4, 4)).astype(np.float32)
    xt, et = torch.tensor(x, dtype=torch.float64), torch.tensor(eps, dtype=torch.float64)
    mean, logvar = model.encode(xt)
    logvar = torch.clamp(logvar, -30.0, 20.0)
    y = model.decode(mean + torch.exp(0.5 * logvar) * et)
    rec = F.mse_loss(y, xt)
    kl = 0.5 * torch.sum(mean ** 2 + torch.exp(logvar) - 1.0 - logvar) / x.shape[0]
    loss = 0.5 * rec + KL_WEIGHT * kl
    loss.backward()
    arrays = {"x": x, "eps": eps, "kl_weight": np.array([KL_WEIGHT]), "loss": loss.detach().reshape(1),
              "reconstruction": rec.detach().reshape(1), "kl": kl.detach().reshape(1)}
    for k, p in model.named_parameters():
        arrays["grad." + k] = p.grad
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, CASE + "-objective.npz"),
                        **{k: np.ascontiguousarray(np.asarray(v).astype(np.float32)) for k, v in arrays.items()})
    print(f"{CASE}: loss {loss.item():.6f}, reconstruction {rec.item():.6f}, kl {kl.item():.6f}, "
          f"{sum(1 for _ in model.parameters())} parameter gradients")


if __name__ == "__main__":
    main()
