#!/usr/bin/python3
"""Reference models for Prism's nn module: each model as a PyTorch module with the same parameter names,
random weights, an input, its output and (for the UNets) its gradients.

    /usr/bin/python3 tools/refgen/models.py                 # every case
    /usr/bin/python3 tools/refgen/models.py classifier      # some cases (the others' files stay as they are)
    /usr/bin/python3 tools/refgen/models.py --out /tmp/m    # elsewhere (to compare with the committed files)

For every case it writes, under nn/src/test/resources/models/:
  <case>.safetensors   the weights (fp32), with the model name and options as metadata
  <case>.pth           the same weights through torch.save(state_dict)
  <case>.npz           x, t, the outputs, and grad_x / grad.<parameter> for the upstream gradient gy
                       (the classifier: x, labels, features, logits, the mean cross-entropy loss and the
                       gradients of that loss)
The forward and backward run in float64 on float32-rounded weights and inputs. unet-standard.safetensors
is also copied to apps/src/test/resources/models/ for the prism sample tests. Prism's Java modules in
dev.prism.nn.layers / .models mirror these classes; the names and shapes must stay identical.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weights import encode_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "nn", "src", "test", "resources", "models")


# ---------------------------------------------------------------- layers

def channel_pad(x5, pc, mode):
    """Pads the channel (depth) axis of [N,1,C,H,W] by pc on each side."""
    if pc == 0:
        return x5
    if mode == "zeros":
        return F.pad(x5, (0, 0, 0, 0, pc, pc))
    return F.pad(x5, (0, 0, 0, 0, pc, pc), mode=mode)


def prism(x, w, b, mode):
    """DeepPrism eq. (3): conv3d of x.unsqueeze(1) with one filter w [1,1,KC,KH,KW] and bias b [1] or None."""
    kc, kh, kw = w.shape[-3:]
    y = F.conv3d(channel_pad(x.unsqueeze(1), kc // 2, mode), w, b, padding=(0, kh // 2, kw // 2))
    return y.squeeze(1)


class DeepPrismConv(nn.Module):
    def __init__(self, k=3, mode="zeros"):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, 1, k, k, k))
        self.bias = nn.Parameter(torch.empty(1))
        self.mode = mode

    def forward(self, x):
        return prism(x, self.weight, self.bias, self.mode)


class Spatial(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, 1, k, k))


class Channel(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, 1, k, 1, 1))
        self.bias = nn.Parameter(torch.empty(1))


class SeparableConv(nn.Module):
    """DeepPrism eq. (2): a shared K×K spatial filter, then a size-K channel filter."""

    def __init__(self, k=3, mode="zeros"):
        super().__init__()
        self.spatial, self.channel, self.mode = Spatial(k), Channel(k), mode

    def forward(self, x):
        n, c, h, w = x.shape
        k = self.spatial.weight.shape[-1]
        t = F.conv2d(x.reshape(n * c, 1, h, w), self.spatial.weight, padding=k // 2).reshape(n, c, h, w)
        return prism(t, self.channel.weight, self.channel.bias, self.mode)


def basis(kind, n, k):
    """B[p, i] = φ_p(x_i): cos(p·x) on [0.2π, 0.8π], or T_p(x) on [-1, 1]; the midpoint when K = 1."""
    lo, hi = (0.2 * math.pi, 0.8 * math.pi) if kind == "cosconv" else (-1.0, 1.0)
    xs = np.array([(lo + hi) / 2]) if k == 1 else np.linspace(lo, hi, k)
    if kind == "cosconv":
        return np.stack([np.cos(p * xs) for p in range(n)])
    return np.polynomial.chebyshev.chebvander(xs, n - 1).T


class ApproxConv(nn.Module):
    """ApproxConv eqs. (3)-(4): w = Bᵀ a B per (out, in) pair, then a 'same' conv2d."""

    def __init__(self, kind, cin, cout, k, n):
        super().__init__()
        self.coeff = nn.Parameter(torch.empty(cout, cin, n, n))
        self.bias = nn.Parameter(torch.empty(cout))
        self.register_buffer("B", torch.tensor(basis(kind, n, k), dtype=torch.float64), persistent=False)
        self.k = k

    def forward(self, x):
        B = self.B.to(x.dtype)
        w = torch.einsum("oapq,pi,qj->oaij", self.coeff, B, B)
        return F.conv2d(x, w, self.bias, padding=self.k // 2)


class StdConv(nn.Conv2d):
    def __init__(self, cin, cout, k):
        super().__init__(cin, cout, k, padding=k // 2)


def make_conv(kind, cin, cout, k=3, order=2, mode="zeros"):
    # DeepPrism and separable convolutions keep the width: where a block changes it, a standard conv does.
    if kind == "standard" or (kind in ("deepprism", "separable") and cin != cout):
        return StdConv(cin, cout, k)
    if kind == "deepprism":
        return DeepPrismConv(k, mode)
    if kind == "separable":
        return SeparableConv(k, mode)
    return ApproxConv(kind, cin, cout, k, order)


def norm(groups, c):
    return nn.GroupNorm(groups, c, eps=1e-6)


class ResBlock(nn.Module):
    """DeepPrism's Res(x) = x + 2*(Norm-Act-Conv)(x): two Norm-SiLU-Conv."""

    def __init__(self, c, groups, kind, order, mode):
        super().__init__()
        self.norm1, self.conv1 = norm(groups, c), make_conv(kind, c, c, 3, order, mode)
        self.norm2, self.conv2 = norm(groups, c), make_conv(kind, c, c, 3, order, mode)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        return x + self.conv2(F.silu(self.norm2(h)))


