#!/usr/bin/python3
"""Reference vectors for dev.prism.diffusion.eval: the Fréchet distance between feature sets.

    /usr/bin/python3 tools/refgen/frechet.py

Writes diffusion/src/test/resources/ref/frechet/<case>.npz with two float32 feature sets a [Na, d] and
b [Nb, d], their means and covariances (numpy.cov, N−1) and the distance computed the way the usual FID
code does, in float64 with SciPy:

    FD = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr(sqrtm(S_a @ S_b))

(a complex sqrtm result keeps its real part; the case fails if the imaginary part is not negligible).
The outputs are deterministic: rerunning rewrites identical arrays.
"""
import os

import numpy as np
import scipy.linalg

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "diffusion", "src", "test", "resources", "ref", "frechet")


def mixing(g, d, spread):
    """A random d×d mixing matrix: correlated features from independent normals."""
    return g.standard_normal((d, d)) * spread / np.sqrt(d) + np.eye(d)


def features(g, n, mix, shift):
    return (g.standard_normal((n, mix.shape[0])) @ mix + shift).astype(np.float32)


def frechet(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s_a @ s_b)
    if np.iscomplexobj(root):
        assert np.abs(root.imag).max() < 1e-8 * np.abs(root.real).max(), "sqrtm: imaginary part not negligible"
        root = root.real
    diff = mu_a - mu_b
    fd = diff @ diff + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root)
    return mu_a, mu_b, s_a, s_b, fd


def case(name, na, nb, d, shift_b, spread_b):
    """b from a's distribution when spread_b is None, else from its own mixing and a shifted mean."""
    g = np.random.default_rng(int.from_bytes(name.encode(), "little") % 2**32)
    mix_a = mixing(g, d, 1.0)
    a = features(g, na, mix_a, 0.0)
    mix_b = mix_a if spread_b is None else mixing(g, d, spread_b)
    b = features(g, nb, mix_b, shift_b * g.standard_normal(d))
    mu_a, mu_b, s_a, s_b, fd = frechet(a, b)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".npz")
    np.savez_compressed(path, a=a, b=b, mean_a=mu_a, mean_b=mu_b, cov_a=s_a, cov_b=s_b, fd=np.array([fd]))
    print(f"{name:10s} d={d:3d} Na={na} Nb={nb} FD={fd:.6f}")
    return path


def generate():
    return [case("separated", 300, 200, 16, 1.0, 2.0),
            case("close", 500, 400, 8, 0.0, None),
            case("wide", 120, 90, 48, 0.5, 1.5)]


if __name__ == "__main__":
    generate()
