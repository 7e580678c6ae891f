"""Activation references: F.silu, F.gelu(approximate='none'), F.leaky_relu, torch.sigmoid and
torch.softmax(x, -1), values and autograd gradients in float64; erf/erfc from Python's math module.

Also the fit behind ActivationKernels.erfc: fit_erfc() recomputes its coefficients, and generate()
re-measures the bound the Java Javadoc states for the coefficients the Java code uses (ERFC_P). And the
float fit behind ActivationVector's GELU: fit_erfcx_float() recomputes ERFCX_Q, and generate() re-measures
its bound evaluated in float32 (ERFCX_Q_BOUND).
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import erfcx

from common import rng, normal, save, t64

# P(t) of erfc(a) = t*exp(-a^2 + P(t)), t = 1/(1 + a/2), lowest degree first: the coefficients in
# ActivationKernels.erfc, as printed by fit_erfc().
ERFC_P = [-1.2655121182324303, 0.99999820360268932, 0.37510165393285583, 0.08108338803826215,
          -0.060279491326036994, -0.31545220359914805, 0.62875176351624862, -1.9180742231321652,
          3.490682311299607, -3.3425184272696398, 1.7429268356827576, -0.46412437015332919,
          0.047416672390035719]
ERFC_BOUND = 5.3e-9  # the relative error stated in ActivationKernels.erfc's Javadoc

# Q(t) ~ erfcx(a)/t, t = 1/(1 + a/2), lowest degree first, so that erfc(a) = t*exp(-a^2)*Q(t) with one exp:
# the coefficients of ActivationVector's GELU (C0..C10 there), as printed by fit_erfcx_float().
ERFCX_Q = [0.28209479479678184, 0.28209385268549086, 0.24688058624391598, 0.17537682979140023,
           0.09300059189892279, -0.05723250689223464, 0.12708951672422802, -0.4469775040063612,
           0.4861788921830071, -0.23085765784929935, 0.042352593753023804]
ERFCX_Q_BOUND = 2.5e-7  # relative, with the coefficients rounded to float and Horner's rule in float32


def _erfcx_over_t(t):
    return erfcx(2.0 / t - 2.0) / t


def fit_erfcx_float(degree=10, nodes=6000, iterations=60):
    """A near-minimax fit of erfcx(a)/t in t over (0, 1] for relative error (rows scaled by 1/value),
    least squares on Chebyshev nodes reweighted by Lawson's iteration. Returns coefficients, lowest first."""
    k = np.arange(nodes)
    t = 0.5 + 0.5 * np.cos(np.pi * (k + 0.5) / nodes)
    g = _erfcx_over_t(t)
    v = np.vander(t, degree + 1, increasing=True) / g[:, None]
    w = np.ones_like(t)
    for _ in range(iterations):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(v * sw[:, None], sw, rcond=None)
        w = w * np.abs(v @ c - 1.0)
        w /= w.sum()
    return c


def check_erfcx_float_bound():
    t = np.linspace(1e-9, 1.0, 400001).astype(np.float32)
    q = np.float32(ERFCX_Q[-1])
    p = np.full_like(t, q)
    for coef in reversed(ERFCX_Q[:-1]):
        p = (p * t + np.float32(coef)).astype(np.float32)
    rel = np.max(np.abs(p.astype(np.float64) / _erfcx_over_t(t.astype(np.float64)) - 1.0))
    assert rel < ERFCX_Q_BOUND, f"erfcx/t float fit error {rel:.3g} exceeds the documented {ERFCX_Q_BOUND}"
    return rel


def _log_erfc_over_t(t):
    """ln(erfc(a)/t) + a^2 = ln(erfcx(a)/t) for a = 2/t - 2: smooth on (0, 1], finite as t -> 0."""
    a = 2.0 / t - 2.0
    return np.log(erfcx(a) / t)


def fit_erfc(degree=12, nodes=6000, iterations=40):
    """A near-minimax polynomial fit of ln(erfcx(a)/t) in t over (0, 1]: least squares on Chebyshev
    nodes, reweighted by Lawson's iteration (weights times the current error), which drives the
    least-squares solution towards the equi-oscillating minimax one. Returns coefficients, lowest first."""
    k = np.arange(nodes)
    t = 0.5 + 0.5 * np.cos(np.pi * (k + 0.5) / nodes)
    v = np.vander(t, degree + 1, increasing=True)
    y = _log_erfc_over_t(t)
    w = np.ones_like(t)
    for _ in range(iterations):
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(v * sw[:, None], y * sw, rcond=None)
        w = w * np.abs(v @ c - y)
        w /= w.sum()
    return c


def erfc_java(z):
    """ActivationKernels.erfc in NumPy: same form and coefficients, in double; Horner here, Estrin's
    scheme in Java, which differ by rounding only (below 1e-14 relative)."""
    z = np.asarray(z, dtype=np.float64)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    p = np.zeros_like(t)
    for coef in reversed(ERFC_P):
        p = p * t + coef
    r = t * np.exp(p - a * a)
    return np.where(z >= 0, r, 2.0 - r)


