"""Resampling references: F.interpolate(scale_factor=2, mode='nearest') and F.avg_pool2d(x, 2) in
float64, gradients by autograd with a random upstream gradient."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save, t64

UPSAMPLE = [(2, 3, 5, 7), (1, 4, 1, 3), (3, 5, 2, 2)]
POOL = [(2, 3, 6, 10), (1, 5, 4, 2), (3, 7, 2, 8)]


def run(x, fn):
    xt = t64(x)
    y = fn(xt)
    gy = normal(rng("gy" + str(x.shape)), *y.shape)
    y.backward(torch.tensor(gy, dtype=torch.float64))
    return y, gy, xt.grad


def generate():
    paths = []
    for (n, c, h, w) in UPSAMPLE:
        case = f"upsample_n{n}_c{c}_{h}x{w}"
        x = normal(rng("resample" + case), n, c, h, w)
        y, gy, gx = run(x, lambda t: F.interpolate(t, scale_factor=2, mode="nearest"))
        paths.append(save("resample", case, x=x, y=y, gy=gy, gx=gx, dims=np.array([n, c, h, w])))
    for (n, c, h, w) in POOL:
        case = f"pool_n{n}_c{c}_{h}x{w}"
        x = normal(rng("resample" + case), n, c, h, w)
        y, gy, gx = run(x, lambda t: F.avg_pool2d(t, 2))
        paths.append(save("resample", case, x=x, y=y, gy=gy, gx=gx, dims=np.array([n, c, h, w])))
    return paths
