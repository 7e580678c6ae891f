"""Haar DWT/IDWT references: pywt.dwt2 / idwt2 for values, autograd of the strided-convolution form
for gradients (WaveDiff and Spectral Diffusion implement the transform that way in PyTorch)."""
import numpy as np
import pywt
import torch
import torch.nn.functional as F

from common import rng, normal, save

CASES = [(1, 1, 2, 2), (2, 3, 6, 8), (2, 5, 10, 4), (1, 7, 12, 14)]


def haar_filters(c):
    h = torch.tensor([[0.5, 0.5], [0.5, 0.5]], dtype=torch.float64)
    ch = torch.tensor([[0.5, 0.5], [-0.5, -0.5]], dtype=torch.float64)
    cv = torch.tensor([[0.5, -0.5], [0.5, -0.5]], dtype=torch.float64)
    cd = torch.tensor([[0.5, -0.5], [-0.5, 0.5]], dtype=torch.float64)
    return torch.stack([h, ch, cv, cd]).unsqueeze(1).repeat(c, 1, 1, 1)  # [4C,1,2,2], channel-major


def dwt_torch(x):
    n, c, h, w = x.shape
    y = F.conv2d(x, haar_filters(c), stride=2, groups=c)         # [N, C*4, h/2, w/2], (c, band)
    return y.view(n, c, 4, h // 2, w // 2).transpose(1, 2).contiguous()  # band-major [N,4,C,...]


def generate():
    paths = []
    for (n, c, h, w) in CASES:
        case = f"n{n}_c{c}_{h}x{w}"
        g = rng("haar" + case)
        x = normal(g, n, c, h, w)
        ca, (ch, cv, cd) = pywt.dwt2(x.astype(np.float64), "haar", axes=(-2, -1))
        y = np.stack([ca, ch, cv, cd], axis=1)                     # [N,4,C,h/2,w/2]
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        yt = dwt_torch(xt)
        assert np.allclose(yt.detach().numpy(), y, atol=1e-12), "strided-conv Haar disagrees with pywt"
        gy = normal(g, *y.shape)
        yt.backward(torch.tensor(gy, dtype=torch.float64))
        # inverse: pywt.idwt2 of independent coefficients, and its gradient by autograd of conv_transpose
        yc = normal(g, *y.shape)
        yd = yc.astype(np.float64)
        xi = pywt.idwt2((yd[:, 0], (yd[:, 1], yd[:, 2], yd[:, 3])), "haar", axes=(-2, -1))
        yct = torch.tensor(yc, dtype=torch.float64, requires_grad=True)
        xit = F.conv_transpose2d(yct.transpose(1, 2).reshape(n, c * 4, h // 2, w // 2), haar_filters(c), stride=2, groups=c)
        assert np.allclose(xit.detach().numpy(), xi, atol=1e-12), "transposed-conv inverse disagrees with pywt"
        gx = normal(g, n, c, h, w)
        xit.backward(torch.tensor(gx, dtype=torch.float64))
        paths.append(save("haar", case, x=x, y=y, gy=gy, gx_dwt=xt.grad, yc=yc, xi=xi, gx=gx, gy_idwt=yct.grad,
                          dims=np.array([n, c, h, w])))
    return paths