class TimeResBlock(nn.Module):
    """The DDPM ResnetBlock (no dropout); a 1×1 nin_shortcut when the width changes, as in the DDPM code."""

    def __init__(self, cin, cout, tdim, groups, kind, order, mode):
        super().__init__()
        self.norm1, self.conv1 = norm(groups, cin), make_conv(kind, cin, cout, 3, order, mode)
        self.temb_proj = nn.Linear(tdim, cout)
        self.norm2, self.conv2 = norm(groups, cout), make_conv(kind, cout, cout, 3, order, mode)
        if cin != cout:
            self.nin_shortcut = StdConv(cin, cout, 1)

    def forward(self, x, temb_act):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(temb_act)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x) + h


def attention(q, k, v, heads):
    n, c, h, w = q.shape
    d, p = c // heads, h * w
    q, k, v = (t.reshape(n, heads, d, p).transpose(-1, -2) for t in (q, k, v))  # [n, heads, p, d]
    out = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1) @ v
    return out.transpose(-1, -2).reshape(n, c, h, w)


class AttnBlock(nn.Module):
    def __init__(self, c, groups, heads):
        super().__init__()
        self.norm = norm(groups, c)
        self.q, self.k, self.v, self.proj_out = (StdConv(c, c, 1) for _ in range(4))
        self.heads = heads

    def forward(self, x):
        h = self.norm(x)
        return x + self.proj_out(attention(self.q(h), self.k(h), self.v(h), self.heads))


class Proj(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(1, 1, k, 1, 1))
        self.bias = nn.Parameter(torch.empty(1))


class PrismAttnBlock(nn.Module):
    """x + PrismAttn(norm(x)), DeepPrism eq. (5): q, k, v, proj_out are size-K channel convolutions."""

    def __init__(self, c, groups, k, heads, mode):
        super().__init__()
        self.norm = norm(groups, c)
        self.q, self.k, self.v, self.proj_out = (Proj(k) for _ in range(4))
        self.heads, self.mode = heads, mode

    def forward(self, x):
        h = self.norm(x)
        q, k, v = (prism(h, m.weight, m.bias, self.mode) for m in (self.q, self.k, self.v))
        return x + prism(attention(q, k, v, self.heads), self.proj_out.weight, self.proj_out.bias, self.mode)


