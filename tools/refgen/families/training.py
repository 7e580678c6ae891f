"""Training-step references (PyTorch 1.13, float64 from float32 inputs): the forward diffusion
q(x_t | x_0), the mean squared error and its gradient, the softmax cross-entropy (F.cross_entropy) and
its gradient, torch.nn.utils.clip_grad_norm_ over several
gradients, three steps of torch.optim.AdamW (with and without a clip factor on the gradients), and the
weight EMA; for WaveDiff's adversarial (DDGAN) training, the minibatch standard deviation of its
discriminator (with its double backward, for the R1 penalty), the softplus GAN loss and F.l1_loss with their
gradients. The Java kernels are
dev.prism.kernels.TrainingKernels.
"""
import numpy as np
import torch

from common import rng, normal, save

FAMILY = "training"


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def qsample():
    g = rng("qsample")
    batch, size = 3, 2 * 5 * 7
    x0, eps = normal(g, batch, size), normal(g, batch, size)
    beta = np.linspace(1e-4, 0.02, 1000, dtype=np.float64)
    ab = np.cumprod(1.0 - beta)
    t = np.array([0, 517, 999])
    coef = np.stack([np.sqrt(ab[t]), np.sqrt(1 - ab[t])], axis=1).reshape(-1).astype(np.float32)
    c = t64(coef).reshape(batch, 2)
    xt = c[:, :1] * t64(x0) + c[:, 1:] * t64(eps)
    return save(FAMILY, "qsample", x0=x0, eps=eps, coef=coef, xt=xt)


def mse(case, n):
    g = rng(case)
    pred, target = normal(g, n), normal(g, n) + np.float32(0.3)
    p = t64(pred).requires_grad_(True)
    loss = torch.nn.functional.mse_loss(p, t64(target))
    gy = np.float32(0.7)
    (loss * float(gy)).backward()
    return save(FAMILY, case, pred=pred, target=target, gy=np.array([gy]), loss=loss.detach().reshape(1), grad=p.grad)


def cross_entropy(case, rows, classes, scale):
    """F.cross_entropy over rows of logits (scaled, so large logits test the max subtraction), per row
    and as the mean, and the gradient of the mean times gy."""
    g = rng(case)
    logits = normal(g, rows, classes) * np.float32(scale)
    labels = g.integers(0, classes, rows)
    z = t64(logits).requires_grad_(True)
    y = torch.tensor(labels, dtype=torch.int64)
    per_row = torch.nn.functional.cross_entropy(z, y, reduction="none")
    loss = torch.nn.functional.cross_entropy(z, y)
    gy = np.float32(0.7)
    (loss * float(gy)).backward()
    return save(FAMILY, case, logits=logits, labels=labels.astype(np.float32), gy=np.array([gy]),
                per_row=per_row.detach(), loss=loss.detach().reshape(1), grad=z.grad)


def clip(case, max_norm):
    g = rng(case)
    shapes = [(300,), (7,), (1000,), (3, 129)]
    grads = [normal(g, *s) for s in shapes]
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, gr in zip(params, grads):
        p.grad = t64(gr).reshape(p.shape).clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    after = np.concatenate([p.grad.numpy().reshape(-1) for p in params])
    before = np.concatenate([gr.reshape(-1) for gr in grads])
    factor = after[0] / before[0]
    out = {f"g{i}": gr.reshape(-1) for i, gr in enumerate(grads)}
    return save(FAMILY, case, max_norm=np.array([max_norm], dtype=np.float32), norm=np.array([norm.item()]),
                factor=np.array([factor]), **out)


