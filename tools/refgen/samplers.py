#!/usr/bin/python3
"""Reference vectors for dev.prism.diffusion: noise schedules and whole sampling trajectories.

    /usr/bin/python3 tools/refgen/samplers.py

Writes diffusion/src/test/resources/ref/samplers/*.npz (float32 arrays, int64 scalars):

- schedules.npz: beta and alpha_bar of the linear (DDPM), cosine (improved DDPM) and VP (DDGAN) schedules for
  a few T, computed in float64 the way each paper's code does.
- one file per trajectory: DDPM (linear T = 100; cosine T = 50 with x0 clipped), DDIM (linear T = 1000, 10 and
  25 steps, eta 0 and 1; cosine, 25 steps, eta 0.5, clipped) and DDGAN's posterior sampling (VP, T = 4, an
  x0-predicting model). Each holds the noise (x_T and the z of every update, float32 from NumPy; z is zero where
  the update adds no noise, and `noisy` says which updates add any), the timesteps, the image the model sees at
  some steps (`traj`, x_{t_i} for i in `traj_steps`: every step of short runs, every 10th and the last of long
  ones) and the final image, all computed in float64 with PyTorch.

The denoiser is a toy that the Java test builds from existing kernels and that is implemented here exactly:
    emb[n]  = DDPM timestep embedding of t_n, dim 8 (sin of the 4 frequencies, then cos; freq_i = 10000^(-i/3))
    e[n,c]  = a * x[n,c] + sum_j W[c,j] * emb[n,j]          (a scalar, W[C, 8])
e is epsilon for DDPM/DDIM and x0 for DDGAN. The samplers below follow each paper's own formulation (DDPM eq. (11)
and Algorithm 2, the posterior of eq. (7) when x0 is clipped; DDIM's generalized_steps with eq. (12) and (16);
DDGAN's sample_posterior), not the coefficient mapping of the Java code, so the test checks that mapping too.
The outputs are deterministic: rerunning rewrites identical arrays.
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import rng  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "diffusion", "src", "test", "resources", "ref", "samplers")
N, C, H, W = 2, 3, 3, 4
EMB = 8
CLIPPED = {"count": 0}


def clamp(x0):
    """Clips to [-1, 1] and counts the elements it changed, so that a clipped case must exercise the clip."""
    CLIPPED["count"] += int((torch.abs(x0) > 1).sum())
    return torch.clamp(x0, -1, 1)


def save(name, **arrays):
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v.detach().numpy() if hasattr(v, "detach") else v)
        if a.dtype.kind == "f":
            a = a.astype(np.float32)
        elif a.dtype.kind in "iub":
            a = a.astype(np.int64)
        out[k] = np.ascontiguousarray(a.reshape(1) if a.ndim == 0 else a)
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".npz")
    np.savez_compressed(path, **out)
    return path


# ---- schedules (float64) ----

def linear(T, start=1e-4, end=0.02):
    """DDPM section 4: beta linear from 1e-4 to 0.02 (np.linspace, as the authors' get_beta_schedule)."""
    return np.linspace(start, end, T, dtype=np.float64)


def cosine(T, s=0.008, max_beta=0.999):
    """Improved DDPM eq. (17) and its clip, as improved-diffusion's betas_for_alpha_bar."""
    f = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return np.array([min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)], dtype=np.float64)


def vp(T, beta_min=0.1, beta_max=20.0, eps_small=1e-3):
    """DDGAN's get_sigma_schedule with var_func_vp, then Posterior_Coefficients' betas[1:] (kept in float64)."""
    t = torch.from_numpy(np.arange(0, T + 1, dtype=np.float64) / T) * (1.0 - eps_small) + eps_small
    log_mean_coeff = -0.25 * t ** 2 * (beta_max - beta_min) - 0.5 * t * beta_min
    var = 1.0 - torch.exp(2.0 * log_mean_coeff)
    alpha_bars = 1.0 - var
    betas = 1 - alpha_bars[1:] / alpha_bars[:-1]
    return betas.numpy()