class Resample(nn.Module):
    def __init__(self, down, c, kind, order, mode):
        super().__init__()
        self.down, self.conv = down, make_conv(kind, c, c, 3, order, mode)

    def forward(self, x):
        return self.conv(F.avg_pool2d(x, 2) if self.down else F.interpolate(x, scale_factor=2, mode="nearest"))


HAAR = torch.tensor([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [-0.5, -0.5]],
                     [[0.5, -0.5], [0.5, -0.5]], [[0.5, -0.5], [-0.5, 0.5]]], dtype=torch.float64)


def dwt(x):
    n, c, h, w = x.shape
    y = F.conv2d(x, HAAR.to(x.dtype).unsqueeze(1).repeat(c, 1, 1, 1), stride=2, groups=c)
    return y.view(n, c, 4, h // 2, w // 2).transpose(1, 2)  # band-major [n, 4, c, h/2, w/2]


def idwt(bands):
    n, _, c, h, w = bands.shape
    y = bands.transpose(1, 2).reshape(n, 4 * c, h, w)
    return F.conv_transpose2d(y, HAAR.to(bands.dtype).unsqueeze(1).repeat(c, 1, 1, 1), stride=2, groups=c)


class WaveletGate(nn.Module):
    """WG-Down / WG-Up (Spectral Diffusion §5.1) with gates sigmoid(gate(avgpool(·)))."""

    def __init__(self, down, c, hidden, gates):
        super().__init__()
        self.down, self.c, self.gates = down, c, gates
        if not down:
            self.expand = StdConv(c, 4 * c, 1)
        cin = c if down else 4 * c
        self.gate = nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(), nn.Linear(hidden, 4 * gates))

    def forward(self, x):
        if not self.down:
            x = self.expand(x)
        n = x.shape[0]
        g = torch.sigmoid(self.gate(x.mean((2, 3)))).view(n, 4, self.gates, 1, 1)
        if self.down:
            return (g * dwt(x)).sum(1)
        h, w = x.shape[2], x.shape[3]
        return idwt(g * x.view(n, 4, self.c, h, w))


def timestep_embedding(t, dim):
    half = dim // 2
    freq = torch.exp(-math.log(10000) * torch.arange(half, dtype=t.dtype) / (half - 1))
    arg = t[:, None] * freq[None, :]
    emb = torch.cat([torch.sin(arg), torch.cos(arg)], 1)
    return F.pad(emb, (0, 1)) if dim % 2 else emb


def unet_widths(o):
    """The (in, out) width of every residual block and the width of every resampling, by replaying the skip stack.

    Widths: w[l] = width · mults[l]. skip=add (Prism's constant-width design, generalised): the down path
    pushes each block's output; each up block first adds a popped skip, so up level l runs at w[l], and its
    last block maps to the next level's width w[l-1] (w[0] at level 0). skip=concat (DDPM, Ho et al.):
    conv_in, every down block and every downsampling push; each of the res+1 up blocks of a level takes
    the concatenation [h, popped skip] and maps it to w[l]."""
    w = [o["width"] * m for m in o["mults"]]
    L, R, concat = o["levels"], o["res"], o["skip"] == "concat"
    down, up, stack = [], [], []
    h = o["width"]
    if concat:
        stack.append(h)
    for l in range(L):
        blocks = []
        for _ in range(R):
            blocks.append((h, w[l]))
            h = w[l]
            stack.append(h)
        down.append((blocks, h if l < L - 1 else None))
        if l < L - 1 and concat:
            stack.append(h)
    mid = h
    for l in reversed(range(L)):
        blocks = []
        for i in range(R + 1 if concat else R):
            s = stack.pop()
            if concat:
                blocks.append((h + s, w[l]))
                h = w[l]
            else:
                assert s == h, (s, h)
                h_out = (w[l - 1] if l > 0 else w[0]) if i == R - 1 else w[l]
                blocks.append((h, h_out))
                h = h_out
        up.insert(0, (blocks, h if l > 0 else None))
    assert not stack
    return down, mid, up


