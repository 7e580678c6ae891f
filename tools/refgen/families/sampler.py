"""Sampler update references in float64 (PyTorch): one reverse step of DDPM, DDIM and DDGAN's posterior
written the way each paper writes it, from float32 inputs, with the float32 coefficient array the Java
kernel takes (layout dev.prism.kernels.Sampler: init, px, pe, lo, hi, cx0, cx, ce, sigma).

The reference of each case is computed from the paper's own formula on the schedule (DDPM eq. (11) or the
posterior of eq. (7), DDIM eq. (12)), not from the coefficient array, so the case also checks that the
coefficients written here express that formula; the coefficients are then rounded to float32 and the
reference is recomputed from the rounded ones, which is what a float32 kernel can match to 1e-5. Both
must agree to 1e-6 relative (asserted), so the rounding cannot hide a wrong mapping.
"""
import numpy as np
import torch

from common import rng, normal, save

INF = float("inf")


def linear_alpha_bar(T=1000):
    beta = np.linspace(1e-4, 0.02, T, dtype=np.float64)
    return beta, np.cumprod(1.0 - beta)


def coefficients(init, px, pe, clip, cx0, cx, ce, sigma):
    lo, hi = (-1.0, 1.0) if clip else (-INF, INF)
    return np.array([init, px, pe, lo, hi, cx0, cx, ce, sigma], dtype=np.float64)


def apply(c, x, e, z):
    """The kernel's map in float64 from the coefficient array."""
    c = torch.tensor(c, dtype=torch.float64)
    x, e, z = (torch.tensor(a, dtype=torch.float64) for a in (x, e, z))
    if c[0] != 0:
        return z.clone()
    x0 = torch.clamp(c[1] * x + c[2] * e, float(c[3]), float(c[4]))
    return c[5] * x0 + c[6] * x + c[7] * e + c[8] * z


def ddpm_case(t, clip, x, e, z):
    """DDPM ancestral step t -> t-1 for an eps model: eq. (11) unclipped, the posterior (7) of the clipped x0 else."""
    beta, ab = linear_alpha_bar()
    ab_prev = ab[t - 1] if t > 0 else 1.0
    var = (1 - ab_prev) / (1 - ab[t]) * beta[t]
    xt, et, zt = (torch.tensor(a, dtype=torch.float64) for a in (x, e, z))
    if clip:
        x0 = torch.clamp((xt - np.sqrt(1 - ab[t]) * et) / np.sqrt(ab[t]), -1, 1)
        mean = np.sqrt(ab_prev) * beta[t] / (1 - ab[t]) * x0 + np.sqrt(1 - beta[t]) * (1 - ab_prev) / (1 - ab[t]) * xt
    else:
        mean = (xt - beta[t] / np.sqrt(1 - ab[t]) * et) / np.sqrt(1 - beta[t])
    ref = mean + np.sqrt(var) * zt
    c = coefficients(0, 1 / np.sqrt(ab[t]), -np.sqrt(1 - ab[t]) / np.sqrt(ab[t]), clip,
                     np.sqrt(ab_prev) * beta[t] / (1 - ab[t]), np.sqrt(1 - beta[t]) * (1 - ab_prev) / (1 - ab[t]),
                     0.0, np.sqrt(var))
    return ref, c


def ddim_case(t, s, eta, x, e, z):
    """DDIM eq. (12) from t to s < t with sigma of eq. (16), eps model, no clipping."""
    _, ab = linear_alpha_bar()
    a_t, a_s = ab[t], (ab[s] if s >= 0 else 1.0)
    sigma = eta * np.sqrt((1 - a_s) / (1 - a_t)) * np.sqrt(1 - a_t / a_s)
    xt, et, zt = (torch.tensor(a, dtype=torch.float64) for a in (x, e, z))
    x0 = (xt - np.sqrt(1 - a_t) * et) / np.sqrt(a_t)
    ref = np.sqrt(a_s) * x0 + np.sqrt(1 - a_s - sigma ** 2) * et + sigma * zt
    c = coefficients(0, 1 / np.sqrt(a_t), -np.sqrt(1 - a_t) / np.sqrt(a_t), False,
                     np.sqrt(a_s), 0.0, np.sqrt(1 - a_s - sigma ** 2), sigma)
    return ref, c


def ddgan_case(t, x, e, z):
    """DDGAN's posterior sample q(x_{t-1} | x_t, x0') with the generator's x0' in e (VP schedule, T = 4)."""
    T, bmin, bmax, eps = 4, 0.1, 20.0, 1e-3
    tt = np.arange(T + 1, dtype=np.float64) / T * (1 - eps) + eps
    alpha_bars = np.exp(-0.5 * tt ** 2 * (bmax - bmin) - tt * bmin)
    beta = 1 - alpha_bars[1:] / alpha_bars[:-1]
    ab = np.cumprod(1 - beta)
    ab_prev = ab[t - 1] if t > 0 else 1.0
    var = beta[t] * (1 - ab_prev) / (1 - ab[t])
    c1 = beta[t] * np.sqrt(ab_prev) / (1 - ab[t])
    c2 = (1 - ab_prev) * np.sqrt(1 - beta[t]) / (1 - ab[t])
    xt, et, zt = (torch.tensor(a, dtype=torch.float64) for a in (x, e, z))
    ref = c1 * et + c2 * xt + np.sqrt(var) * zt
    return ref, coefficients(0, 0.0, 1.0, False, c1, c2, 0.0, np.sqrt(var))


def generate():
    paths = []
    cases = [
        ("ddpm_t300_clip", (2, 3, 5, 7), lambda x, e, z: ddpm_case(300, True, x, e, z)),
        ("ddpm_t999", (1, 5, 4, 3), lambda x, e, z: ddpm_case(999, False, x, e, z)),
        ("ddpm_t0_clip", (3, 2, 3, 5), lambda x, e, z: ddpm_case(0, True, x, e, z)),
        ("ddim_t500_s400_eta05", (2, 3, 5, 7), lambda x, e, z: ddim_case(500, 400, 0.5, x, e, z)),
        ("ddim_t100_last_eta0", (1, 7, 3, 3), lambda x, e, z: ddim_case(100, -1, 0.0, x, e, z)),
        ("ddgan_t2", (2, 3, 4, 6), lambda x, e, z: ddgan_case(2, x, e, z)),
        ("init", (2, 3, 5, 7), None),
    ]
    for name, (n, c, h, w), step in cases:
        r = rng("sampler" + name)
        x = normal(r, n, c, h, w) * np.float32(1.5)
        e = normal(r, n, c, h, w)
        z = normal(r, n, c, h, w)
        if step is None:
            coef = np.array([1, 0, 0, -INF, INF, 0, 0, 0, 0], dtype=np.float64)
            ref = apply(coef, x, e, z)
        else:
            exact, coef = step(x, e, z)
            ref = apply(coef.astype(np.float32).astype(np.float64), x, e, z)
            scale = float(torch.max(torch.abs(exact)))
            assert float(torch.max(torch.abs(ref - exact))) <= 1e-6 * scale, name + ": coefficients disagree with the formula"
            if name.endswith("clip"):
                x0 = coef[1] * x.astype(np.float64) + coef[2] * e.astype(np.float64)
                assert np.any(np.abs(x0) > 1), name + ": the clip must be active somewhere"
        paths.append(save("sampler", name, x=x, e=e, z=z, c=coef, out=ref, dims=np.array([n, c, h, w])))
    return paths
