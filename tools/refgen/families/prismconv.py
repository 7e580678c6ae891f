"""DeepPrism channel convolution references (DeepPrism eqs. 2-3, Table 1).

Prism convolution: F.conv3d of x.unsqueeze(1) with one [KC,KH,KW] filter, spatial zero padding, channel
padding zeros (conv3d's own padding) or replicate / circular (F.pad along the channel axis first).
Separable PrismConv: conv2d of x.view(N*C,1,H,W) with a [K,K] filter, then the channel convolution with a
[K] filter. Gradients by autograd with a random upstream gradient, all in float64.

Circular padding deeper than the channels (KC//2 > C), which F.pad refuses, is defined as wrapping modulo
C: those cases index the channels with arange(-p, C+p) % C, and every case checks that this indexing
equals F.pad wherever F.pad accepts it.
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save

CODES = {"zeros": 0, "replicate": 1, "circular": 2}

# (N, C, H, W, KC, KH, KW, mode, bias)
PRISM = [
    (2, 5, 7, 9, 3, 3, 3, "zeros", True),
    (2, 5, 7, 9, 3, 3, 3, "replicate", True),
    (2, 5, 7, 9, 3, 3, 3, "circular", True),
    (2, 5, 7, 9, 5, 3, 3, "zeros", False),
    (2, 5, 7, 9, 5, 3, 3, "replicate", False),
    (2, 5, 7, 9, 5, 3, 3, "circular", False),
    (1, 3, 6, 5, 3, 5, 5, "zeros", True),
    (2, 6, 5, 7, 3, 5, 5, "circular", True),
    (2, 3, 6, 5, 3, 5, 5, "replicate", False),
    (2, 5, 7, 9, 1, 3, 3, "replicate", True),
    (2, 5, 7, 9, 3, 1, 1, "circular", False),
    (2, 5, 7, 9, 3, 1, 1, "replicate", True),
    (2, 1, 5, 6, 3, 3, 3, "replicate", True),
    (2, 1, 5, 6, 3, 3, 3, "circular", False),
    (1, 2, 5, 6, 5, 3, 3, "replicate", True),
    (1, 2, 5, 6, 5, 3, 3, "circular", True),
    (2, 1, 4, 5, 5, 3, 3, "circular", False),   # KC//2 = 2 > C = 1: beyond F.pad
    (1, 2, 4, 5, 7, 3, 3, "circular", True),    # KC//2 = 3 > C = 2: beyond F.pad
    (1, 3, 2, 3, 3, 5, 5, "zeros", True),       # filter wider than the image
]

# (N, C, H, W, K, mode, bias)
SEPARABLE = [
    (2, 5, 7, 9, 3, "zeros", True),
    (2, 5, 7, 9, 3, "replicate", True),
    (2, 5, 7, 9, 3, "circular", False),
    (1, 6, 9, 7, 5, "circular", True),
    (2, 1, 5, 6, 3, "replicate", True),
]


def prism_name(n, c, h, w, kc, kh, kw, mode, bias):
    return f"n{n}_c{c}_{h}x{w}_k{kc}x{kh}x{kw}_{mode}" + ("_bias" if bias else "")


def separable_name(n, c, h, w, k, mode, bias):
    return f"sep_n{n}_c{c}_{h}x{w}_k{k}_{mode}" + ("_bias" if bias else "")


def channel_pad(x5, p, mode):
    """x5 [N,1,C,H,W] padded by p channels each side; zeros mode is left to conv3d's own padding."""
    c = x5.shape[2]
    if p == 0 or mode == "zeros":
        return x5
    idx = torch.arange(-p, c + p)
    idx = idx.clamp(0, c - 1) if mode == "replicate" else idx % c
    padded = x5[:, :, idx]
    if mode == "replicate" or p <= c:
        ref = F.pad(x5, (0, 0, 0, 0, p, p), mode=mode)
        assert torch.equal(ref, padded), f"{mode} indexing disagrees with F.pad"
    return padded


def prism(x, f, b, mode):
    """DeepPrism eq. (3) as F.conv3d; x [N,C,H,W], f [KC,KH,KW], b [1] or None."""
    kc, kh, kw = f.shape
    x5 = channel_pad(x.unsqueeze(1), kc // 2, mode)
    pc = kc // 2 if mode == "zeros" else 0
    return F.conv3d(x5, f.view(1, 1, kc, kh, kw), b, padding=(pc, kh // 2, kw // 2)).squeeze(1)


def separable(x, fs, fc, b, mode):
    """DeepPrism eq. (2): per-channel conv2d with fs [K,K], then the channel convolution with fc [K]."""
    n, c, h, w = x.shape
    k = fs.shape[0]
    t = F.conv2d(x.reshape(n * c, 1, h, w), fs.view(1, 1, k, k), padding=k // 2).view(n, c, h, w)
    return prism(t, fc.view(k, 1, 1), b, mode)


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def generate():
    paths = []
    for (n, c, h, w, kc, kh, kw, mode, bias) in PRISM:
        case = prism_name(n, c, h, w, kc, kh, kw, mode, bias)
        g = rng("prismconv" + case)
        x = normal(g, n, c, h, w)
        f = normal(g, kc, kh, kw) * np.float32(0.3)
        b = normal(g, 1)
        gy = normal(g, n, c, h, w)
        xt, ft = t64(x), t64(f)
        bt = t64(b) if bias else None
        y = prism(xt, ft, bt, mode)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        arrays = dict(x=x, f=f, gy=gy, y=y, gx=xt.grad, gf=ft.grad,
                      dims=np.array([n, c, h, w, kc, kh, kw]), mode=np.array([CODES[mode]]))
        if bias:
            arrays.update(b=b, gb=bt.grad)
        paths.append(save("prismconv", case, **arrays))
    for (n, c, h, w, k, mode, bias) in SEPARABLE:
        case = separable_name(n, c, h, w, k, mode, bias)
        g = rng("prismconv" + case)
        x = normal(g, n, c, h, w)
        fs = normal(g, k, k) * np.float32(0.3)
        fc = normal(g, k) * np.float32(0.5)
        b = normal(g, 1)
        gy = normal(g, n, c, h, w)
        xt, fst, fct = t64(x), t64(fs), t64(fc)
        bt = t64(b) if bias else None
        y = separable(xt, fst, fct, bt, mode)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        arrays = dict(x=x, fs=fs, fc=fc, gy=gy, y=y, gx=xt.grad, gfs=fst.grad, gfc=fct.grad,
                      dims=np.array([n, c, h, w, k]), mode=np.array([CODES[mode]]))
        if bias:
            arrays.update(b=b, gb=bt.grad)
        paths.append(save("prismconv", case, **arrays))
    return paths