class Level(nn.Module):
    def __init__(self, o, level, down_path, blocks, resample_width):
        super().__init__()
        t = 4 * o["width"]
        self.res = nn.ModuleList([TimeResBlock(ci, co, t, o["groups"], o["conv"], o["order"], o["padding"]) for ci, co in blocks])
        if level >= o["attn"]:
            self.attn = nn.ModuleList([make_attn(o, co) for _, co in blocks])
        if resample_width is not None:
            c = resample_width
            if o["wavelet"]:
                gates = 1 if o["gates"] == 1 else c  # gates = width: one per band and channel of this layer
                m = WaveletGate(down_path, c, o["gate_hidden"], gates)
            else:
                m = Resample(down_path, c, o["conv"], o["order"], o["padding"])
            setattr(self, "downsample" if down_path else "upsample", m)


def make_attn(o, c):
    if o["attention"] == "prism":
        return PrismAttnBlock(c, o["groups"], 3, o["heads"], o["padding"])
    return AttnBlock(c, o["groups"], o["heads"])


class Mid(nn.Module):
    def __init__(self, o, c):
        super().__init__()
        t = 4 * o["width"]
        self.res1 = TimeResBlock(c, c, t, o["groups"], o["conv"], o["order"], o["padding"])
        self.attn = make_attn(o, c)
        self.res2 = TimeResBlock(c, c, t, o["groups"], o["conv"], o["order"], o["padding"])


class UNet(nn.Module):
    def __init__(self, o):
        super().__init__()
        o = dict({"mults": [1] * o["levels"], "skip": "add"}, **o)
        w = o["width"]
        self.o = o
        down, mid, up = unet_widths(o)
        self.time_embed = nn.Sequential(nn.Linear(w, 4 * w), nn.SiLU(), nn.Linear(4 * w, 4 * w))
        self.conv_in = StdConv(o["in"], w, 3)
        self.down = nn.ModuleList([Level(o, l, True, *down[l]) for l in range(o["levels"])])
        self.mid = Mid(o, mid)
        self.up = nn.ModuleList([Level(o, l, False, *up[l]) for l in range(o["levels"])])
        out = w * o["mults"][0]
        self.norm_out = norm(o["groups"], out)
        self.conv_out = StdConv(out, o["in"], 3)

    def forward(self, x, t):
        concat = self.o["skip"] == "concat"
        temb = F.silu(self.time_embed(timestep_embedding(t, self.o["width"])))
        h = self.conv_in(x)
        skips = [h] if concat else []
        for lv in self.down:
            for i, r in enumerate(lv.res):
                h = r(h, temb)
                if hasattr(lv, "attn"):
                    h = lv.attn[i](h)
                skips.append(h)
            if hasattr(lv, "downsample"):
                h = lv.downsample(h)
                if concat:
                    skips.append(h)
        h = self.mid.attn(self.mid.res1(h, temb))
        h = self.mid.res2(h, temb)
        for lv in reversed(self.up):
            for i, r in enumerate(lv.res):
                s = skips.pop()
                h = r(torch.cat([h, s], 1) if concat else h + s, temb)
                if hasattr(lv, "attn"):
                    h = lv.attn[i](h)
            if hasattr(lv, "upsample"):
                h = lv.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class VaeLevel(nn.Module):
    def __init__(self, c, g, mode, blocks, resample):
        super().__init__()
        self.res = nn.ModuleList([ResBlock(c, g, "deepprism", 0, mode) for _ in range(blocks)])
        if resample:
            setattr(self, resample, Resample(resample == "downsample", c, "deepprism", 0, mode))

    def forward(self, h):
        for r in self.res:
            h = r(h)
        for name in ("downsample", "upsample"):
            if hasattr(self, name):
                h = getattr(self, name)(h)
        return h


