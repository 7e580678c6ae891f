#!/usr/bin/python3
"""Reference vectors for dev.prism.diffusion.train.FeatureAlignment: Spectral Diffusion §5.2's feature matching.

    /usr/bin/python3 tools/refgen/feature_align.py

Writes diffusion/src/test/resources/ref/feature_align/<case>.npz. For student feature maps fs_l [N, Cs_l, H/2^l, W/2^l],
teacher feature maps ft_i and 1x1 convolutions (w_i [Ct, Cs, 1, 1], b_i [Ct]) at the matched levels l_i, PyTorch 1.13
computes in float64

    loss = mean_i  F.mse_loss(F.conv2d(fs_{l_i}, w_i, b_i), ft_i)          (mean reduction: over N*Ct*h*w)

and, by autograd, its gradients with respect to every fs_l (zero where a level is not matched), w_i and b_i. The
widths are those of FeatureAlignmentTest's networks: student decoder widths 4, 8 (levels 0, 1), teacher 6, 6.
The outputs are deterministic: rerunning rewrites identical arrays.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rng, normal, save_under, t64  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REF = os.path.join(ROOT, "diffusion", "src", "test", "resources", "ref")

N, H, W = 2, 8, 8
STUDENT = [4, 8]
TEACHER = [6, 6]
CASES = {"levels_0": [0], "levels_1": [1], "levels_0_1": [0, 1]}


def generate():
    paths = []
    for case, levels in CASES.items():
        g = rng("feature_align" + case)
        fs = [t64(normal(g, N, c, H >> l, W >> l)) for l, c in enumerate(STUDENT)]
        ft, w, b = [], [], []
        for l in levels:
            ft.append(normal(g, N, TEACHER[l], H >> l, W >> l))
            w.append(t64(normal(g, TEACHER[l], STUDENT[l], 1, 1)))
            b.append(t64(normal(g, TEACHER[l])))
        terms = [F.mse_loss(F.conv2d(fs[l], w[i], b[i]), torch.tensor(ft[i], dtype=torch.float64)) for i, l in enumerate(levels)]
        loss = torch.stack(terms).mean()
        loss.backward()
        arrays = {"levels": np.array(levels), "loss": np.array([loss.item()])}
        for l, f in enumerate(fs):
            arrays[f"fs{l}"] = f.detach()
            arrays[f"gfs{l}"] = f.grad if f.grad is not None else torch.zeros_like(f)
        for i in range(len(levels)):
            arrays[f"ft{i}"] = ft[i]
            arrays[f"w{i}"] = w[i].detach()
            arrays[f"b{i}"] = b[i].detach()
            arrays[f"gw{i}"] = w[i].grad
            arrays[f"gb{i}"] = b[i].grad
        paths.append(save_under(REF, "feature_align", case, **arrays))
    return paths


if __name__ == "__main__":
    for p in generate():
        print(os.path.relpath(p, ROOT))
