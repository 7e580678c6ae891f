"""2-D convolution references: F.conv2d in float64 with autograd for the input, weight and bias gradients."""
import numpy as np
import torch
import torch.nn.functional as F

from common import rng, normal, save

# name, n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias
CASES = [
    ("k3_p1_bias", 1, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, True),
    ("k3_s2_p1_n2", 2, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, True),
    ("k3_d2_p2", 1, 3, 10, 11, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1, False),
    ("k3_g2_p1_n2", 2, 6, 7, 7, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2, True),
    ("depthwise_k3_p1", 1, 5, 8, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 5, True),
    ("depthwise_x2_k5_s2_p2", 2, 3, 9, 7, 6, 5, 5, 2, 2, 2, 2, 1, 1, 3, False),
    ("k2x5_s2x1_p1x2_d1x2", 2, 3, 6, 11, 4, 2, 5, 2, 1, 1, 2, 1, 2, 1, True),
    ("k4_s3_odd", 1, 2, 11, 13, 3, 4, 4, 3, 3, 0, 0, 1, 1, 1, False),
    ("k3_p3_wide_pad", 1, 2, 4, 5, 3, 3, 3, 2, 1, 3, 3, 1, 1, 1, True),
    ("k1_n2_bias", 2, 5, 6, 7, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, True),
    ("k1_nobias", 1, 4, 5, 3, 6, 1, 1, 1, 1, 0, 0, 1, 1, 1, False),
    ("k1_s2_n2", 2, 3, 7, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1, True),
    # stride 1, groups 1: the input gradient as a forward convolution with flipped weights (Conv2d.backward)
    ("k3x5_p0x1_n2", 2, 5, 6, 9, 3, 3, 5, 1, 1, 0, 1, 1, 1, 1, True),
    ("k5_d2_p3_n3", 3, 2, 11, 10, 4, 5, 5, 1, 1, 3, 3, 2, 2, 1, False),
    ("k2_p1_even", 2, 3, 5, 7, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, True),
    # padding beyond the kernel's reach (ph > dh·(kh−1)): stays on the direct input-gradient kernel
    ("k3_s1_p3_wide_pad", 1, 3, 4, 6, 2, 3, 3, 1, 1, 3, 3, 1, 1, 1, True),
]


def generate():
    paths = []
    for (name, n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups, bias) in CASES:
        g = rng("conv2d" + name)
        x = normal(g, n, cin, h, w)
        wt = normal(g, cout, cin // groups, kh, kw)
        b = normal(g, cout)
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        wtt = torch.tensor(wt, dtype=torch.float64, requires_grad=True)
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True) if bias else None
        y = F.conv2d(xt, wtt, bt, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups)
        gy = normal(g, *y.shape)
        y.backward(torch.tensor(gy, dtype=torch.float64))
        arrays = dict(x=x, w=wt, y=y, gy=gy, gx=xt.grad, gw=wtt.grad,
                      geom=np.array([n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, groups, int(bias)]))
        if bias:
            arrays.update(b=b, gb=bt.grad)
        paths.append(save("conv2d", name, **arrays))
    return paths
