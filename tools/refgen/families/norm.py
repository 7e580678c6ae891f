"""Group norm references: F.group_norm (optionally followed by F.silu) in float64, gradients of x,
gamma and beta by autograd with a random upstream gradient; the statistics the Java stats kernel
writes (mean and 1/sqrt(var + eps), biased variance) computed directly in float64."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save, t64

# (n, c, h, w, groups, affine, silu, eps, offset): G = 1, G = C and in between; C not a power of two;
# one case with a large mean against the spread (offset), where a one-pass variance would cancel.
CASES = [
    (2, 6, 5, 7, 3, True, False, 1e-5, 0.0),
    (2, 6, 5, 7, 3, True, True, 1e-5, 0.0),
    (1, 5, 3, 9, 1, False, False, 1e-3, 0.0),
    (1, 5, 3, 9, 1, True, True, 1e-5, 0.0),
    (3, 5, 4, 3, 5, True, True, 1e-5, 0.0),
    (3, 5, 4, 3, 5, False, False, 1e-5, 0.0),
    (2, 12, 6, 5, 4, False, True, 1e-2, 0.0),
    (2, 6, 4, 4, 2, True, False, 1e-5, 40.0),
]


def name(n, c, h, w, g, affine, silu, eps, offset):
    tag = f"n{n}_c{c}_{h}x{w}_g{g}" + ("_affine" if affine else "") + ("_silu" if silu else "")
    return tag + ("_offset" if offset else "")


def generate():
    paths = []
    for (n, c, h, w, g, affine, silu, eps, offset) in CASES:
        case = name(n, c, h, w, g, affine, silu, eps, offset)
        r = rng("norm" + case)
        x = normal(r, n, c, h, w) * 1.5 + np.float32(offset)
        eps32 = np.float32(eps)
        e = float(eps32)
        xt = t64(x)
        arrays = {}
        if affine:
            gamma = (1.0 + 0.5 * normal(r, c)).astype(np.float32)
            beta = (0.5 * normal(r, c)).astype(np.float32)
            gt, bt = t64(gamma), t64(beta)
            y = F.group_norm(xt, g, gt, bt, e)
            arrays.update(gamma=gamma, beta=beta)
        else:
            y = F.group_norm(xt, g, None, None, e)
        if silu:
            y = F.silu(y)
        gy = normal(r, n, c, h, w)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        if affine:
            arrays.update(ggamma=gt.grad, gbeta=bt.grad)
        xg = x.astype(np.float64).reshape(n, g, -1)
        mean = xg.mean(axis=2)
        rstd = 1.0 / np.sqrt(xg.var(axis=2) + e)
        stats = np.stack([mean, rstd], axis=2).reshape(-1)     # [N*G*2]: (mean, rstd) per group
        paths.append(save("norm", case, x=x, gy=gy, y=y, gx=xt.grad, stats=stats, eps=np.array([eps32]),
                          dims=np.array([n, c, h, w, g]), flags=np.array([int(affine), int(silu)]), **arrays))
    return paths
