#!/usr/bin/python3
"""How often each way of summing fp32 terms is less accurate than PyTorch's own sum, on the same inputs.

    /usr/bin/python3 tools/refgen/sum_schemes.py [trials]

For n fp32 terms drawn with a mean of 1 (a bias gradient of a loss that pushes one way), 0 (terms that
cancel) and 0.05, each scheme's relative error against the float64 sum is compared with that of torch.sum
in float32 (PyTorch 1.13, one thread). Printed per row: the scheme's median error, its largest, and the
fraction of trials in which it was worse than PyTorch. docs/KERNELS.md (Determinism) quotes the result:
fp32 blocked and cascaded sums lose to PyTorch in a large share of trials; the double sum never does.
The fp32 schemes are simulated exactly with numpy's sequential float32 cumsum.
"""
import sys

import numpy as np
import torch


def running(x):
    return np.cumsum(x, dtype=np.float32)[-1]


def block_sums(x, b):
    """The fp32 running sums of consecutive blocks of b terms (the last one padded with zeros)."""
    pad = (-len(x)) % b
    x = np.concatenate([x, np.zeros(pad, np.float32)]).reshape(-1, b)
    return np.cumsum(x, axis=1, dtype=np.float32)[:, -1]


SCHEMES = [
    ("fp32 running sum", running),
    ("fp32 blocks of 64, then running", lambda x: running(block_sums(x, 64))),
    ("fp32 cascade 64 x 64, then running", lambda x: running(block_sums(block_sums(x, 64), 64))),
    ("fp32 cascade 16 x 16, then running", lambda x: running(block_sums(block_sums(x, 16), 16))),
    ("fp32 blocks of 16, block sums in double", lambda x: np.float32(block_sums(x, 16).astype(np.float64).sum())),
    ("double sum, rounded once (Prism)", lambda x: np.float32(np.sum(x.astype(np.float64)))),
]


def main(trials):
    torch.set_num_threads(1)
    rng = np.random.default_rng(2026)
    print(f"{trials} trials per row; median / largest relative error; share of trials worse than torch.sum")
    for n in (4096, 65536, 262144):
        for mean in (1.0, 0.05, 0.0):
            errors = {name: [] for name, _ in SCHEMES}
            torch_errors = []
            for _ in range(trials):
                x = (rng.standard_normal(n) + mean).astype(np.float32)
                exact = np.sum(x.astype(np.float64))
                torch_errors.append(abs(torch.from_numpy(x).sum().item() - exact) / abs(exact))
                for name, fn in SCHEMES:
                    errors[name].append(abs(float(fn(x)) - exact) / abs(exact))
            t = np.array(torch_errors)
            print(f"n = {n}, mean {mean}: torch.sum median {np.median(t):.1e}")
            for name, _ in SCHEMES:
                e = np.array(errors[name])
                print(f"  {name:42s} {np.median(e):.1e} / {e.max():.1e}  worse in {np.mean(e > t):4.0%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
