"""References of the kernels WaveDiff's generator added: StyleGAN2's upfirdn2d (FIR up/down sampling, written
here from its definition: zero insertion, zero padding, a correlation with the flipped 2-D filter, a strided
take), torch.tanh, StyleGAN's PixelNorm and the adaptive group norm's per-(n, c) modulation, with optional
SiLU. float64 on float32 inputs; gradients by autograd for a random upstream gradient."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save, t64

# (n, c, h, w, up, down, pad0, pad1, taps): the generator's three uses, then odd shapes and another filter
UPFIRDN = [
    (2, 3, 4, 6, 2, 1, 2, 1, [0.25, 0.75, 0.75, 0.25]),
    (2, 3, 6, 8, 1, 2, 1, 1, [0.125, 0.375, 0.375, 0.125]),
    (1, 2, 5, 7, 1, 1, 2, 2, [0.125, 0.375, 0.375, 0.125]),
    (1, 3, 5, 3, 2, 3, 1, 2, [0.5, -0.25, 1.0]),
    (2, 1, 3, 4, 3, 2, 0, 0, [0.3, 0.7]),
]


def upfirdn(x, taps, up, down, pad0, pad1):
    n, c, h, w = x.shape
    k = torch.tensor(np.outer(taps, taps), dtype=x.dtype)
    u = x.new_zeros(n, c, h * up, w * up)
    u[:, :, ::up, ::up] = x
    u = F.pad(u, (pad0, pad1, pad0, pad1))
    y = F.conv2d(u.reshape(n * c, 1, *u.shape[2:]), torch.flip(k, [0, 1])[None, None])
    y = y[:, :, ::down, ::down]
    return y.reshape(n, c, y.shape[2], y.shape[3])


def grads(fn, *inputs):
    ts = [t64(a) for a in inputs]
    y = fn(*ts)
    gy = normal(rng("gy" + str(y.shape)), *y.shape)
    y.backward(torch.tensor(gy, dtype=torch.float64))
    return y, gy, [t.grad for t in ts]


def generate():
    paths = []
    for (n, c, h, w, up, down, p0, p1, taps) in UPFIRDN:
        case = f"upfirdn_n{n}_c{c}_{h}x{w}_up{up}_down{down}_pad{p0}{p1}_k{len(taps)}"
        x = normal(rng("wavediff" + case), n, c, h, w)
        taps32 = np.array(taps, dtype=np.float32)
        y, gy, (gx,) = grads(lambda t: upfirdn(t, taps32.astype(np.float64), up, down, p0, p1), x)
        paths.append(save("wavediff_ops", case, x=x, taps=taps32, y=y, gy=gy, gx=gx,
                          dims=np.array([n, c, h, w, up, down, p0, p1])))
    x = normal(rng("wavediff tanh"), 7, 13) * 3
    y, gy, (gx,) = grads(torch.tanh, x)
    paths.append(save("wavediff_ops", "tanh_7x13", x=x, y=y, gy=gy, gx=gx))
    for rows, n in [(3, 100), (2, 7)]:
        x = normal(rng(f"wavediff pixel {rows} {n}"), rows, n) * 2
        y, gy, (gx,) = grads(lambda t: t / torch.sqrt(torch.mean(t ** 2, dim=1, keepdim=True) + 1e-8), x)
        paths.append(save("wavediff_ops", f"pixelnorm_{rows}x{n}", x=x, y=y, gy=gy, gx=gx))
    for silu in (0, 1):
        n, c, h, w = 2, 5, 3, 7
        r = rng(f"wavediff modulate {silu}")
        x, s = normal(r, n, c, h, w), normal(r, n, 2 * c)
        fn = lambda t, st: (lambda v: F.silu(v) if silu else v)(t * st[:, :c, None, None] + st[:, c:, None, None])
        y, gy, (gx, gs) = grads(fn, x, s)
        paths.append(save("wavediff_ops", f"modulate_silu{silu}", x=x, s=s, y=y, gy=gy, gx=gx, gs=gs,
                          dims=np.array([n, c, h, w, silu])))
    return paths