class VaeMid(nn.Module):
    def __init__(self, c, g, mode):
        super().__init__()
        self.res1 = ResBlock(c, g, "deepprism", 0, mode)
        self.attn = PrismAttnBlock(c, g, 3, 1, mode)
        self.res2 = ResBlock(c, g, "deepprism", 0, mode)

    def forward(self, h):
        return self.res2(self.attn(self.res1(h)))


VAE_LEVELS = 3


class Encoder(nn.Module):
    """LDM's encoder at constant width: 3 levels of 2 Res (Down after the first two), mid, Norm-SiLU-conv_out to 2z;
    conv_mean and conv_logvar (1x1, 2z -> z) are LDM's quant_conv split into E and E'."""

    def __init__(self, o):
        super().__init__()
        c, g, mode, z = o["width"], o["groups"], o["padding"], o["z"]
        self.conv_in = StdConv(o["in"], c, 3)
        self.down = nn.ModuleList([VaeLevel(c, g, mode, 2, "downsample" if l < VAE_LEVELS - 1 else None)
                                   for l in range(VAE_LEVELS)])
        self.mid = VaeMid(c, g, mode)
        self.norm_out = norm(g, c)
        self.conv_out = StdConv(c, 2 * z, 3)
        self.conv_mean = StdConv(2 * z, z, 1)
        self.conv_logvar = StdConv(2 * z, z, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for lv in self.down:
            h = lv(h)
        h = self.conv_out(F.silu(self.norm_out(self.mid(h))))
        return self.conv_mean(h), self.conv_logvar(h)


class Decoder(nn.Module):
    """LDM's decoder at constant width: post_quant_conv, conv_in, mid, 3 levels of 3 Res (Up after the first two),
    Norm-SiLU-conv_out."""

    def __init__(self, o):
        super().__init__()
        c, g, mode, z = o["width"], o["groups"], o["padding"], o["z"]
        self.post_quant_conv = StdConv(z, z, 1)
        self.conv_in = StdConv(z, c, 3)
        self.mid = VaeMid(c, g, mode)
        self.up = nn.ModuleList([VaeLevel(c, g, mode, 3, "upsample" if l < VAE_LEVELS - 1 else None)
                                 for l in range(VAE_LEVELS)])
        self.norm_out = norm(g, c)
        self.conv_out = StdConv(c, o["in"], 3)

    def forward(self, z):
        h = self.mid(self.conv_in(self.post_quant_conv(z)))
        for lv in self.up:
            h = lv(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class DeepPrismVae(nn.Module):
    """DeepPrism §4.1 as its Table 3 counts it: the LDM autoencoder (kl-f4 layout) at constant width C with DeepPrism
    hidden convolutions; the encoder gives mean and log-variance at 1/4 of the image size."""

    def __init__(self, o):
        super().__init__()
        self.encoder, self.decoder = Encoder(o), Decoder(o)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)


class ClassifierStage(nn.Module):
    """conv (3×3) → group norm → SiLU, `convs` times, then 2× average pooling."""

    def __init__(self, cin, cout, groups, convs):
        super().__init__()
        self.conv = nn.ModuleList([nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1) for i in range(convs)])
        self.norm = nn.ModuleList([nn.GroupNorm(groups, cout, eps=1e-5) for _ in range(convs)])

    def forward(self, x):
        for conv, norm in zip(self.conv, self.norm):
            x = F.silu(norm(conv(x)))
        return F.avg_pool2d(x, 2)


class Classifier(nn.Module):
    """Prism's nn.models.Classifier: stages of width w·2^s, global average pool, hidden linear + SiLU (the
    penultimate features), linear to the classes."""

    def __init__(self, o):
        super().__init__()
        widths = [o["width"] << s for s in range(o["stages"])]
        cins = [o["in"]] + widths[:-1]
        self.stages = nn.ModuleList([ClassifierStage(ci, co, o["groups"], o["convs"]) for ci, co in zip(cins, widths)])
        self.hidden = nn.Linear(widths[-1], o["hidden"])
        self.out = nn.Linear(o["hidden"], o["classes"])

    def features(self, x):
        for s in self.stages:
            x = s(x)
        return F.silu(self.hidden(x.mean((2, 3))))

    def forward(self, x):
        return self.out(self.features(x))


