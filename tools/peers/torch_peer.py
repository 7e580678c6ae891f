#!/usr/bin/python3
"""The PyTorch CPU peer of Prism's kernel catalog: each MODEL-size catalog case, written the way a user
would write it in PyTorch 1.13 (or SciPy, for the DCT), timed on this machine.

    /usr/bin/python3 tools/peers/torch_peer.py [--threads N] [--json out.json] [--tsv out.tsv] [--filter PREFIX,...]

Timing follows ../shared/peers/torch_kernels.py: 5 warm-up calls, then the median of 30 (bounded by one
second per case). Backward cases time the backward pass alone (the forward graph is built once, outside
the timer, and kept with retain_graph). Cases with no PyTorch counterpart (Prism's own table kernels)
are left out. The shapes here must equal the catalog's MODEL shapes (tornado-kernels, catalog/*Cases.java).
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import scipy.fft
import torch
import torch.nn.functional as F

torch.manual_seed(0)
N, C, H, W = 1, 64, 64, 64


def bench(fn, warmup=5, reps=30, budget=1.0):
    for _ in range(warmup):
        fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < reps and (len(ts) < 5 or time.perf_counter() - start < budget):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    q = lambda p: ts[min(len(ts) - 1, int(p * len(ts)))]
    return {"median_ms": q(0.5) * 1e3, "p25_ms": q(0.25) * 1e3, "p75_ms": q(0.75) * 1e3, "reps": len(ts)}


def backward_of(make):
    """make() -> (output, inputs); returns a function timing d(output)/d(inputs) for a random upstream grad."""
    out, inputs = make()
    g = torch.randn_like(out)
    return lambda: torch.autograd.grad(out, inputs, g, retain_graph=True)


def rand(*s, grad=False):
    return torch.randn(*s, requires_grad=grad)


def cases():
    c = {}
    x = rand(N, C, H, W)
    # Haar DWT / IDWT as strided (transposed) grouped convolutions, the way WaveDiff writes them.
    h = torch.tensor([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [-0.5, -0.5]], [[0.5, -0.5], [0.5, -0.5]], [[0.5, -0.5], [-0.5, 0.5]]])
    filt = h.unsqueeze(1).repeat(C, 1, 1, 1)
    c["haar.dwt2"] = lambda: F.conv2d(x, filt, stride=2, groups=C)
    coeffs = rand(N, 4 * C, H // 2, W // 2)
    c["haar.idwt2"] = lambda: F.conv_transpose2d(coeffs, filt, stride=2, groups=C)

    # Prism convolution: conv3d over (C, H, W) of x.unsqueeze(1), channel padding by F.pad.
    def prism(xx, w, b, mode, kc):
        pc = kc // 2
        if mode == "zeros":
            return F.conv3d(xx.unsqueeze(1), w, b, padding=(pc, w.shape[-2] // 2, w.shape[-1] // 2)).squeeze(1)
        return F.conv3d(F.pad(xx.unsqueeze(1), (0, 0, 0, 0, pc, pc), mode=mode), w, b, padding=(0, w.shape[-2] // 2, w.shape[-1] // 2)).squeeze(1)
    for mode in ("zeros", "replicate", "circular"):
        w3, w5, b = rand(1, 1, 3, 3, 3), rand(1, 1, 5, 3, 3), rand(1)
        c[f"prismconv.forward.{mode}"] = (lambda m=mode, w=w3, bb=b: prism(x, w, bb, m, 3))
        c[f"prismconv.forward.k5x3x3.{mode}"] = (lambda m=mode, w=w5, bb=b: prism(x, w, bb, m, 5))
        xg = rand(N, C, H, W, grad=True)
        wg = rand(1, 1, 3, 3, 3, grad=True)
        bg = rand(1, grad=True)
        c[f"prismconv.backward.data.{mode}"] = backward_of(lambda m=mode: (prism(xg, wg.detach(), bg.detach(), m, 3), [xg]))
        c[f"prismconv.backward.weight.{mode}"] = backward_of(lambda m=mode: (prism(xg.detach(), wg, bg, m, 3), [wg, bg]))
    ws, wc, bsep = rand(1, 1, 3, 3, grad=True), rand(1, 1, 3, 1, 1, grad=True), rand(1, grad=True)

    def separable(xx):
        t = F.conv2d(xx.reshape(N * C, 1, H, W), ws, padding=1).reshape(N, C, H, W)
        return prism(t, wc, bsep, "replicate", 3)
    c["prismconv.separable.forward.replicate"] = lambda: separable(x)
    xs = rand(N, C, H, W, grad=True)
    c["prismconv.separable.backward.replicate"] = backward_of(lambda: (separable(xs), [xs, ws, wc, bsep]))

    # DCT: SciPy, as the shared peer measures it.
    xn = x.numpy()
    c["dct.dct2"] = lambda: scipy.fft.dctn(xn, type=2, norm="ortho", axes=(-2, -1), workers=torch.get_num_threads())
    c["dct.idct2"] = lambda: scipy.fft.idctn(xn, type=2, norm="ortho", axes=(-2, -1), workers=torch.get_num_threads())
    c["dct.dct2.backward"] = c["dct.idct2"]
    c["dct.idct2.backward"] = c["dct.dct2"]
    mask = torch.zeros(H, W)
    mask[:32, :32] = 1
    c["dct.lowpass"] = lambda: x * mask
    c["dct.lowpass.backward"] = c["dct.lowpass"]

    # CosConv / ChebConv synthesis: w = Bᵀ a B for 64×64 (out, in) pairs.
    for k, n in ((3, 2), (7, 4)):
        basis = rand(n, k)
        a = rand(C * C, n, n, grad=True)
        c[f"approx.synthesize.k{k}n{n}"] = (lambda a=a, B=basis: B.t() @ a.detach() @ B)
        c[f"approx.synthesizeBackward.k{k}n{n}"] = backward_of(lambda a=a, B=basis: (B.t() @ a @ B, [a]))

    # Wavelet gating parts.
    c["gating.avgPool"] = lambda: x.mean((2, 3))
    xp = rand(N, C, H, W, grad=True)
    c["gating.avgPoolBackward"] = backward_of(lambda: (xp.mean((2, 3)), [xp]))
    bands = rand(N, 4, C, 32, 32, grad=True)
    for tag, g_ in (("g1", 1), ("gc", C)):
        gates = rand(N, 4, g_, grad=True)
        gsum = lambda y=bands, g=gates: (g[:, :, :, None, None] * y).sum(1)
        c[f"gating.gatedSum.{tag}"] = (lambda f=gsum: f(bands.detach(), gates.detach()))
        c[f"gating.gatedSumBackward.{tag}"] = backward_of(lambda f=gsum, g=gates: (f(bands, g), [bands, g]))
        c[f"gating.bandGate.{tag}"] = (lambda g=gates: g.detach()[:, :, :, None, None] * bands.detach())
        c[f"gating.bandGateBackward.{tag}"] = backward_of(lambda g=gates: (g[:, :, :, None, None] * bands, [bands, g]))

    # Group norm, alone and with SiLU.
    gamma, beta = rand(C, grad=True), rand(C, grad=True)
    xn_ = rand(N, C, H, W, grad=True)
    c["norm.group"] = lambda: F.group_norm(x, 32, gamma.detach(), beta.detach())
    c["norm.group.silu"] = lambda: F.silu(F.group_norm(x, 32, gamma.detach(), beta.detach()))
    c["norm.group.backward"] = backward_of(lambda: (F.group_norm(xn_, 32, gamma, beta), [xn_, gamma, beta]))
    c["norm.group.silu.backward"] = backward_of(lambda: (F.silu(F.group_norm(xn_, 32, gamma, beta)), [xn_, gamma, beta]))

    # Activations.
    xa = rand(N, C, H, W, grad=True)
    for name, f in (("silu", F.silu), ("gelu", F.gelu), ("leakyRelu", lambda t: F.leaky_relu(t, 0.2)), ("sigmoid", torch.sigmoid),
                    ("tanh", torch.tanh)):
        c[f"activation.{name}"] = (lambda f=f: f(x))
        c[f"activation.{name}.backward"] = backward_of(lambda f=f: (f(xa), [xa]))
    rows = rand(4096, 64, grad=True)
    c["activation.softmax"] = lambda: torch.softmax(rows.detach(), -1)
    c["activation.softmax.backward"] = backward_of(lambda: (torch.softmax(rows, -1), [rows]))

    # Resampling.
    small = rand(N, C, 32, 32, grad=True)
    c["resample.upsample2x"] = lambda: F.interpolate(small.detach(), scale_factor=2, mode="nearest")
    c["resample.upsample2x.backward"] = backward_of(lambda: (F.interpolate(small, scale_factor=2, mode="nearest"), [small]))
    xr = rand(N, C, H, W, grad=True)
    c["resample.avgPool2x"] = lambda: F.avg_pool2d(x, 2)
    c["resample.avgPool2x.backward"] = backward_of(lambda: (F.avg_pool2d(xr, 2), [xr]))
    # WaveDiff's patchify ((p1 p2 c), its generator's) and unpatchify ((c p1 p2)) of 1x64x64x64 with 2x2 patches, the einops
    # rearranges as reshape/permute, made contiguous (as the convolution that follows them would).
    P = 2
    patchify = lambda z: z.reshape(N, C, H // P, P, W // P, P).permute(0, 3, 5, 1, 2, 4).reshape(N, P * P * C, H // P, W // P).contiguous()
    unpatchify = lambda z: z.reshape(N, C, P, P, H // P, W // P).permute(0, 1, 4, 2, 5, 3).reshape(N, C, H, W).contiguous()
    xq, yq = rand(N, C, H, W, grad=True), rand(N, C * P * P, H // P, W // P, grad=True)
    c["resample.patchify"] = lambda: patchify(xq.detach())
    c["resample.patchify.backward"] = backward_of(lambda: (patchify(xq), [xq]))
    c["resample.unpatchify"] = lambda: unpatchify(yq.detach())
    c["resample.unpatchify.backward"] = backward_of(lambda: (unpatchify(yq), [yq]))

    # Element-wise.
    a, b = rand(N, C, H, W, grad=True), rand(N, C, H, W, grad=True)
    v, bias = rand(N, C, grad=True), rand(C, grad=True)
    c["elementwise.add"] = lambda: a.detach() + b.detach()
    c["elementwise.mul"] = lambda: a.detach() * b.detach()
    c["elementwise.scale"] = lambda: a.detach() * 0.5
    c["elementwise.axpy"] = lambda: torch.add(a.detach(), b.detach(), alpha=0.5)
    c["elementwise.addPlanes"] = lambda: a.detach() + v.detach()[:, :, None, None]
    c["elementwise.addBias"] = lambda: a.detach() + bias.detach()[None, :, None, None]
    c["elementwise.mul.backward"] = backward_of(lambda: (a * b, [a, b]))
    c["elementwise.addPlanes.backward"] = backward_of(lambda: (a.detach() + v[:, :, None, None], [v]))
    c["elementwise.addBias.backward"] = backward_of(lambda: (a.detach() + bias[None, :, None, None], [bias]))

    # WaveDiff's adaptive group norm modulation y = x*gamma[n,c] + beta[n,c] (then SiLU), style s[N, 2C]
    # (ElementwiseCases.modulate), and StyleGAN's PixelNorm over rows of 64 (NormCases).
    xm, sm = rand(N, C, H, W, grad=True), (torch.randn(N, 2 * C) * 0.1 + torch.cat([torch.ones(N, C), torch.zeros(N, C)], 1))
    sm.requires_grad_(True)
    modulate = lambda xx, ss: xx * ss[:, :C, None, None] + ss[:, C:, None, None]
    c["elementwise.modulatePlanes"] = lambda: modulate(xm.detach(), sm.detach())
    c["elementwise.modulatePlanes.silu"] = lambda: F.silu(modulate(xm.detach(), sm.detach()))
    c["elementwise.modulatePlanes.backward"] = backward_of(lambda: (modulate(xm, sm), [xm, sm]))
    c["elementwise.modulatePlanes.silu.backward"] = backward_of(lambda: (F.silu(modulate(xm, sm)), [xm, sm]))
    xp_ = rand(4096, 64, grad=True)
    pixel = lambda z: z * torch.rsqrt(torch.mean(z * z, dim=1, keepdim=True) + 1e-8)
    c["norm.pixelNorm"] = lambda: pixel(xp_.detach())
    c["norm.pixelNorm.backward"] = backward_of(lambda: (pixel(xp_), [xp_]))

    # Channel concatenation (the DDPM UNet's skips) and its backward, the split of the gradient.
    ca_, cb_ = rand(N, C, H, W, grad=True), rand(N, C, H, W, grad=True)
    c["concat.channels"] = lambda: torch.cat([ca_.detach(), cb_.detach()], 1)
    # PyTorch's backward of cat returns views of the gradient (no copy); Prism's split copies the two slices.
    c["concat.split"] = backward_of(lambda: (torch.cat([ca_, cb_], 1), [ca_, cb_]))

    # DDPM timestep embedding.
    def embed(t, dim=256):
        half = dim // 2
        freq = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / (half - 1))
        arg = t[:, None] * freq[None, :]
        return torch.cat([torch.sin(arg), torch.cos(arg)], 1)
    t1, t8 = torch.tensor([500.0]), torch.arange(8, dtype=torch.float32) * 100
    c["embedding.timestep"] = lambda: embed(t1)
    c["embedding.timestep.batch"] = lambda: embed(t8)

    # Dense.
    A, B = rand(256, 256), rand(256, 256)
    c["gemm.matmul"] = lambda: A @ B
    At, Bt = A.t().contiguous(), B.t().contiguous()
    c["gemm.matmul.tt"] = lambda: At.t() @ Bt.t()
    lx, lw, lb = rand(64, 256, grad=True), rand(256, 256, grad=True), rand(256, grad=True)
    c["gemm.linear.forward"] = lambda: F.linear(lx.detach(), lw.detach(), lb.detach())
    c["gemm.linear.backward"] = backward_of(lambda: (F.linear(lx, lw, lb), [lx, lw, lb]))
    xc = rand(N, C, H, W, grad=True)
    for tag, k in (("", 3), (".1x1", 1)):
        wk, bk = rand(C, C, k, k, grad=True), rand(C, grad=True)
        c["conv2d.forward" + tag] = (lambda w=wk, bb=bk, k=k: F.conv2d(x, w.detach(), bb.detach(), padding=k // 2))
        c["conv2d.backward" + tag] = backward_of(lambda w=wk, bb=bk, k=k: (F.conv2d(xc, w, bb, padding=k // 2), [xc, w, bb]))
    # The DDPM UNet's one-channel first and last 3x3 layers at batch 64 (catalog conv2d.backward.first / .last).
    for tag, cin, cout in ((".first", 1, 32), (".last", 32, 1)):
        xe, we, be = rand(64, cin, 32, 32, grad=True), rand(cout, cin, 3, 3, grad=True), rand(cout, grad=True)
        c["conv2d.backward" + tag] = backward_of(lambda xe=xe, we=we, be=be: (F.conv2d(xe, we, be, padding=1), [xe, we, be]))
    for tag, heads in (("", 1), (".heads4", 4)):
        d = C // heads
        q, k_, v_ = (rand(heads, 1024, d, grad=True) for _ in range(3))
        att = lambda q=q, k=k_, v=v_, d=d: torch.softmax(q @ k.transpose(1, 2) / d ** 0.5, -1) @ v
        c["attention.forward" + tag] = (lambda f=att, q=q, k=k_, v=v_: f(q.detach(), k.detach(), v.detach()))
        c["attention.backward" + tag] = backward_of(lambda f=att, q=q, k=k_, v=v_: (f(q, k, v), [q, k, v]))

    # WaveDiff's FIR resampling (ResampleCases): upfirdn2d the way StyleGAN2's native reference writes it (zeros
    # inserted, padded, one depthwise 4 x 4 convolution with the outer product of the taps, every down-th pixel kept).
    def upfirdn(z, taps, up, down, pad0, pad1):
        n, ch, h, w = z.shape
        k = torch.outer(taps, taps).flip([0, 1])[None, None].repeat(ch, 1, 1, 1)
        if up > 1:
            z = F.pad(z.reshape(n, ch, h, 1, w, 1), [0, up - 1, 0, 0, 0, up - 1]).reshape(n, ch, h * up, w * up)
        z = F.conv2d(F.pad(z, [pad0, pad1, pad0, pad1]), k, groups=ch)
        return z[:, :, ::down, ::down]
    taps, up_taps = torch.tensor([1.0, 3, 3, 1]) / 8, torch.tensor([2.0, 6, 6, 2]) / 8
    for name, shape, t_, up, down, p0, p1 in (("up2", (N, C, 32, 32), up_taps, 2, 1, 2, 1), ("down2", (N, C, H, W), taps, 1, 2, 1, 1),
                                              ("blur", (N, C, H, W), taps, 1, 1, 2, 2)):
        xu = rand(*shape, grad=True)
        f = (lambda z, t_=t_, up=up, down=down, p0=p0, p1=p1: upfirdn(z, t_, up, down, p0, p1))
        c["resample.upfirdn." + name] = (lambda f=f, xu=xu: f(xu.detach()))
        c["resample.upfirdn." + name + ".backward"] = backward_of(lambda f=f, xu=xu: (f(xu), [xu]))

    # Training's losses and the autoencoder's latent (TrainingCases): MSE over 64 x 1024, cross-entropy over 256 x 10
    # logits, the reparameterised sample and the KL term over 64 x 3 x 8 x 8; backward passes for an upstream 0.7.
    pm, tm = rand(64, 1024, grad=True), rand(64, 1024)
    c["training.meanSquaredError"] = lambda: F.mse_loss(pm.detach(), tm)
    c["training.meanSquaredError.backward"] = backward_of(lambda: (F.mse_loss(pm, tm), [pm]))
    zl, yl = (torch.randn(256, 10) * 3).requires_grad_(True), torch.randint(0, 10, (256,))
    c["training.crossEntropy"] = lambda: F.cross_entropy(zl.detach(), yl)
    c["training.crossEntropy.backward"] = backward_of(lambda: (F.cross_entropy(zl, yl), [zl]))
    mu, lv, ez = rand(64, 3, 8, 8, grad=True), rand(64, 3, 8, 8, grad=True), rand(64, 3, 8, 8)
    c["training.gaussianSample"] = lambda: mu.detach() + torch.exp(0.5 * lv.detach()) * ez
    c["training.gaussianSample.backward"] = backward_of(lambda: (mu.detach() + torch.exp(0.5 * lv) * ez, [lv]))
    kl = lambda m, l: -0.5 * torch.sum(1 + l - m * m - torch.exp(l)) / 64
    c["training.klNormal"] = lambda: kl(mu.detach(), lv.detach())
    c["training.klNormal.backward"] = backward_of(lambda: (kl(mu, lv), [mu, lv]))

    # The 2-D DFT of spectrum-aware distillation (DftCases): 64 one-channel 32 x 32 images, complex output.
    xf = rand(64, 1, 32, 32, grad=True)
    c["dft.fft2"] = lambda: torch.view_as_real(torch.fft.fft2(xf.detach()))
    c["dft.fft2.backward"] = backward_of(lambda: (torch.view_as_real(torch.fft.fft2(xf)), [xf]))

    # Sampler updates (SamplerCases): a DDIM step, a clipped DDPM step, the loading step x = z.
    se, sz = rand(N, C, H, W), rand(N, C, H, W)
    c["sampler.update"] = lambda: 0.448 * (3.59 * x - 3.45 * se) + 0.888 * se + 0.097 * sz
    c["sampler.update.clip"] = lambda: 0.0114 * (1.61 * x - 1.26 * se).clamp(-1, 1) + 0.989 * x + 0.0836 * sz
    c["sampler.update.init"] = lambda: sz.clone()

    # The residual chain of the catalog: 3 × (x + 2·Prism(SiLU(GroupNorm(x)))).
    chain = [(rand(C), rand(C), rand(1, 1, 3, 3, 3), rand(1)) for _ in range(3)]

    def resblocks():
        y = x
        for g_, b_, w_, bb_ in chain:
            y = y + 2 * prism(F.silu(F.group_norm(y, 32, g_, b_)), w_, bb_, "zeros", 3)
        return y
    c["chain.resblocks"] = resblocks
    c.update(model_cases())
    c.update(train_cases())
    return c


def model_cases():
    """The DeepPrism UNet of Prism's ModelCases (apps/.../bench/ModelCases.java, MODEL size): the same architecture
    from tools/refgen/models.py, one forward, and a DDIM sampling run of 25 steps on the linear schedule (T = 1000)."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "refgen"))
    import models
    o = dict(width=64, levels=3, res=1, attn=2, conv="deepprism", order=2, attention="prism", heads=1, groups=32,
             padding="zeros", wavelet=False, gates=1, gate_hidden=16, **{"in": 1})
    net = models.UNet(o).eval()
    batch, size, steps, T = 4, 32, 25, 1000
    x = torch.randn(batch, 1, size, size)
    t = torch.full((batch,), 500.0)
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0).float()
    taus = list(range(0, T, T // steps))[::-1]

    def sample():
        with torch.no_grad():
            xt = torch.randn(batch, 1, size, size)
            for i, tau in enumerate(taus):
                eps = net(xt, torch.full((batch,), float(tau)))
                a = abar[tau]
                ap = abar[taus[i + 1]] if i + 1 < len(taus) else torch.tensor(1.0)
                x0 = ((xt - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
                xt = ap.sqrt() * x0 + (1 - ap).sqrt() * eps
            return xt

    def forward():
        with torch.no_grad():
            return net(x, t)
    return {"model.unet-deepprism.forward": forward, "model.unet-deepprism.sample": sample}


# The "plain UNet" of the training benchmark: Prism's model ddpm-unet (nn/.../models/Models.java), 1,112,801 parameters.
DDPM_UNET = dict(width=32, levels=3, res=1, attn=2, conv="standard", order=2, attention="standard", heads=1, groups=32,
                 padding="zeros", wavelet=False, gates=1, gate_hidden=16, mults=[1, 2, 2], skip="concat", **{"in": 1})


def train_cases():
    """One DDPM training step of the plain UNet (ddpm-unet) at batch 64 of 1×32×32, as a PyTorch user writes it:
    uniform t, x_t = √ᾱ·x0 + √(1−ᾱ)·ε, ε-prediction with MSE, backward, clip_grad_norm_(1.0), AdamW (lr 2e-4,
    weight decay 0.01), and an EMA of the weights with warm-up min(0.9999, (1+n)/(10+n)). The batch x0 is uniform in
    [-1, 1] (a step's arithmetic does not depend on the pixel values; no data loading is timed). Steps per second are
    1000 / the median in ms."""
    import os
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "refgen"))
    import models
    g = torch.Generator().manual_seed(14)
    net = models.UNet(DDPM_UNET).train()
    assert sum(p.numel() for p in net.parameters()) == 1112801
    ema = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.AdamW(net.parameters(), lr=2e-4, weight_decay=0.01)
    batch, size, T = 64, 32, 1000
    abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0).float()
    x0 = torch.rand(batch, 1, size, size, generator=g) * 2 - 1
    step = [0]

    def train_step():
        t = torch.randint(0, T, (batch,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        a = abar[t].view(batch, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        loss = F.mse_loss(net(xt, t.float()), eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        n = step[0]
        decay = min(0.9999, (1 + n) / (10 + n))
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
        step[0] = n + 1
        return loss.item()
    return {"model.ddpm-unet.train": train_step}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--tsv", help="write the results here as name, median, p25, p75, reps (tab-separated; for prism bench)")
    ap.add_argument("--filter", help="comma-separated name prefixes")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    prefixes = args.filter.split(",") if args.filter else None
    results = {}
    for name, fn in cases().items():
        if prefixes and not any(name.startswith(p) for p in prefixes):
            continue
        r = bench(fn)
        results[name] = r
        rate = f"  {1e3 / r['median_ms']:.3f} steps/s" if name.endswith(".train") else ""
        print(f"{name:40s} {r['median_ms']:9.3f} ms  (p25 {r['p25_ms']:.3f}, p75 {r['p75_ms']:.3f}, n {r['reps']}){rate}", flush=True)
    meta = {"torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "threads": args.threads,
            "python": sys.version.split()[0]}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"peer": meta, "results": results}, f, indent=1)
    if args.tsv:
        with open(args.tsv, "w") as f:
            f.write("#peer\t" + " ".join(f"{k}={v}" for k, v in meta.items()) + "\n")
            for name, r in results.items():
                f.write(f"{name}\t{r['median_ms']}\t{r['p25_ms']}\t{r['p75_ms']}\t{r['reps']}\n")


if __name__ == "__main__":
    main()
