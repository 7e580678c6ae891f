#!/usr/bin/python3
"""ApproxConv's own fitting procedure on real kernels, for KernelFitAdamTest (diffusion).

    /usr/bin/python3 tools/refgen/approx_fit.py

Reads convolution kernels of the bundled Fashion-MNIST UNet (apps/src/main/resources/dev/prism/models/
fmnist-ddpm.safetensors) and fits CosConv / ChebConv coefficients to them the way the paper (§3.4) and its
authors' public code do: gradient descent with Adam on the mean squared error of eq. (5) over the whole layer,
three stages of 200 iterations at learning rates 0.1, 0.01 and 0.001 (a fresh Adam each stage), in float32.
Initialisation as the paper describes: ChebConv's DC coefficient at each filter's mean and the others 0;
CosConv's coefficients drawn from N(0, 1/(Cin*K^2)). The basis is sampled as Prism's layers sample it
(K equispaced points of [0.2pi, 0.8pi] for cosines, of [-1, 1] for Chebyshev polynomials, float32 endpoints).

Writes diffusion/src/test/resources/ref/approx_fit/<case>.npz: the kernels w [Cout, Cin, K, K], the Adam
coefficients a [Cout, Cin, N, N], the eq. (5) error of those coefficients over the layer (float64), and the
fit's wall time in seconds (the median of 3 runs on this machine; the CPU has 2 cores, torch uses them).
The arrays are deterministic (seeded); the times are measurements and change from run to run.
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "apps", "src", "main", "resources", "dev", "prism", "models", "fmnist-ddpm.safetensors")
OUT = os.path.join(ROOT, "diffusion", "src", "test", "resources", "ref", "approx_fit")

COS = (np.float32(0.2 * np.pi), np.float32(0.8 * np.pi))
CHEB = (np.float32(-1.0), np.float32(1.0))

# (case, tensor of the bundled model, basis, N)
CASES = [
    ("down0_conv2_cos_n2", "down.0.res.0.conv2.weight", "cos", 2),
    ("down0_conv2_cheb_n2", "down.0.res.0.conv2.weight", "cheb", 2),
    ("mid_conv1_cos_n2", "mid.res1.conv1.weight", "cos", 2),
    ("mid_conv1_cheb_n2", "mid.res1.conv1.weight", "cheb", 2),
    ("mid_conv1_cos_n3", "mid.res1.conv1.weight", "cos", 3),
    ("mid_conv1_cheb_n3", "mid.res1.conv1.weight", "cheb", 3),
]


def read_safetensors(path):
    """{name: float32 array} of an F32 safetensors file (8 bytes of header length, a JSON header, the data)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", k
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"]).copy()
    return out


def basis(kind, n, k):
    """B [N, K]: row p is phi_p at the K sample points (float32, as the layer's table)."""
    x0, x1 = COS if kind == "cos" else CHEB
    x = float(x0) + (float(x1) - float(x0)) * np.arange(k) / (k - 1)
    if kind == "cos":
        b = np.cos(np.outer(np.arange(n), x))
    else:
        b = np.empty((n, k))
        prev, cur = np.ones(k), x.copy()
        for p in range(n):
            b[p] = prev
            prev, cur = cur, 2 * x * cur - prev
    return b.astype(np.float32)


def adam_fit(w, kind, n, seed):
    """The authors' procedure: Adam on the layer's MSE, 3 x 200 iterations at lr 0.1, 0.01, 0.001."""
    cout, cin, k, _ = w.shape
    wt = torch.from_numpy(w)
    bt = torch.from_numpy(basis(kind, n, k))
    g = torch.Generator().manual_seed(seed)
    if kind == "cheb":
        a0 = torch.zeros(cout, cin, n, n)
        a0[:, :, 0, 0] = wt.mean(dim=(2, 3))
    else:
        a0 = torch.randn(cout, cin, n, n, generator=g) / np.sqrt(cin * k * k)
    a = a0.clone().requires_grad_(True)
    for lr in (0.1, 0.01, 0.001):
        opt = torch.optim.Adam([a], lr=lr)
        for _ in range(200):
            opt.zero_grad()
            what = torch.einsum("oipq,pu,qv->oiuv", a, bt, bt)
            loss = torch.nn.functional.mse_loss(what, wt)
            loss.backward()
            opt.step()
    return a.detach().numpy().copy()


def mse(w, a, kind):
    """Eq. (5) over the layer, in float64: mean of (w - B^T a B)^2."""
    n, k = a.shape[2], w.shape[2]
    b = basis(kind, n, k).astype(np.float64)
    what = np.einsum("oipq,pu,qv->oiuv", a.astype(np.float64), b, b)
    return float(np.mean((w.astype(np.float64) - what) ** 2))


def main():
    torch.set_num_threads(2)
    tensors = read_safetensors(MODEL)
    os.makedirs(OUT, exist_ok=True)
    for i, (case, name, kind, n) in enumerate(CASES):
        w = tensors[name]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            a = adam_fit(w, kind, n, seed=i)
            times.append(time.perf_counter() - t0)
        err = mse(w, a, kind)
        np.savez_compressed(os.path.join(OUT, case + ".npz"), w=w, a=a.astype(np.float32),
                            adam_mse=np.array([err]), adam_seconds=np.array([float(np.median(times))]),
                            kind=np.array([0 if kind == "cos" else 1], dtype=np.int64),
                            times=np.array(times))
        print(f"{case:22s} {name:28s} {kind:4s} N={n}  Adam mse {err:.6e}  {np.median(times):.3f} s "
              f"(runs {', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main(*sys.argv[1:])