def alpha_bar(beta):
    return np.cumprod(1.0 - beta)


# ---- the toy denoiser ----

def embedding(t, dim=EMB):
    half = dim // 2
    freq = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float64) / (half - 1))
    arg = t[:, None] * freq[None, :]
    return torch.cat([torch.sin(arg), torch.cos(arg)], 1)


class Toy:
    def __init__(self, g):
        self.a = np.float32(0.6)
        self.w = (g.standard_normal((C, EMB)) * 0.1).astype(np.float32)
        self.calls = []

    def __call__(self, x, t):
        self.calls.append(int(t))
        tt = torch.full((x.shape[0],), float(t), dtype=torch.float64)
        v = embedding(tt) @ torch.tensor(self.w, dtype=torch.float64).T     # [N, C]
        return float(self.a) * x + v[:, :, None, None]


# ---- samplers (float64), each in its paper's form ----

def ddpm(beta, model, x_T, noise, clip):
    """DDPM Algorithm 2 with sigma_t^2 = beta~_t; eq. (11) unclipped, eq. (7) of the clipped x0 otherwise."""
    T = len(beta)
    ab = alpha_bar(beta)
    x = x_T
    traj, noisy = [], []
    for i, t in enumerate(reversed(range(T))):
        traj.append(x)
        eps = model(x, t)
        ab_prev = ab[t - 1] if t > 0 else 1.0
        var = (1 - ab_prev) / (1 - ab[t]) * beta[t]
        if clip:
            x0 = clamp((x - math.sqrt(1 - ab[t]) * eps) / math.sqrt(ab[t]))
            mean = math.sqrt(ab_prev) * beta[t] / (1 - ab[t]) * x0 + math.sqrt(1 - beta[t]) * (1 - ab_prev) / (1 - ab[t]) * x
        else:
            mean = (x - beta[t] / math.sqrt(1 - ab[t]) * eps) / math.sqrt(1 - beta[t])
        z = noise(i) if t > 0 else None
        noisy.append(t > 0)
        x = mean + math.sqrt(var) * z if z is not None else mean
    return x, traj, noisy, list(reversed(range(T)))


