"""Channel concatenation references: torch.cat([a, b], 1) and, for the backward, autograd of it (the two
channel slices of the upstream gradient). The split is checked against torch.split of the same y."""
import numpy as np
import torch

from common import rng, normal, save

# (n, ca, cb, h, w): single channels, C not a power of two, batch > 1, odd and flat planes.
CASES = [(1, 1, 1, 1, 1), (2, 3, 5, 4, 6), (3, 8, 2, 5, 7), (2, 7, 9, 1, 11)]


def generate():
    paths = []
    for (n, ca, cb, h, w) in CASES:
        case = f"n{n}_ca{ca}_cb{cb}_{h}x{w}"
        g = rng("concat" + case)
        a = torch.tensor(normal(g, n, ca, h, w), dtype=torch.float64, requires_grad=True)
        b = torch.tensor(normal(g, n, cb, h, w), dtype=torch.float64, requires_grad=True)
        y = torch.cat([a, b], 1)
        gy = normal(g, n, ca + cb, h, w)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        # The split of an independent y, as torch.split slices it.
        ys = normal(g, n, ca + cb, h, w)
        sa, sb = torch.split(torch.tensor(ys, dtype=torch.float64), [ca, cb], 1)
        paths.append(save("concat", case, a=a.detach(), b=b.detach(), y=y.detach(), gy=gy, ga=a.grad, gb=b.grad,
                          ys=ys, sa=sa, sb=sb, dims=np.array([n, ca, cb, h, w])))
    return paths
