"""Wavelet gating references (Spectral Diffusion 5.1): PyTorch expressions in float64 with autograd for the
average pool, WG-Down's gated band sum out = sum_k g_k * y_k and WG-Up's band gating z_k = g_k * x_k, with
gates g[N, 4, G], G = 1 (one per band) or G = C (one per band and channel)."""
import numpy as np
import torch

from common import rng, normal, save

# (n, c, h, w, gates): h, w are sub-band sizes; C not a power of two, batch > 1, odd sizes, both gate modes.
CASES = [(2, 3, 5, 7, 1), (2, 3, 5, 7, 3), (1, 5, 4, 6, 1), (1, 5, 4, 6, 5), (3, 1, 1, 1, 1), (1, 6, 3, 1, 6)]


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def generate():
    paths = []
    for (n, c, h, w, G) in CASES:
        case = f"n{n}_c{c}_{h}x{w}_g{G}"
        r = rng("gating" + case)
        # average pool over an image of twice the band size, as WG-Down pools X before its DWT
        x = normal(r, n, c, 2 * h + 1, w)
        xt = t(x)
        m = xt.mean(dim=(-2, -1))
        gm = normal(r, n, c)
        m.backward(torch.tensor(gm, dtype=torch.float64))
        # gated band sum (WG-Down)
        y = normal(r, n, 4, c, h, w)
        g = r.uniform(0.05, 0.95, size=(n, 4, G)).astype(np.float32)   # sigmoid outputs lie in (0, 1)
        yt, gt = t(y), t(g)
        out = (gt[:, :, :, None, None] * yt).sum(dim=1)
        gout = normal(r, n, c, h, w)
        out.backward(torch.tensor(gout, dtype=torch.float64))
        # band gating (WG-Up): the input [N, 4C, h, w] as four chunks
        xb = normal(r, n, 4 * c, h, w)
        xbt, g2t = t(xb), t(g)
        chunks = torch.stack(torch.chunk(xbt, 4, dim=1), dim=1)          # [N, 4, C, h, w]
        z = g2t[:, :, :, None, None] * chunks
        gz = normal(r, n, 4, c, h, w)
        z.backward(torch.tensor(gz, dtype=torch.float64))
        paths.append(save("gating", case, x=x, m=m, gm=gm, gx_pool=xt.grad,
                          y=y, g=g, out=out, gout=gout, gy=yt.grad, gg_sum=gt.grad,
                          xb=xb, z=z, gz=gz, gxb=xbt.grad, gg_gate=g2t.grad,
                          dims=np.array([n, c, h, w, G])))
    return paths
