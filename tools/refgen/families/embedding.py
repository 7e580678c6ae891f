"""Timestep embedding references: a float64 NumPy re-implementation of get_timestep_embedding from
the DDPM authors' code (Ho et al. 2020, diffusion_tf/nn.py):

    half_dim = embedding_dim // 2
    emb = log(10000) / (half_dim - 1)
    emb = exp(arange(half_dim) * -emb)
    emb = timesteps[:, None] * emb[None, :]
    emb = concat([sin(emb), cos(emb)], axis=1), zero-padded by one column if embedding_dim is odd
"""
import math

import numpy as np

from common import save

# t: integer steps of a 1000-step schedule, and fractional ones (continuous-time samplers)
CASES = {
    "n3_dim7": [0.0, 1.0, 999.0],
    "n5_dim16": [0.5, 17.0, 123.25, 500.0, 999.875],
    "n2_dim4": [3.0, 250.5],
    "n8_dim256": [0.0, 1.0, 10.0, 99.0, 250.0, 499.5, 750.0, 999.0],
}


def timestep_embedding(t, dim):
    half = dim // 2
    step = math.log(10000) / (half - 1)
    freq = np.exp(np.arange(half, dtype=np.float64) * -step)
    arg = np.asarray(t, dtype=np.float64)[:, None] * freq[None, :]
    emb = np.concatenate([np.sin(arg), np.cos(arg)], axis=1)
    if dim % 2 == 1:
        emb = np.pad(emb, [[0, 0], [0, 1]])
    return emb


def generate():
    paths = []
    for case, ts in CASES.items():
        dim = int(case.split("dim")[1])
        t = np.array(ts, dtype=np.float32)
        emb = timestep_embedding(t.astype(np.float64), dim)
        paths.append(save("embedding", case, t=t, emb=emb, dims=np.array([len(ts), dim])))
    return paths
