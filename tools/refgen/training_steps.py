#!/usr/bin/python3
"""Reference training steps for Prism's nn.train.TrainingStep: three steps of
    loss = mse(model(x, t), target);  clip_grad_norm_(max 0.5);  AdamW(lr 1e-3, weight decay 0.01);
    ema = d·ema + (1 − d)·w with d = min(0.9, (1 + n)/(10 + n)), n = 0, 1, 2
in float64 on the float32 weights of the nn test models (tools/refgen/models.py), with x and t of their
.npz and a fixed random target.

    /usr/bin/python3 tools/refgen/training_steps.py

Writes nn/src/test/resources/training/<case>.npz: x, t, target, the loss of each step, and for every
parameter 'w.<name>' and 'ema.<name>' after the third step, and 'zero.<name>' = 1 for the parameters
whose gradient is zero in exact arithmetic (the key bias of attention, a scalar bias right before a group
norm): float64 gives them ~1e-16 of their module's largest gradient, and AdamW turns any rounding noise
there into a step of about lr, so their trajectory is noise in every fp32 implementation.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

OUT = os.path.join(models.ROOT, "nn", "src", "test", "resources", "training")
CASES = ["unet-standard", "wg-unet", "unet-prismattn"]


def run(case):
    name, o = next((n, o) for c, n, o in models.CASES if c == case)
    model = models.UNet(o)
    model.load_state_dict(torch.load(os.path.join(models.OUT, case + ".pth")))
    model = model.double()
    r = np.load(os.path.join(models.OUT, case + ".npz"))
    x = torch.tensor(r["x"], dtype=torch.float64)
    t = torch.tensor(r["t"], dtype=torch.float64)
    g = np.random.default_rng(int.from_bytes((case + "/train").encode(), "little") % 2**32)
    target = torch.tensor(g.standard_normal(tuple(x.shape)).astype(np.float32), dtype=torch.float64)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    ema = {k: p.detach().clone() for k, p in model.named_parameters()}
    losses = []
    zero = {}
    for n in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x, t), target)
        loss.backward()
        if n == 0:
            scale = {}
            for k, p in model.named_parameters():
                mod = k.rsplit(".", 1)[0]
                scale[mod] = max(scale.get(mod, 0.0), p.grad.abs().max().item())
            for k, p in model.named_parameters():
                zero[k] = p.grad.abs().max().item() < 1e-10 * scale[k.rsplit(".", 1)[0]]
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        d = min(0.9, (1 + n) / (10 + n))
        with torch.no_grad():
            for k, p in model.named_parameters():
                ema[k] = d * ema[k] + (1 - d) * p
        losses.append(loss.item())
    arrays = {"x": r["x"], "t": r["t"], "target": target.numpy(), "loss": np.array(losses)}
    for k, p in model.named_parameters():
        arrays["w." + k] = p.detach().numpy()
        arrays["ema." + k] = ema[k].numpy()
        if zero[k]:
            arrays["zero." + k] = np.array([1.0])
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, case + ".npz"),
                        **{k: np.ascontiguousarray(np.asarray(v).astype(np.float32)) for k, v in arrays.items()})
    print(f"{case:16s} losses {losses}, zero-gradient parameters {[k for k in zero if zero[k]]}")


if __name__ == "__main__":
    for c in CASES:
        run(c)
