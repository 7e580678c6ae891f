"""Composite-operation references: PrismAttn (DeepPrism eq. 5) and wavelet gating WG-Down / WG-Up
(Spectral Diffusion 5.1), each a PyTorch module run in float64, gradients by autograd with a random
upstream gradient.

PrismAttn(u) = Prism(Attn(q, k, v); wo) with q, k, v = Prism(u; wq), Prism(u; wk), Prism(u; wv); each
Prism is a Conv3d(1, 1, (K, 1, 1)) over u.unsqueeze(1) with channel padding K//2 in the given mode and its
own scalar bias; Attn is softmax(Q K^T / sqrt(d)) V over the P = H*W positions, heads taking consecutive
channel groups of d = C/heads.

WG: g = sigmoid(FFN(AvgPool(X))) with FFN = Linear(Cin, hidden) -> ReLU -> Linear(hidden, 4G), read as
g[N, 4, G] (band-major). WG-Down: out = sum_k g_k * DWT(X)_k. WG-Up: the four channel chunks of X are the
sub-bands, gated, then IDWT. The Haar transform is the strided-convolution form of haar.py, checked
against PyWavelets (bands cA, cH, cV, cD).

The Java tests that read these run the operations through nn's Graph (PrismAttnTest, WaveletGatingTest),
so the files go to nn/src/test/resources/ref/composite/.
"""
import math

import numpy as np
import pywt
import torch
import torch.nn.functional as F

from common import REF_NN, rng, normal, save_under
from families.haar import dwt_torch, haar_filters

CODES = {"zeros": 0, "replicate": 1, "circular": 2}

# (N, C, H, W, K, heads, mode, bias)
ATTN = [
    (2, 5, 3, 4, 3, 1, "zeros", True),
    (1, 6, 4, 5, 5, 2, "replicate", True),
    (2, 6, 3, 3, 3, 2, "circular", True),
    (1, 3, 5, 3, 5, 1, "circular", False),
    (2, 4, 2, 3, 3, 1, "replicate", False),
]

# WG-Down: (N, C, H, W, hidden, G, bias); H, W even
DOWN = [
    (2, 3, 6, 4, 5, 1, True),
    (2, 3, 6, 4, 5, 3, True),
    (1, 5, 4, 6, 3, 5, False),
    (3, 1, 2, 2, 2, 1, True),
    (1, 4, 2, 8, 7, 1, False),
]

# WG-Up: (N, C, h, w, hidden, G, bias); the input is [N, 4C, h, w], the output [N, C, 2h, 2w]
UP = [
    (2, 3, 3, 2, 5, 1, True),
    (2, 3, 3, 2, 5, 3, True),
    (1, 5, 2, 3, 4, 5, False),
    (1, 2, 1, 1, 3, 1, True),
    (3, 1, 2, 3, 2, 1, False),
]


class PrismAttn(torch.nn.Module):
    """DeepPrism eq. (5): PrismAttn(u; wq, wk, wv, wo) = Prism(Attn(q, k, v); wo)."""

    def __init__(self, k, heads, mode, bias):
        super().__init__()
        self.heads = heads

        def prism():
            return torch.nn.Conv3d(1, 1, (k, 1, 1), padding=(k // 2, 0, 0), padding_mode=mode, bias=bias)

        self.q, self.k, self.v, self.o = prism(), prism(), prism(), prism()

    def forward(self, u):
        n, c, h, w = u.shape
        p, d = h * w, c // self.heads

        def conv(layer, x):
            return layer(x.unsqueeze(1)).squeeze(1)

        q, k, v = conv(self.q, u), conv(self.k, u), conv(self.v, u)
        Q, K, V = (t.reshape(n, self.heads, d, p).transpose(-1, -2) for t in (q, k, v))
        probs = torch.softmax(Q @ K.transpose(-1, -2) / math.sqrt(d), -1)
        attn = (probs @ V).transpose(-1, -2).reshape(n, c, h, w)
        self.saved = dict(q=q, k=k, v=v, probs=probs.reshape(n * self.heads, p, p), attn=attn)
        return conv(self.o, attn)


class Gate(torch.nn.Module):
    """Spectral Diffusion 5.1: g = sigmoid(FFN(AvgPool(X))) as [N, 4, G]."""

    def __init__(self, cin, hidden, gates, bias):
        super().__init__()
        self.gates = gates
        self.fc1 = torch.nn.Linear(cin, hidden, bias=bias)
        self.fc2 = torch.nn.Linear(hidden, 4 * gates, bias=bias)

    def forward(self, x):
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(-2, -1)))))).view(x.shape[0], 4, self.gates)


class WGDown(torch.nn.Module):
    def __init__(self, c, hidden, gates, bias):
        super().__init__()
        self.gate = Gate(c, hidden, gates, bias)

    def forward(self, x):
        g = self.gate(x)
        self.g = g
        return (g[:, :, :, None, None] * dwt_torch(x)).sum(dim=1)


def idwt_torch(z):
    """Inverse Haar of band-major z[N, 4, C, h, w] by a transposed strided convolution."""
    n, _, c, h, w = z.shape
    return F.conv_transpose2d(z.transpose(1, 2).reshape(n, 4 * c, h, w), haar_filters(c), stride=2, groups=c)