def adamw(case, clip_factor):
    """Three AdamW steps; the gradient of step k is grads[k] (times clip_factor, as the Java kernel scales it)."""
    g = rng(case)
    n = 517
    w0 = normal(g, n)
    grads = [normal(g, n) * np.float32(s) for s in (1.0, 0.3, 2.0)]
    lr, betas, eps, wd = 1e-3, (0.9, 0.999), 1e-8, 0.01
    p = t64(w0).requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=wd)
    traj = []
    for k in range(3):
        p.grad = t64(grads[k]) * float(np.float32(clip_factor))
        opt.step()
        st = opt.state[p]
        traj.append((p.detach().clone(), st["exp_avg"].clone(), st["exp_avg_sq"].clone()))
    out = {}
    for k in range(3):
        out[f"w{k + 1}"], out[f"m{k + 1}"], out[f"v{k + 1}"] = traj[k]
        out[f"grad{k + 1}"] = grads[k]
    return save(FAMILY, case, w0=w0, clip=np.array([clip_factor, 0.0], dtype=np.float32),
                hp=np.array([lr, betas[0], betas[1], eps, wd]), **out)


def ema():
    g = rng("ema")
    n = 333
    e, w = normal(g, n), normal(g, n)
    d = 0.999
    ref = d * t64(e) + (1 - d) * t64(w)
    return save(FAMILY, "ema", ema=e, w=w, decay=np.array([d, 1 - d], dtype=np.float32), out=ref)


def gaussian(case, batch, size):
    """The VAE's two terms on a diagonal Gaussian, as LDM's DiagonalGaussianDistribution computes them with
    its log-variance clamped to [-30, 20]: the reparameterised sample z = mean + exp(lv/2)*eps and the KL
    divergence from N(0, I) summed per sample and averaged over the batch; their gradients by autograd
    (upstream gz for z, gy for the KL). Two log-variances lie outside the clamp's range."""
    g = rng(case)
    mean, logvar, eps = normal(g, batch, size), normal(g, batch, size) * np.float32(2), normal(g, batch, size)
    logvar.reshape(-1)[3] = np.float32(-35.5)
    logvar.reshape(-1)[7] = np.float32(23.25)
    m, lv = t64(mean).requires_grad_(True), t64(logvar).requires_grad_(True)
    clamped = torch.clamp(lv, -30.0, 20.0)
    z = m + torch.exp(0.5 * clamped) * t64(eps)
    kl = 0.5 * torch.sum(m ** 2 + torch.exp(clamped) - 1.0 - clamped) / batch
    gz, gy = normal(g, batch, size), np.float32(0.7)
    gm_z, glv_z = torch.autograd.grad(z, [m, lv], t64(gz), retain_graph=True)
    gm_kl, glv_kl = torch.autograd.grad(kl * float(gy), [m, lv])
    return save(FAMILY, case, mean=mean, logvar=logvar, eps=eps, z=z.detach(), kl=kl.detach().reshape(1), gz=gz,
                gy=np.array([gy]), z_glogvar=glv_z, z_gmean=gm_z, kl_gmean=gm_kl, kl_glogvar=glv_kl)


def stddev_feature(x, group):
    """The minibatch standard deviation feature [n, 1, h, w] of x [n, c, h, w] as WaveDiff's Discriminator_small
    computes it (score_sde/models/discriminator.py, stddev_feat 1), before its concatenation to x."""
    n, c, h, w = x.shape
    G = min(n, group)
    s = x.view(G, -1, 1, c, h, w)
    s = torch.sqrt(s.var(0, unbiased=False) + 1e-8)
    s = s.mean([2, 3, 4], keepdims=True).squeeze(2)
    return s.repeat(G, 1, h, w)


def minibatch_stddev(case, n, c, h, w, group):
    """StyleGAN's minibatch standard deviation exactly as WaveDiff's Discriminator_small writes it
    (score_sde/models/discriminator.py, stddev_feat 1), and its gradient by autograd for a random gout."""
    g = rng(case)
    x = normal(g, n, c, h, w)
    xt = t64(x).requires_grad_(True)
    out = stddev_feature(xt, group)
    gout = normal(g, n, 1, h, w)
    out.backward(t64(gout))
    return save(FAMILY, case, x=x, group=np.array([group]), out=out.detach(), gout=gout, gx=xt.grad)


