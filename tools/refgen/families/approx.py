"""CosConv / ChebConv references (ApproxConv eqs. 3-4): the basis sampled with NumPy in float64
(np.cos(p x) and numpy.polynomial.chebyshev.chebvander), the synthesis w = B^T a B with einsum in float64,
and its gradient by PyTorch autograd of the same expression.

Sample points: K equispaced points x0 + (x1 - x0) u / (K - 1), both ends included, from the float32
endpoints the Java side uses; for K = 1 the midpoint (x0 + x1) / 2 (the Java kernels' definition; with
K = 1, N = 1 and phi_0 = 1, so the point does not matter)."""
import numpy as np
import torch
from numpy.polynomial import chebyshev

from common import rng, normal, save

COS = (np.float32(0.2 * np.pi), np.float32(0.8 * np.pi))
CHEB = (np.float32(-1.0), np.float32(1.0))

# (kind, cout, cin, n, k, x0, x1)
CASES = [
    ("cos", 3, 2, 2, 3, *COS),
    ("cos", 2, 5, 4, 7, *COS),
    ("cos", 3, 3, 5, 5, *COS),
    ("cos", 2, 3, 1, 1, *COS),
    ("cos", 2, 2, 3, 6, np.float32(-0.5), np.float32(2.25)),
    ("cheb", 3, 2, 2, 3, *CHEB),
    ("cheb", 2, 5, 4, 7, *CHEB),
    ("cheb", 3, 3, 5, 5, *CHEB),
    ("cheb", 2, 3, 1, 1, *CHEB),
    ("cheb", 1, 2, 9, 9, *CHEB),
    ("cheb", 2, 2, 3, 6, np.float32(-0.75), np.float32(0.5)),
]


def points(k, x0, x1):
    a, b = float(x0), float(x1)
    if k == 1:
        return np.array([0.5 * (a + b)])
    return a + (b - a) * np.arange(k) / (k - 1)


def basis(kind, n, x):
    if kind == "cos":
        return np.cos(np.outer(np.arange(n), x))            # [N, K]
    return chebyshev.chebvander(x, n - 1).T                  # [N, K]: row p = T_p at the points


def generate():
    paths = []
    for (kind, cout, cin, n, k, x0, x1) in CASES:
        case = f"{kind}_o{cout}_i{cin}_n{n}_k{k}" + ("" if (x0, x1) in (COS, CHEB) else "_interval")
        g = rng("approx" + case)
        b = basis(kind, n, points(k, x0, x1))
        a = normal(g, cout, cin, n, n)
        at = torch.tensor(a, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(b)
        wt = torch.einsum("oipq,pu,qv->oiuv", at, bt, bt)
        w = np.einsum("oipq,pu,qv->oiuv", a.astype(np.float64), b, b)
        assert np.allclose(wt.detach().numpy(), w, atol=1e-12)
        gw = normal(g, cout, cin, k, k)
        wt.backward(torch.tensor(gw, dtype=torch.float64))
        paths.append(save("approx", case, a=a, b=b, w=w, gw=gw, ga=at.grad,
                          dims=np.array([cout, cin, n, k]), kind=np.array([0 if kind == "cos" else 1]),
                          interval=np.array([x0, x1], dtype=np.float32)))
    return paths
