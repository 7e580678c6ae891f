"""2-D DFT references: torch.fft.fft2 (last two axes, no normalisation) in float64, stored as
torch.view_as_real (real and imaginary parts interleaved, [..., 2]); the gradient of a real loss with respect
to the real input by autograd of the same call, for a random upstream gradient gy = dL/dRe y + i dL/dIm y."""
import numpy as np
import torch

from common import rng, normal, save

# (n, c, h, w): odd and non-square planes, single rows and columns, batch > 1, the 32x32 of the models
CASES = [(1, 1, 1, 1), (1, 2, 1, 4), (2, 3, 5, 7), (1, 3, 4, 1), (2, 2, 9, 6), (1, 1, 32, 32)]


def generate():
    paths = []
    for (n, c, h, w) in CASES:
        case = f"n{n}_c{c}_{h}x{w}"
        g = rng("dft" + case)
        x = normal(g, n, c, h, w)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        y = torch.view_as_real(torch.fft.fft2(xt))
        gy = normal(g, n, c, h, w, 2)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        paths.append(save("dft", case, x=x, y=y, gy=gy, gx=xt.grad, dims=np.array([n, c, h, w])))
    return paths