# ---------------------------------------------------------------- cases

UNET = dict(width=8, levels=2, res=1, attn=1, conv="standard", order=2, attention="standard", heads=1, groups=4,
            padding="zeros", wavelet=False, gates=1, gate_hidden=8)
CASES = [
    ("unet-standard", "unet", dict(UNET, **{"in": 1})),
    ("unet-deepprism", "unet", dict(UNET, **{"in": 1, "conv": "deepprism", "padding": "replicate"})),
    ("unet-separable", "unet", dict(UNET, **{"in": 3, "conv": "separable", "padding": "circular"})),
    ("unet-cosconv", "unet", dict(UNET, **{"in": 1, "conv": "cosconv", "order": 2})),
    ("unet-chebconv", "unet", dict(UNET, **{"in": 1, "conv": "chebconv", "order": 3})),
    ("unet-prismattn", "unet", dict(UNET, **{"in": 1, "conv": "deepprism", "attention": "prism", "heads": 2})),
    ("wg-unet", "wg-unet", dict(UNET, **{"in": 1, "conv": "deepprism", "wavelet": True, "gates": 1})),
    ("wg-unet-gc", "wg-unet", dict(UNET, **{"in": 3, "conv": "standard", "wavelet": True, "gates": 8, "levels": 3, "attn": 2})),
    ("deepprism-vae", "deepprism-vae", {"in": 3, "width": 8, "z": 3, "groups": 4, "padding": "zeros"}),
    ("classifier", "classifier", {"in": 1, "width": 8, "stages": 2, "convs": 2, "hidden": 12, "classes": 5, "groups": 4}),
    # Channel multipliers and the DDPM's concatenated skips (added later; the cases above predate the options).
    ("unet-plain", "unet", dict(UNET, **{"in": 1, "mults": [1, 2], "skip": "concat"})),
    ("unet-deepprism-mults", "unet", dict(UNET, **{"in": 1, "conv": "deepprism", "padding": "replicate", "attention": "prism",
                                                   "mults": [1, 2], "skip": "add", "res": 2})),
    ("wg-unet-mults", "wg-unet", dict(UNET, **{"in": 1, "width": 4, "groups": 2, "conv": "separable", "wavelet": True,
                                               "gates": 4, "levels": 3, "attn": 2, "mults": [1, 2, 2], "skip": "concat"})),
]
# The options Prism's Models.build takes for each case (the Java side reads them from the metadata); an option a
# case does not set is left out, so that the files of the older cases stay as they were.
JAVA_KEYS = {"unet": ["in", "width", "levels", "res", "attn", "conv", "order", "attention", "heads", "groups", "padding",
                      "mults", "skip"],
             "wg-unet": ["in", "width", "levels", "res", "attn", "conv", "order", "attention", "heads", "groups", "padding",
                         "mults", "skip", "gates", "gate_hidden"],
             "deepprism-vae": ["in", "width", "z", "groups", "padding"],
             "classifier": ["in", "width", "stages", "convs", "hidden", "classes", "groups"]}


def option_text(v):
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return str(v)


def initialise(model, g):
    """Uniform in ±1/√fan_in for every weight and bias (group norms: scale 1 + noise, shift noise, so they matter)."""
    for name, p in model.named_parameters():
        with torch.no_grad():
            if ".norm" in "." + name or name.startswith("norm"):
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(torch.tensor(base + 0.1 * g.standard_normal(p.shape)))
            else:
                fan = int(np.prod(p.shape[1:])) if p.dim() > 1 else max(1, p.shape[0])
                p.copy_(torch.tensor(g.uniform(-1, 1, p.shape) / math.sqrt(fan)))


