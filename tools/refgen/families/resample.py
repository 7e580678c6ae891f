"""Resampling references: F.interpolate(scale_factor=2, mode='nearest') and F.avg_pool2d(x, 2) in
float64, WaveDiff's patchify / unpatchify (einops rearranges, written here as view/permute/reshape because
einops is not installed), gradients by autograd with a random upstream gradient."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save, t64

UPSAMPLE = [(2, 3, 5, 7), (1, 4, 1, 3), (3, 5, 2, 2)]
POOL = [(2, 3, 6, 10), (1, 5, 4, 2), (3, 7, 2, 8)]
# (n, c, h, w, p) of the image: patchify and unpatchify, both channel orders each.
PATCH = [(2, 3, 4, 6, 2), (1, 5, 6, 9, 3), (3, 2, 6, 3, 3), (2, 4, 2, 8, 2)]


def patchify(x, p, channel_major):
    """einops.rearrange(x, "n c (h p1) (w p2) -> n (p1 p2 c) h w", p1=p, p2=p), or "... -> n (c p1 p2) h w"
    when channel_major."""
    n, c, h, w = x.shape
    t = x.reshape(n, c, h // p, p, w // p, p)  # n c h p1 w p2
    t = t.permute(0, 1, 3, 5, 2, 4) if channel_major else t.permute(0, 3, 5, 1, 2, 4)  # n (c p1 p2 | p1 p2 c) h w
    return t.reshape(n, c * p * p, h // p, w // p)


def unpatchify(y, p, channel_major):
    """einops.rearrange(y, "n (p1 p2 c) h w -> n c (h p1) (w p2)", p1=p, p2=p), or "n (c p1 p2) h w -> ..." when
    channel_major."""
    n, k, h, w = y.shape
    c = k // (p * p)
    if channel_major:
        t = y.reshape(n, c, p, p, h, w).permute(0, 1, 4, 2, 5, 3)  # n c p1 p2 h w -> n c h p1 w p2
    else:
        t = y.reshape(n, p, p, c, h, w).permute(0, 3, 4, 1, 5, 2)  # n p1 p2 c h w -> n c h p1 w p2
    return t.reshape(n, c, h * p, w * p)


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
    for (n, c, h, w, p) in PATCH:
        for order, channel_major in (("p1p2c", False), ("cp1p2", True)):
            # patchify of the image x, then unpatchify of the patches u (both [N,C,H,W] sized as the image)
            case = f"patchify_{order}_n{n}_c{c}_{h}x{w}_p{p}"
            x = normal(rng("resample" + case), n, c, h, w)
            y, gy, gx = run(x, lambda t: patchify(t, p, channel_major))
            paths.append(save("resample", case, x=x, y=y, gy=gy, gx=gx, dims=np.array([n, c, h, w, p])))
            case = f"unpatchify_{order}_n{n}_c{c}_{h}x{w}_p{p}"
            u = normal(rng("resample" + case), n, c * p * p, h // p, w // p)
            x_, gx_, gu = run(u, lambda t: unpatchify(t, p, channel_major))
            paths.append(save("resample", case, y=u, x=x_, gx=gx_, gy=gu, dims=np.array([n, c, h, w, p])))
    return paths