class WGUp(torch.nn.Module):
    def __init__(self, c, hidden, gates, bias):
        super().__init__()
        self.gate = Gate(4 * c, hidden, gates, bias)

    def forward(self, x):
        n, c4, h, w = x.shape
        g = self.gate(x)
        self.g = g
        z = g[:, :, :, None, None] * torch.stack(torch.chunk(x, 4, dim=1), dim=1)
        return idwt_torch(z)


def set_params(module, arrays):
    """Copies float32 numpy arrays into the module's float64 parameters (by name)."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.tensor(arrays[name], dtype=torch.float64).view_as(p))


def grads(module):
    return {name: p.grad for name, p in module.named_parameters()}


def check_haar(x):
    """The strided-conv Haar pair equals PyWavelets' dwt2 / idwt2 (band order cA, cH, cV, cD)."""
    xd = x.astype(np.float64)
    ca, (ch, cv, cd) = pywt.dwt2(xd, "haar", axes=(-2, -1))
    y = dwt_torch(torch.tensor(xd)).numpy()
    assert np.allclose(y, np.stack([ca, ch, cv, cd], axis=1), atol=1e-12), "Haar DWT disagrees with pywt"
    xi = idwt_torch(torch.tensor(y)).numpy()
    assert np.allclose(xi, pywt.idwt2((ca, (ch, cv, cd)), "haar", axes=(-2, -1)), atol=1e-12), \
        "Haar IDWT disagrees with pywt"


def attn_case(n, c, h, w, k, heads, mode, bias):
    case = f"attn_n{n}_c{c}_{h}x{w}_k{k}_h{heads}_{mode}" + ("_bias" if bias else "")
    g = rng("composite" + case)
    u = normal(g, n, c, h, w)
    params = {}
    for name in ("q", "k", "v", "o"):
        params[name + ".weight"] = normal(g, k) * np.float32(0.6)
        if bias:
            params[name + ".bias"] = normal(g, 1) * np.float32(0.3)
    gout = normal(g, n, c, h, w)
    m = PrismAttn(k, heads, mode, bias).double()
    set_params(m, params)
    ut = torch.tensor(u, dtype=torch.float64, requires_grad=True)
    out = m(ut)
    out.backward(torch.tensor(gout, dtype=torch.float64))
    arrays = dict(u=u, gout=gout, out=out, gu=ut.grad, dims=np.array([n, c, h, w, k, heads]),
                  mode=np.array([CODES[mode]]))
    arrays.update({key: t for key, t in m.saved.items()})
    for name, grad in grads(m).items():
        layer, kind = name.split(".")
        short = ("w" if kind == "weight" else "b") + layer          # wq, bq, ...
        arrays[short] = params[name]
        arrays["g" + short] = grad
    return save_under(REF_NN, "composite", case, **arrays)


def gate_params(g, cin, hidden, gates, bias):
    p = {"gate.fc1.weight": normal(g, hidden, cin) * np.float32(1 / math.sqrt(cin)),
         "gate.fc2.weight": normal(g, 4 * gates, hidden) * np.float32(1 / math.sqrt(hidden))}
    if bias:
        p["gate.fc1.bias"] = normal(g, hidden) * np.float32(0.5)
        p["gate.fc2.bias"] = normal(g, 4 * gates) * np.float32(0.5)
    return p


def wg_case(module, x, params, gout, dims):
    set_params(module, params)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = module(xt)
    out.backward(torch.tensor(gout, dtype=torch.float64))
    arrays = dict(x=x, gout=gout, out=out, gx=xt.grad, gates=module.g, dims=np.array(dims))
    short = {"gate.fc1.weight": "w1", "gate.fc1.bias": "b1", "gate.fc2.weight": "w2", "gate.fc2.bias": "b2"}
    for name, grad in grads(module).items():
        arrays[short[name]] = params[name]
        arrays["g" + short[name]] = grad
    return arrays


def offset_normal(g, n, c, h, w):
    """Gaussian values around a per-plane mean drawn from N(0, 1), so the pooled features are of order one
    (a plain Gaussian image would pool to nearly zero and leave the FFN near its ReLU kink)."""
    return (normal(g, n, c, h, w) + normal(g, n, c, 1, 1)).astype(np.float32)


def generate():
    paths = []
    for spec in ATTN:
        paths.append(attn_case(*spec))
    for (n, c, h, w, hidden, gates, bias) in DOWN:
        case = f"wgdown_n{n}_c{c}_{h}x{w}_hid{hidden}_g{gates}" + ("_bias" if bias else "")
        g = rng("composite" + case)
        x = offset_normal(g, n, c, h, w)
        check_haar(x)
        params = gate_params(g, c, hidden, gates, bias)
        gout = normal(g, n, c, h // 2, w // 2)
        arrays = wg_case(WGDown(c, hidden, gates, bias).double(), x, params, gout, [n, c, h, w, hidden, gates])
        paths.append(save_under(REF_NN, "composite", case, **arrays))
    for (n, c, h, w, hidden, gates, bias) in UP:
        case = f"wgup_n{n}_c{c}_{h}x{w}_hid{hidden}_g{gates}" + ("_bias" if bias else "")
        g = rng("composite" + case)
        x = offset_normal(g, n, 4 * c, h, w)
        params = gate_params(g, 4 * c, hidden, gates, bias)
        gout = normal(g, n, c, 2 * h, 2 * w)
        arrays = wg_case(WGUp(c, hidden, gates, bias).double(), x, params, gout, [n, c, h, w, hidden, gates])
        check_haar(arrays["out"].detach().numpy().astype(np.float32))
        paths.append(save_under(REF_NN, "composite", case, **arrays))
    return paths
