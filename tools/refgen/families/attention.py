"""Multi-head attention references on channel-major maps: q, k, v are [B, heads*d, P]; PyTorch computes
softmax(Q @ K^T / sqrt(d)) @ V on the transposed views in float64, and autograd the gradients."""
import math

import numpy as np
import torch

from common import rng, normal, save

# name, batch, heads, d, P
CASES = [
    ("b1_h1_d3_p15", 1, 1, 3, 15),     # 3x5 positions
    ("b2_h2_d5_p6", 2, 2, 5, 6),
    ("b1_h3_d6_p35", 1, 3, 6, 35),     # 5x7 positions
    ("b2_h1_d7_p9", 2, 1, 7, 9),
]


def attention(q, k, v, b, heads, d, p):
    Q = q.view(b, heads, d, p).transpose(-1, -2)
    K = k.view(b, heads, d, p).transpose(-1, -2)
    V = v.view(b, heads, d, p).transpose(-1, -2)
    probs = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d), -1)
    out = (probs @ V).transpose(-1, -2).reshape(b, heads * d, p)
    return out, probs


def case(name, b, heads, d, p, q, k, v, g):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (q, k, v)]
    out, probs = attention(*ts, b, heads, d, p)
    gout = normal(g, b, heads * d, p)
    out.backward(torch.tensor(gout, dtype=torch.float64))
    return save("attention", name, q=q, k=k, v=v, out=out, probs=probs.reshape(b * heads, p, p), gout=gout,
                gq=ts[0].grad, gk=ts[1].grad, gv=ts[2].grad, dims=np.array([b, heads, d, p]))


def generate():
    paths = []
    for (name, b, heads, d, p) in CASES:
        g = rng("attention" + name)
        q, k, v = (normal(g, b, heads * d, p) for _ in range(3))
        paths.append(case(name, b, heads, d, p, q, k, v, g))
    # Scores around 1e3: exp(1e3) overflows even in float64, so only a softmax that subtracts the row
    # maximum survives. q is integer, k a multiple of 1/64 near 22 and d = 4 (scale 1/2), so every score
    # is exact in float32 and the comparison stays at the usual tolerance.
    b, heads, d, p = 1, 2, 4, 12
    g = rng("attention_large_logits")
    q = g.integers(21, 24, size=(b, heads * d, p)).astype(np.float32)
    k = (22 + g.integers(-12, 13, size=(b, heads * d, p)) / 64).astype(np.float32)
    v = normal(g, b, heads * d, p)
    paths.append(case("large_logits_b1_h2_d4_p12", b, heads, d, p, q, k, v, g))
    return paths
