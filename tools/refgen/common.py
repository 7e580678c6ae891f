"""Shared helpers of the reference-vector generator.

Every family module writes, per case, one compressed .npz under
tornado-kernels/src/test/resources/ref/<family>/<case>.npz, or under nn/src/test/resources/ref/ for the
families whose tests run through nn's Graph (composite). Inputs are float32 draws from a seeded
generator; references are computed by the peer (PyTorch 1.13, PyWavelets, SciPy) in float64 from those
float32 values and stored as float32, so a Java fp32 result is compared with the exact value rounded once.
"""
import os
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REF = os.path.join(ROOT, "tornado-kernels", "src", "test", "resources", "ref")
REF_NN = os.path.join(ROOT, "nn", "src", "test", "resources", "ref")


def rng(case):
    """A generator seeded from the case name, so each case's inputs never change between runs."""
    seed = int.from_bytes(case.encode("utf-8"), "little") % (2**32)
    return np.random.default_rng(seed)


def normal(g, *shape):
    return g.standard_normal(shape).astype(np.float32)


def save(family, case, **arrays):
    """Writes tornado-kernels' ref/<family>/<case>.npz; floats become float32, ints int64."""
    return save_under(REF, family, case, **arrays)


def save_under(ref, family, case, **arrays):
    """Writes <ref>/<family>/<case>.npz; floats become float32, ints int64."""
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v.detach().numpy() if hasattr(v, "detach") else v)
        if a.dtype.kind == "f":
            a = a.astype(np.float32)
        elif a.dtype.kind in "iub":
            a = a.astype(np.int64)
        out[k] = np.ascontiguousarray(a)
    d = os.path.join(ref, family)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, case + ".npz")
    np.savez_compressed(path, **out)
    return path


def t64(a):
    """A float64 torch tensor (requires grad) from float32 numpy values."""
    import torch
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
