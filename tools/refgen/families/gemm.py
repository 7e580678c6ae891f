"""Batched matrix product and linear-layer references: torch.matmul in float64 for the products, and
F.linear with autograd for the linear layer's forward and backward."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save

# name, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate
# A stride / B stride: "d" = dense (the matrix size), "p" = padded (matrix size + 3), 0 = broadcast.
# C stride: "d" dense, "p" padded, 0 = sum over the batch.
PRODUCTS = [
    ("nn_b1_5x7x3", 1, 5, 7, 3, 0, 0, "d", "d", "d", 0),
    ("tn_b3_4x9x6", 3, 4, 9, 6, 1, 0, "d", "d", "d", 0),
    ("nt_b2_7x5x11", 2, 7, 5, 11, 0, 1, "p", "d", "p", 0),   # n = 5: one block of four dots + remainder
    ("tt_b2_3x6x5", 2, 3, 6, 5, 1, 1, "d", "p", "d", 0),
    ("nn_bcastA_b4_6x5x7_acc", 4, 6, 5, 7, 0, 0, 0, "d", "d", 1),
    ("nt_bcastB_b3_5x9x4_acc", 3, 5, 9, 4, 0, 1, "d", 0, "d", 1),
    ("nt_sum_b3_6x7x5", 3, 6, 7, 5, 0, 1, "d", "d", 0, 0),
    ("tn_sum_b2_5x3x8_acc", 2, 5, 3, 8, 1, 0, "p", "d", 0, 1),
]

# name, rows, in, out, bias
LINEARS = [
    ("r5_in7_out3_bias", 5, 7, 3, True),
    ("r1_in4_out6", 1, 4, 6, False),
    ("r9_in16_out10_bias", 9, 16, 10, True),
]


def stride(kind, size):
    return {"d": size, "p": size + 3, 0: 0}[kind]


def generate():
    paths = []
    for (name, batch, m, n, k, ta, tb, ska, skb, skc, acc) in PRODUCTS:
        g = rng("gemm" + name)
        sa, sb, sc = stride(ska, m * k), stride(skb, k * n), stride(skc, m * n)
        a = normal(g, (batch - 1) * sa + m * k)
        b = normal(g, (batch - 1) * sb + k * n)
        c0 = normal(g, (batch - 1) * sc + m * n)
        c = c0.astype(np.float64).copy()
        if not acc:
            # a batch sum starts from zero; otherwise mark the matrices, so that the gaps between padded
            # C matrices (never written) keep their initial values below
            c[:] = 0 if sc == 0 else np.nan
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        for bi in range(batch):
            A = torch.tensor(a64[bi * sa: bi * sa + m * k].reshape((k, m) if ta else (m, k)))
            B = torch.tensor(b64[bi * sb: bi * sb + k * n].reshape((n, k) if tb else (k, n)))
            prod = torch.matmul(A.T if ta else A, B.T if tb else B).numpy().reshape(-1)
            o = bi * sc
            if acc or sc == 0:
                c[o: o + m * n] += prod
            else:
                c[o: o + m * n] = prod
        if not acc and sc != 0:
            c = np.where(np.isnan(c), c0, c)  # unwritten gaps keep the initial values
        paths.append(save("gemm", name, a=a, b=b, c0=c0, c=c,
                          dims=np.array([batch, m, n, k, ta, tb, sa, sb, sc, acc])))
    for (name, rows, fin, fout, bias) in LINEARS:
        g = rng("linear" + name)
        x = normal(g, rows, fin)
        w = normal(g, fout, fin)
        b = normal(g, fout)
        gy = normal(g, rows, fout)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
        y = F.linear(xt, wt, bt)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        arrays = dict(x=x, w=w, y=y, gy=gy, gx=xt.grad, gw=wt.grad, dims=np.array([rows, fin, fout, int(bias)]))
        if bias:
            arrays.update(b=b, gb=bt.grad)
        paths.append(save("gemm", "linear_" + name, **arrays))
    return paths