def build(name, o):
    if name == "deepprism-vae":
        return DeepPrismVae(o)
    if name == "classifier":
        return Classifier(o)
    return UNet(o)


def generate(only=None, folder=OUT):
    """Writes the cases named in only (all when None) under folder."""
    known = [c[0] for c in CASES]
    unknown = [c for c in (only or []) if c not in known]
    if unknown:
        sys.exit(f"unknown cases {unknown}; known: {known}")
    os.makedirs(folder, exist_ok=True)
    paths = []
    for case, name, o in CASES:
        if only and case not in only:
            continue
        g = np.random.default_rng(int.from_bytes(case.encode(), "little") % 2**32)
        model = build(name, o)
        initialise(model, g)
        model = model.float()
        sd = {k: v.detach().clone().float().contiguous() for k, v in model.state_dict().items()}
        meta = {"model": name, "options": json.dumps({k: option_text(o[k]) for k in JAVA_KEYS[name] if k in o})}
        with open(os.path.join(folder, case + ".safetensors"), "wb") as f:
            f.write(encode_safetensors(sd, meta))
        torch.save(sd, os.path.join(folder, case + ".pth"))
        model = model.double()
        arrays = {}
        if name == "deepprism-vae":
            x = torch.tensor(g.standard_normal((1, o["in"], 16, 16)).astype(np.float32), dtype=torch.float64, requires_grad=True)
            mean, logvar = model.encode(x)
            recon = model.decode(mean)
            gy = torch.tensor(g.standard_normal(recon.shape).astype(np.float32), dtype=torch.float64)
            recon.backward(gy)
            arrays.update(x=x.detach(), mean=mean.detach(), logvar=logvar.detach(), out=recon.detach(), gy=gy)
        elif name == "classifier":
            x = torch.tensor(g.uniform(-1, 1, (3, o["in"], 12, 12)).astype(np.float32), dtype=torch.float64, requires_grad=True)
            labels = torch.tensor(g.integers(0, o["classes"], 3), dtype=torch.int64)
            features = model.features(x)
            logits = model.out(features)
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            arrays.update(x=x.detach(), labels=labels.to(torch.float64), features=features.detach(), logits=logits.detach(),
                          loss=loss.detach().reshape(1))
        else:
            x = torch.tensor(g.standard_normal((2, o["in"], 8, 8)).astype(np.float32), dtype=torch.float64, requires_grad=True)
            t = torch.tensor([17.0, 503.0], dtype=torch.float64)
            out = model(x, t)
            gy = torch.tensor(g.standard_normal(out.shape).astype(np.float32), dtype=torch.float64)
            out.backward(gy)
            arrays.update(x=x.detach(), t=t, out=out.detach(), gy=gy)
        arrays["grad_x"] = x.grad
        for pname, p in model.named_parameters():
            if p.grad is not None:  # the VAE's log-variance head gets none from the reconstruction
                arrays["grad." + pname] = p.grad
        np.savez_compressed(os.path.join(folder, case + ".npz"),
                            **{k: np.ascontiguousarray(v.numpy().astype(np.float32)) for k, v in arrays.items()})
        paths.append(case)
        print(f"{case:16s} {sum(p.numel() for p in model.parameters()):7d} parameters")
    return paths


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="Writes the reference models (all cases, or those named).")
    ap.add_argument("cases", nargs="*", help="case names (default: every case)")
    ap.add_argument("--out", default=OUT, help="output folder (default: nn/src/test/resources/models)")
    args = ap.parse_args()
    written = generate(args.cases or None, args.out)
    if "unet-standard" in written and os.path.abspath(args.out) == os.path.abspath(OUT):
        # The CLI tests of apps sample with one small model.
        apps = os.path.join(ROOT, "apps", "src", "test", "resources", "models")
        os.makedirs(apps, exist_ok=True)
        import shutil
        shutil.copy(os.path.join(OUT, "unet-standard.safetensors"), apps)