def minibatch_stddev_double(case, n, c, h, w, group):
    """The double backward of the minibatch standard deviation, as the R1 penalty's double back-propagation runs
    it: gx = autograd.grad(out, x, gout, create_graph=True) of the module above, then the gradients of
    sum(gx * u) with respect to x (ux) and gout (ugout), by autograd in float64."""
    g = rng(case)
    x, gout, u = normal(g, n, c, h, w), normal(g, n, 1, h, w), normal(g, n, c, h, w)
    xt, gt = t64(x).requires_grad_(True), t64(gout).requires_grad_(True)
    out = stddev_feature(xt, group)
    (gx,) = torch.autograd.grad(out, xt, gt, create_graph=True)
    ux, ugout = torch.autograd.grad(gx, (xt, gt), t64(u))
    return save(FAMILY, case, x=x, gout=gout, u=u, group=np.array([group]), gx=gx.detach(), ux=ux, ugout=ugout)


def softplus_mean(case, n, sign, scale, shift, specials):
    """DDGAN's F.softplus(sign*d).mean() (beta 1, threshold 20) and its gradient times gy; the specials
    (written at the start of d) put sign*d above the threshold, at it and far below it."""
    g = rng(case)
    d = normal(g, n) * np.float32(scale) + np.float32(shift)
    d[:len(specials)] = np.asarray(specials, dtype=np.float32)
    dt = t64(d).requires_grad_(True)
    loss = torch.nn.functional.softplus(float(sign) * dt).mean()
    gy = np.float32(0.7)
    (loss * float(gy)).backward()
    return save(FAMILY, case, d=d, sign=np.array([sign], dtype=np.float32), gy=np.array([gy]),
                loss=loss.detach().reshape(1), grad=dt.grad)


def mae(case, n):
    """F.l1_loss (mean |pred - target|) and its gradient times gy; a few targets equal their prediction,
    where PyTorch's gradient is sign(0) = 0."""
    g = rng(case)
    pred, target = normal(g, n), normal(g, n) + np.float32(0.3)
    target[[1, 5, n - 1]] = pred[[1, 5, n - 1]]
    p = t64(pred).requires_grad_(True)
    loss = torch.nn.functional.l1_loss(p, t64(target))
    gy = np.float32(0.7)
    (loss * float(gy)).backward()
    return save(FAMILY, case, pred=pred, target=target, gy=np.array([gy]), loss=loss.detach().reshape(1), grad=p.grad)


def adversarial():
    """The references of WaveDiff's adversarial (DDGAN) training kernels."""
    return [minibatch_stddev("stddev_g4", 8, 5, 9, 11, 4), minibatch_stddev("stddev_g2", 6, 2, 3, 3, 2),
            minibatch_stddev("stddev_group_above_n", 2, 3, 4, 5, 4),
            minibatch_stddev_double("stddev_double_g4", 8, 5, 9, 11, 4),
            minibatch_stddev_double("stddev_double_group_above_n", 2, 3, 4, 5, 4),
            softplus_mean("softplus_real", 5 * 256 + 17, -1.0, 3.0, 0.0, [30.0, -30.0, 20.0, -20.0, 20.5, -20.5]),
            softplus_mean("softplus_fake", 333, 1.0, 3.0, 0.0, [30.0, -30.0, 20.0, -20.0, 20.5, -20.5]),
            softplus_mean("softplus_tiny", 77, 1.0, 2.0, -22.0, [-30.0, -15.0]),
            mae("mae_small", 70), mae("mae_long", 5 * 256 + 17)]


def generate():
    return [qsample(), mse("mse_small", 70), mse("mse_long", 5 * 256 + 17),
            cross_entropy("xent_small", 7, 3, 1.0), cross_entropy("xent_wide", 33, 10, 30.0), clip("clip_active", 1.0),
            clip("clip_inactive", 1e9), adamw("adamw", 1.0), adamw("adamw_clipped", 0.37), ema(),
            gaussian("gaussian_small", 2, 3 * 5 * 5), gaussian("gaussian_long", 3, 4 * 7 * 11)] + adversarial()