def ddim(beta, model, x_T, noise, steps, eta, clip):
    """DDIM's generalized_steps: seq = range(0, T, T // S), alpha_bar(-1) = 1, eq. (12) with sigma of eq. (16)."""
    T = len(beta)
    ab = alpha_bar(beta)
    seq = list(range(0, T, T // steps))
    assert len(seq) == steps, "choose S dividing T, so that DDIM's own spacing has S steps"
    seq_next = [-1] + seq[:-1]
    x = x_T
    traj, noisy = [], []
    for i, (t, s) in enumerate(zip(reversed(seq), reversed(seq_next))):
        traj.append(x)
        at, an = ab[t], (ab[s] if s >= 0 else 1.0)
        eps = model(x, t)
        x0 = (x - eps * math.sqrt(1 - at)) / math.sqrt(at)
        if clip:
            x0 = clamp(x0)
        c1 = eta * math.sqrt((1 - at / an) * (1 - an) / (1 - at))
        c2 = math.sqrt((1 - an) - c1 ** 2)
        noisy.append(c1 != 0)
        x = math.sqrt(an) * x0 + c2 * eps + (c1 * noise(i) if c1 != 0 else 0)
    return x, traj, noisy, list(reversed(seq))


def ddgan(beta, model, x_T, noise):
    """DDGAN's sample_from_model with sample_posterior: x_{t-1} ~ q(x_{t-1} | x_t, x0 = G(x_t, t))."""
    T = len(beta)
    ab = alpha_bar(beta)
    x = x_T
    traj, noisy = [], []
    for i, t in enumerate(reversed(range(T))):
        traj.append(x)
        x0 = model(x, t)
        ab_prev = ab[t - 1] if t > 0 else 1.0
        coef1 = beta[t] * math.sqrt(ab_prev) / (1 - ab[t])
        coef2 = (1 - ab_prev) * math.sqrt(1 - beta[t]) / (1 - ab[t])
        log_var = math.log(max(beta[t] * (1 - ab_prev) / (1 - ab[t]), 1e-20))
        mean = coef1 * x0 + coef2 * x
        noisy.append(t != 0)
        x = mean + math.exp(0.5 * log_var) * noise(i) if t != 0 else mean
    return x, traj, noisy, list(reversed(range(T)))


def trajectory(name, beta, run, **params):
    g = rng("samplers" + name)
    model = Toy(g)
    x_T = g.standard_normal((N, C, H, W)).astype(np.float32)
    drawn = {}

    def noise(i):
        drawn[i] = g.standard_normal((N, C, H, W)).astype(np.float32)
        return torch.tensor(drawn[i], dtype=torch.float64)

    CLIPPED["count"] = 0
    final, traj, noisy, timesteps = run(beta, model, torch.tensor(x_T, dtype=torch.float64), noise)
    assert not params.get("clip") or CLIPPED["count"] > 0, name + ": the clip never acts"
    assert model.calls == timesteps, "the model runs once per step, at the sampler's timesteps"
    z = np.zeros((len(timesteps), N, C, H, W), dtype=np.float32)
    for i, v in drawn.items():
        z[i] = v
    # The image at every step of short runs; every 10th step and the last of long ones (keeps files small).
    kept = [i for i in range(len(traj)) if len(traj) <= 30 or i % 10 == 0 or i == len(traj) - 1]
    return save(name, x_T=x_T, z=z, noisy=np.array(noisy), timesteps=np.array(timesteps),
                traj_steps=np.array(kept), traj=torch.stack([traj[i] for i in kept]),
                final=final, a=np.array([model.a]), w=model.w, dims=np.array([N, C, H, W]), **params)


def main():
    paths = []
    sched = {}
    for T in (1, 10, 1000):
        sched[f"linear_{T}"] = linear(T)
    for T in (10, 1000):
        sched[f"cosine_{T}"] = cosine(T)
    for T in (2, 4, 1000):
        sched[f"vp_{T}"] = vp(T)
    arrays = {}
    for k, b in sched.items():
        arrays[k + "_beta"] = b
        arrays[k + "_abar"] = alpha_bar(b)
    paths.append(save("schedules", **arrays))

    lin100, cos50, lin1000, cos1000, vp4 = linear(100), cosine(50), linear(1000), cosine(1000), vp(4)
    paths.append(trajectory("ddpm_linear_t100", lin100, lambda b, m, x, z: ddpm(b, m, x, z, False),
                            T=100, clip=0))
    paths.append(trajectory("ddpm_cosine_t50_clip", cos50, lambda b, m, x, z: ddpm(b, m, x, z, True),
                            T=50, clip=1))
    for steps in (10, 25):
        for eta in (0.0, 1.0):
            paths.append(trajectory(f"ddim_linear_s{steps}_eta{int(eta)}", lin1000,
                                    lambda b, m, x, z, s=steps, e=eta: ddim(b, m, x, z, s, e, False),
                                    T=1000, steps=steps, eta=np.array([eta]), clip=0))
    paths.append(trajectory("ddim_cosine_s25_eta05_clip", cos1000,
                            lambda b, m, x, z: ddim(b, m, x, z, 25, 0.5, True),
                            T=1000, steps=25, eta=np.array([0.5]), clip=1))
    paths.append(trajectory("ddgan_vp_t4", vp4, lambda b, m, x, z: ddgan(b, m, x, z), T=4, clip=0))
    for p in paths:
        print(f"{os.path.relpath(p, ROOT)}  {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
