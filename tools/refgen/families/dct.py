"""DCT references: scipy.fft.dctn / idctn (type 2, norm='ortho', last two axes) for values, autograd of the
DCT written as matrix products (X = D_H x D_W^T) in float64 for gradients, and the low-frequency mask of
the dimensionality-varying diffusion process (keep the k x k block of lowest frequencies)."""
import numpy as np
import scipy.fft
import torch

from common import rng, normal, save

# (n, c, h, w, k): odd and non-square planes, single rows and columns, C not a power of two, batch > 1;
# k is the lowpass block (0 and min(h, w) included across the cases).
CASES = [(1, 1, 1, 1, 1), (1, 2, 1, 4, 0), (2, 3, 5, 7, 3), (1, 3, 4, 1, 1), (2, 5, 9, 6, 6), (1, 2, 8, 8, 5)]


def dct_matrix(n):
    """Orthonormal DCT-II matrix, row k = basis vector k: SciPy's transform of the identity's columns."""
    return scipy.fft.dct(np.eye(n), type=2, norm="ortho", axis=0)


def generate():
    paths = []
    for (n, c, h, w, k) in CASES:
        case = f"n{n}_c{c}_{h}x{w}"
        g = rng("dct" + case)
        x = normal(g, n, c, h, w)
        y = scipy.fft.dctn(x.astype(np.float64), type=2, norm="ortho", axes=(-2, -1))
        yc = normal(g, n, c, h, w)
        xi = scipy.fft.idctn(yc.astype(np.float64), type=2, norm="ortho", axes=(-2, -1))
        dh, dw = torch.tensor(dct_matrix(h)), torch.tensor(dct_matrix(w))
        # gradients of the matrix form, checked against SciPy's values first
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        yt = dh @ xt @ dw.T
        assert np.allclose(yt.detach().numpy(), y, atol=1e-12), "matrix-form DCT disagrees with SciPy"
        gy = normal(g, n, c, h, w)
        yt.backward(torch.tensor(gy, dtype=torch.float64))
        yct = torch.tensor(yc, dtype=torch.float64, requires_grad=True)
        xit = dh.T @ yct @ dw
        assert np.allclose(xit.detach().numpy(), xi, atol=1e-12), "matrix-form IDCT disagrees with SciPy"
        gx = normal(g, n, c, h, w)
        xit.backward(torch.tensor(gx, dtype=torch.float64))
        # lowpass: mask times input, gradient by autograd of the same product
        mask = np.zeros((h, w))
        mask[:k, :k] = 1.0
        lt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        low = lt * torch.tensor(mask)
        low.backward(torch.tensor(gy, dtype=torch.float64))
        paths.append(save("dct", case, x=x, y=y, gy=gy, gx_dct=xt.grad, yc=yc, xi=xi, gx=gx, gy_idct=yct.grad,
                          dh=dct_matrix(h), dw=dct_matrix(w), low=low, glow=lt.grad,
                          dims=np.array([n, c, h, w]), k=np.array([k])))
    return paths
