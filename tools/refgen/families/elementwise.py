"""Element-wise references in float64 with autograd: a + b, a * b, s * a, a + s * b, and the broadcast
adds x[N,C,H,W] + v[N,C] (per plane) and x + bias[C] (per channel), with the gradients of every input."""
import numpy as np
import torch

from common import rng, normal, save, t64

CASES = [(2, 3, 5, 7), (1, 5, 4, 1), (3, 2, 1, 6)]


def generate():
    paths = []
    for (n, c, h, w) in CASES:
        case = f"n{n}_c{c}_{h}x{w}"
        r = rng("elementwise" + case)
        a, b, gy = normal(r, n, c, h, w), normal(r, n, c, h, w), normal(r, n, c, h, w)
        s = np.float32(r.uniform(-2, 2))
        v, bias = normal(r, n, c), normal(r, c)
        at, bt, vt, biast = t64(a), t64(b), t64(v), t64(bias)
        g = torch.tensor(gy, dtype=torch.float64)
        sd = float(s)

        mul = at * bt
        mul.backward(g)
        ga_mul, gb_mul = at.grad.clone(), bt.grad.clone()
        at.grad = None
        bt.grad = None
        axpy = at + sd * bt
        axpy.backward(g)
        ga_axpy, gb_axpy = at.grad.clone(), bt.grad.clone()
        at.grad = None
        scale = sd * at
        scale.backward(g)
        ga_scale = at.grad.clone()
        at.grad = None
        planes = at + vt[:, :, None, None]
        planes.backward(g)
        gv = vt.grad.clone()
        at.grad = None
        biased = at + biast[None, :, None, None]
        biased.backward(g)
        gbias = biast.grad.clone()

        paths.append(save("elementwise", case, a=a, b=b, gy=gy, s=np.array([s]), v=v, bias=bias,
                          add=at + bt, mul=mul, scale=scale, axpy=axpy, planes=planes, biased=biased,
                          ga_mul=ga_mul, gb_mul=gb_mul, ga_axpy=ga_axpy, gb_axpy=gb_axpy, ga_scale=ga_scale,
                          gv=gv, gbias=gbias, dims=np.array([n, c, h, w])))
    return paths
