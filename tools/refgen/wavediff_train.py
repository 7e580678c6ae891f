#!/usr/bin/python3
"""WaveDiff training reference vectors from the official PyTorch code (VinAIResearch/WaveDiff): its discriminator
(Discriminator_small and Discriminator_large) and the two losses of train_wddgan.py, for Prism's tests of WaveDiffDiscriminator and
WaveDiffTrainer's R1 penalty.

    WAVEDIFF_SRC=/path/to/WaveDiff /usr/bin/python3 tools/refgen/wavediff_train.py

The official repository is imported from WAVEDIFF_SRC with the CPU arrangements of tools/refgen/wavediff.py;
nothing of it is copied. Writes diffusion/src/test/resources/wavediff/disc-tiny.{safetensors,npz} and
disc-tiny-large.{safetensors,npz} (committed):

  disc-tiny.safetensors  Discriminator_small(nc=2*4, ngf=4, t_emb_dim=16, LeakyReLU 0.2, num_layers=3)'s state_dict
                         (float32), every weight redrawn uniform in +-1/sqrt(fan_in) and every bias +-0.1 so that the
                         blocks' conv2 and final_conv (initialised at 1e-10 officially) matter
  disc-tiny.npz          x [8,4,8,8] (x_t), xtp1 [8,4,8,8], t [8] (time indices as floats), then, in float64 from
                         those float32 weights and inputs:
                           out      D(x, t, xtp1) [8,1]
                           loss     softplus(-out).mean() (errD_real)
                           grad.<name>   d loss / d parameter
                           gx       d out.sum() / d x (the R1 penalty's input gradient)
                           r1       (gamma/2)*mean_i ||gx_i||^2 with gamma = 1, the penalty's value
                           r1grad.<name> d r1 / d parameter by double back-propagation, as grad_penalty_call
  disc-tiny-large.*      the same for Discriminator_large(nc=2*4, ngf=4, t_emb_dim=16, num_layers=4) on x [8,4,16,16]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wavediff  # noqa: E402  (import_official's CPU arrangements)
from weights import encode_safetensors  # noqa: E402

OUT = os.path.join(wavediff.ROOT, "diffusion", "src", "test", "resources", "wavediff")


def discriminator_class(src, large):
    wavediff.import_official(src)
    import importlib
    m = importlib.import_module("score_sde.models.discriminator")
    return m.Discriminator_large if large else m.Discriminator_small


CASES = {"disc-tiny": dict(large=False, layers=3, size=8), "disc-tiny-large": dict(large=True, layers=4, size=16)}


def generate(src, seed, case):
    c = CASES[case]
    torch.manual_seed(seed)
    g = np.random.default_rng(seed)
    cls = discriminator_class(src, c["large"])
    d = cls(nc=8, ngf=4, t_emb_dim=16, act=torch.nn.LeakyReLU(0.2), num_layers=c["layers"])
    with torch.no_grad():
        for name, p in d.named_parameters():
            if p.dim() > 1:
                fan = int(np.prod(p.shape[1:]))
                v = g.uniform(-1, 1, p.shape) / np.sqrt(fan)
            else:
                v = g.uniform(-0.1, 0.1, p.shape)
            p.copy_(torch.tensor(v, dtype=torch.float32))
    sd = {k: v.detach().clone().float().contiguous() for k, v in d.state_dict().items()}
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, case + ".safetensors"), "wb") as f:
        f.write(encode_safetensors(sd, {"source": "official WaveDiff Discriminator_%s(nc=8, ngf=4, t_emb_dim=16, num_layers=%d), random weights"
                                        % ("large" if c["large"] else "small", c["layers"])}))

    n, s = 8, c["size"]
    x = g.standard_normal((n, 4, s, s)).astype(np.float32)
    xtp1 = g.standard_normal((n, 4, s, s)).astype(np.float32)
    t = (np.arange(n) % 4).astype(np.int64)
    d = d.double()
    # get_timestep_embedding computes in float32; the first dense layer then takes float64 (as tools/refgen/wavediff.py).
    d.t_embed.main[0].register_forward_pre_hook(lambda m, inp: tuple(i.double() for i in inp))
    names = [k for k, _ in d.named_parameters()]
    params = [p for _, p in d.named_parameters()]

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = d(xt, torch.tensor(t), torch.tensor(xtp1, dtype=torch.float64)).view(-1)
    loss = F.softplus(-out).mean()
    grads = torch.autograd.grad(loss, params, retain_graph=True)
    gx = torch.autograd.grad(out.sum(), xt, create_graph=True)[0]
    r1 = 0.5 * (gx.view(n, -1).norm(2, dim=1) ** 2).mean()
    # parameters that reach the penalty only through LeakyReLU's masks (the time embedding, the last bias) get none
    r1grads = [torch.zeros_like(p) if gr is None else gr for p, gr in zip(params, torch.autograd.grad(r1, params, allow_unused=True))]

    arrays = dict(x=x, xtp1=xtp1, t=t.astype(np.float32), out=out.detach().numpy().reshape(n, 1), loss=np.array([loss.item()]),
                  gx=gx.detach().numpy(), r1=np.array([r1.item()]))
    for k, gr, rg in zip(names, grads, r1grads):
        arrays["grad." + k] = gr.numpy()
        arrays["r1grad." + k] = rg.numpy()
    np.savez_compressed(os.path.join(OUT, case + ".npz"),
                        **{k: np.ascontiguousarray(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()})
    print("wrote", os.path.join(OUT, case + ".{safetensors,npz}"), "with", len(names), "parameters; loss", loss.item(), "r1", r1.item())


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.environ.get("WAVEDIFF_SRC"), help="the official code (default: $WAVEDIFF_SRC)")
    ap.add_argument("--seed", type=int, default=21)
    a = ap.parse_args()
    for case in CASES:
        generate(a.src, a.seed, case)