def check_erfc_bound():
    t = np.linspace(1e-9, 1.0, 400001)
    a = 2.0 / t - 2.0
    err = np.max(np.abs(np.polyval(ERFC_P[::-1], t) - _log_erfc_over_t(t)))   # error of ln(erfc): relative error of erfc
    assert err < ERFC_BOUND, f"erfc fit error {err:.3g} exceeds the documented {ERFC_BOUND}"
    z = np.linspace(0.0, 26.0, 200001)
    rel = np.max(np.abs(erfc_java(z) / np.array([math.erfc(v) for v in z]) - 1.0))
    assert rel < ERFC_BOUND, f"erfc relative error {rel:.3g} exceeds the documented {ERFC_BOUND}"
    return err


def split(values):
    """float64 values as a float32 pair hi + lo, so that a Java test sees them to ~1e-14."""
    v = np.asarray(values, dtype=np.float64)
    hi = v.astype(np.float32)
    lo = (v - hi.astype(np.float64)).astype(np.float32)
    return hi, lo


def autograd(x, gy, fn):
    """fn(x) in float64 and its gradient for the upstream gradient gy."""
    xt = t64(x)
    y = fn(xt)
    y.backward(torch.tensor(gy, dtype=torch.float64))
    return y, xt.grad


def generate():
    paths = []
    err = check_erfc_bound()
    print(f"  erfc fit: max |error of ln erfc| = {err:.3g}")
    print(f"  erfcx/t float fit: max relative error in float32 = {check_erfcx_float_bound():.3g}")

    # erf / erfc against Python's math module (double precision C library)
    grid = np.linspace(-10.0, 10.0, 801)
    small = np.array([0.0, 1e-30, 1e-12, 1e-6, 1e-3, 0.01, 0.1, 0.25, 0.4999, 0.5, 0.5001, 0.75, 1.0, 2.0])
    x = np.concatenate([grid, small, -small[1:]]).astype(np.float32)
    xd = x.astype(np.float64)
    erf_hi, erf_lo = split([math.erf(v) for v in xd])
    z = x[x <= 9.0]       # erfc(9) = 4.1e-37: beyond, float can no longer hold it to full precision
    erfc_hi, erfc_lo = split([math.erfc(v) for v in z.astype(np.float64)])
    paths.append(save("activation", "erf", x=x, erf_hi=erf_hi, erf_lo=erf_lo, z=z, erfc_hi=erfc_hi, erfc_lo=erfc_lo))

    # element-wise activations on odd shapes, with tails and exact zeros
    g = rng("activation-elementwise")
    x = normal(g, 2, 5, 7, 9) * 3
    flat = x.reshape(-1)
    flat[:12] = [0.0, -0.0, 30.0, -30.0, 90.0, -90.0, 800.0, -800.0, 1e-6, -1e-6, 12.0, -12.0]
    gy = normal(g, *x.shape)
    fns = {
        "silu": F.silu,
        "gelu": lambda t: F.gelu(t, approximate="none"),
        "sigmoid": torch.sigmoid,
    }
    for name, fn in fns.items():
        y, gx = autograd(x, gy, fn)
        paths.append(save("activation", name, x=x, gy=gy, y=y, gx=gx))
    for tag, slope in [("leaky_relu_0p01", 0.01), ("leaky_relu_0p2", 0.2), ("leaky_relu_m0p5", -0.5)]:
        s32 = float(np.float32(slope))
        y, gx = autograd(x, gy, lambda t: F.leaky_relu(t, s32))
        paths.append(save("activation", tag, x=x, gy=gy, y=y, gx=gx, slope=np.array([s32], dtype=np.float32)))

    # GELU tails: relative accuracy where Phi(x) is tiny (the reason GELU goes through erfc). PyTorch's
    # float64 GELU forms 1 + erf(x/sqrt 2), which cancels below x = -5 and is 0 below x = -8.3, so
    # the tail reference is x*Phi(x) and Phi(x) + x*phi(x) with Phi from math.erfc; PyTorch must agree
    # with it where its own form is still exact.
    xt = np.concatenate([np.linspace(-12.0, -1.0, 45), np.linspace(1.0, 12.0, 45)]).astype(np.float32)
    xd = xt.astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in xd])
    pdf = np.exp(-0.5 * xd * xd) / math.sqrt(2.0 * math.pi)
    y, gx = xd * cdf, cdf + xd * pdf
    yt, gxt = autograd(xt, np.ones_like(xt), lambda t: F.gelu(t, approximate="none"))
    ok = xd >= -5.0
    assert np.allclose(yt.detach().numpy()[ok], y[ok], rtol=1e-9, atol=0), "torch GELU disagrees with x*Phi(x)"
    assert np.allclose(gxt.numpy()[ok], gx[ok], rtol=1e-9, atol=0), "torch GELU gradient disagrees with Phi + x*phi"
    paths.append(save("activation", "gelu_tail", x=xt, y=y, gx=gx))

    # softmax over the last dimension; one row far from 0 (no max subtraction would overflow), one constant row
    for case, rows, n in [("softmax_r7_n13", 7, 13), ("softmax_r4_n1", 4, 1)]:
        g = rng("activation-" + case)
        x = normal(g, rows, n) * 4
        if n > 1:
            x[2] = 1000.0 + normal(g, n)
            x[3] = -3.5
        gy = normal(g, rows, n)
        y, gx = autograd(x, gy, lambda t: torch.softmax(t, dim=-1))
        paths.append(save("activation", case, x=x, gy=gy, y=y, gx=gx, dims=np.array([rows, n])))
    return paths
