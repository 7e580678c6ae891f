#!/usr/bin/python3
"""WaveDiff reference vectors from the official PyTorch code (VinAIResearch/WaveDiff), for Prism's
conformance tests of the `wavediff` model and its sampler.

The official repository is not part of Prism: get it into a folder outside the project and name that
folder in WAVEDIFF_SRC (or --src). Nothing of it is copied; this script imports it.

    WAVEDIFF_SRC=/path/to/WaveDiff /usr/bin/python3 tools/refgen/wavediff.py tiny
    WAVEDIFF_SRC=/path/to/WaveDiff /usr/bin/python3 tools/refgen/wavediff.py cifar10 --out /tmp/wavediff-cifar10
    WAVEDIFF_SRC=/path/to/WaveDiff /usr/bin/python3 tools/refgen/wavediff.py cifar10 --time --batch 100 --threads 2

Cases
  tiny-wavelet  the same for class WaveletNCSNpp (wavelet input pyramid, Haar down/up residual blocks with the
           high bands carried to the up path, frequency bottleneck), attention at 8, T 2; committed, without a .pth.
  tiny-patch  WaveletNCSNpp with the input folded into 2×2 patches (patch_size 2, the CelebA-HQ 1024 structure): 12
           channels of 16×16 as 48 of 8×8, no attention level, T 2; committed, without a .pth.
  celeba_256  the official CelebA-HQ 256 configuration (WaveletNCSNpp, nf 64, ch_mult 1 2 2 2 4, attention at 16,
           n_mlp 3, T 2, 31M parameters); written with --out outside the repository.
  tiny     the CIFAR-10 test configuration's structure (class NCSNpp, BigGAN residual blocks with adaptive
           group norm, FIR up/down sampling, residual input pyramid, middle attention, z mapping network),
           small: nf 4, nz 8, z_emb_dim 16, n_mlp 2. Written to diffusion/src/test/resources/wavediff/
           (committed, the default tests read it).
  shapes   for each official preset Prism has (cifar10, stl10, celeba_256, celeba_512, celeba_1024, lsun: the run.sh test lines),
           the generator's parameter count, tensor count and a SHA-256 of its sorted names and shapes, into
           diffusion/src/test/resources/wavediff/official-shapes.json (committed; WaveDiffPresetsTest).
  stl10, celeba_512, celeba_1024, lsun  those run.sh configurations, for --time and shapes (celeba_1024: patch_size 2,
           attention resolution 0, i.e. the middle only).
  cifar10  the configuration of the official run.sh test line for CIFAR-10: nf 128, ch_mult 1 2 2, 2 residual
           blocks, attention resolutions (32,) at resolutions 16/8/4 (so only the middle attention), nz 100,
           z_emb_dim 256, n_mlp 4, T 4. 33M parameters: written with --out to a folder outside the repository.

Files per case, in the output folder:
  <case>.pth           torch.save of the generator's state_dict under DistributedDataParallel's "module."
                       prefix, as the official training saves netG_*.pth
  <case>.safetensors   the same tensors without the prefix, with the model name and options as metadata
  <case>.npz           forward: fx [N,12,S,S], ft [N] (the integer time index), fz [N,nz] and fout, the
                       generator's output; sample: x_T [N,12,S,S], z [T,N,nz] (z[i] is drawn at step i, for
                       time index T-1-i), noise [T,N,12,S,S] (the posterior noise drawn after z[i]; the
                       last one is drawn and multiplied by 0, as in the official code), wavelet [N,12,S,S]
                       (the coefficients sample_from_model returns) and image [N,3,2S,2S] (x2, inverse Haar,
                       clamp to [-1, 1], as test_wddgan.py does)

How the official code runs here (PyTorch 1.13 on the CPU):
  - score_sde/op builds its CUDA extensions when imported; the build call is replaced by a stub for the
    import, and on a CPU tensor upfirdn2d and fused_leaky_relu take their pure-PyTorch paths anyway.
  - einops (used only for the patchify rearranges, reshapes for patch_size 1) is imported if installed,
    else a small equivalent of the patterns the generator and the discriminators use is installed under that name.
  - pytorch_wavelets' DWTInverse(mode='zero', wave='haar') is not installable here; pywt.idwt2(..., 'haar')
    stands in for it: pytorch_wavelets' own tests assert its coefficients equal PyWavelets' band for band
    (cA; cH, cV, cD), and for even sizes Haar with zero padding has no boundary terms.
  - The generator runs in float64 on weights and inputs rounded to float32 (as tools/refgen/models.py does):
    a forward pre-hook casts the float32 timestep embedding to float64, upfirdn2d gets its FIR kernel in
    the input's dtype, and DWT_2D / IDWT_2D (WaveletNCSNpp) get their float32 Haar matrices as float64. The
    official code runs unchanged otherwise.
  - The random draws of sample_from_model (torch.randn for z, torch.randn_like for the posterior noise) are
    replaced, for that call, by the recorded float32 values, in the order the official code draws them;
    a draw of another shape fails.
  - The official initialisation scales the last convolutions by 1e-10, which makes the output ~0; the
    weights are therefore redrawn (uniform in ±1/√fan_in, adaptive group norm scales around 1) so that
    every layer matters.
"""
import argparse
import contextlib
import importlib
import json
import math
import os
import sys
import time
import types

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY_OUT = os.path.join(ROOT, "diffusion", "src", "test", "resources", "wavediff")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weights import encode_safetensors  # noqa: E402

# The official argument names and the Java option each maps to (Models' "wavediff" options).
CASES = {
    "cifar10": dict(num_channels=12, current_resolution=16, num_channels_dae=128, ch_mult=[1, 2, 2],
                    num_res_blocks=2, attn_resolutions=[32], nz=100, z_emb_dim=256, n_mlp=4, num_timesteps=4,
                    net_type="normal", bands="hv"),
    "tiny": dict(num_channels=12, current_resolution=16, num_channels_dae=4, ch_mult=[1, 2, 2],
                 num_res_blocks=2, attn_resolutions=[32], nz=8, z_emb_dim=16, n_mlp=2, num_timesteps=4,
                 net_type="normal", bands="hv"),
    "celeba_256": dict(num_channels=12, current_resolution=128, num_channels_dae=64, ch_mult=[1, 2, 2, 2, 4],
                       num_res_blocks=2, attn_resolutions=[16], nz=100, z_emb_dim=256, n_mlp=3, num_timesteps=2,
                       net_type="wavelet", bands="vh"),
    "stl10": dict(num_channels=12, current_resolution=32, num_channels_dae=128, ch_mult=[1, 2, 2, 2],
                  num_res_blocks=2, attn_resolutions=[16], nz=100, z_emb_dim=256, n_mlp=4, num_timesteps=4,
                  net_type="wavelet", bands="hv"),
    "celeba_512": dict(num_channels=12, current_resolution=256, num_channels_dae=64, ch_mult=[1, 1, 2, 2, 4, 4],
                       num_res_blocks=2, attn_resolutions=[16], nz=100, z_emb_dim=256, n_mlp=3, num_timesteps=2,
                       net_type="wavelet", bands="hv"),
    "lsun": dict(num_channels=12, current_resolution=128, num_channels_dae=64, ch_mult=[1, 2, 2, 2, 4],
                 num_res_blocks=2, attn_resolutions=[16], nz=100, z_emb_dim=256, n_mlp=3, num_timesteps=4,
                 net_type="wavelet", bands="hv"),
    "celeba_1024": dict(num_channels=12, current_resolution=512, num_channels_dae=64, ch_mult=[1, 1, 2, 2, 4, 4],
                        num_res_blocks=2, attn_resolutions=[0], nz=100, z_emb_dim=256, n_mlp=3, num_timesteps=2,
                        net_type="wavelet", bands="vh", patch=2),
    "tiny-patch": dict(num_channels=12, current_resolution=16, num_channels_dae=4, ch_mult=[1, 2], num_res_blocks=1,
                       attn_resolutions=[0], nz=8, z_emb_dim=16, n_mlp=2, num_timesteps=2, net_type="wavelet", bands="vh",
                       patch=2),
    "tiny-wavelet": dict(num_channels=12, current_resolution=16, num_channels_dae=4, ch_mult=[1, 2, 2],
                         num_res_blocks=2, attn_resolutions=[8], nz=8, z_emb_dim=16, n_mlp=2, num_timesteps=2,
                         net_type="wavelet", bands="vh"),
}
COMMITTED = ("tiny", "tiny-wavelet", "tiny-patch")
HAAR_DTYPE = [torch.float64]  # the dtype DWT_2D / IDWT_2D matrices are cast to: float32 when timing
JAVA_OPTIONS = [("in", "num_channels"), ("size", "current_resolution"), ("nf", "num_channels_dae"),
                ("mults", "ch_mult"), ("res", "num_res_blocks"), ("attn", "attn_resolutions"), ("nz", "nz"),
                ("zdim", "z_emb_dim"), ("mlp", "n_mlp"), ("timesteps", "num_timesteps"), ("net", "net_type"), ("bands", "bands"),
                ("patch", "patch")]


def official_args(c):
    """The argparse namespace test_wddgan.py builds for this case (its defaults, then the run.sh values)."""
    return types.SimpleNamespace(
        num_channels=c["num_channels"], image_size=c["current_resolution"], num_channels_dae=c["num_channels_dae"],
        ch_mult=c["ch_mult"], num_res_blocks=c["num_res_blocks"], attn_resolutions=tuple(c["attn_resolutions"]),
        nz=c["nz"], z_emb_dim=c["z_emb_dim"], n_mlp=c["n_mlp"], num_timesteps=c["num_timesteps"],
        centered=True, use_geometric=False, beta_min=0.1, beta_max=20.0, patch_size=c.get("patch", 1), dropout=0.0,
        resamp_with_conv=True, conditional=True, fir=True, fir_kernel=[1, 3, 3, 1], skip_rescale=True,
        resblock_type="biggan", progressive="none", progressive_input="residual", progressive_combine="sum",
        embedding_type="positional", fourier_scale=16.0, not_use_tanh=False, t_emb_dim=256,
        no_use_fbn=False, no_use_freq=False, no_use_residual=False, use_pytorch_wavelet=c["bands"] == "hv", net_type=c["net_type"])


def einops_equivalent():
    """The rearrange patterns ncsnpp_generator_adagn and the discriminators use, as reshape/permute."""
    m = types.ModuleType("einops")

    def rearrange(x, pattern, p1, p2):
        n, c, h, w = x.shape
        if pattern == "n c (h p1) (w p2) -> n (p1 p2 c) h w":
            return x.reshape(n, c, h // p1, p1, w // p2, p2).permute(0, 3, 5, 1, 2, 4).reshape(n, p1 * p2 * c, h // p1, w // p2)
        if pattern == "n c (h p1) (w p2) -> n (c p1 p2) h w":  # the discriminator's
            return x.reshape(n, c, h // p1, p1, w // p2, p2).permute(0, 1, 3, 5, 2, 4).reshape(n, c * p1 * p2, h // p1, w // p2)
        if pattern == "n (c p1 p2) h w -> n c (h p1) (w p2)":
            return x.reshape(n, c // (p1 * p2), p1, p2, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c // (p1 * p2), h * p1, w * p2)
        raise ValueError("pattern not supported by the stand-in: " + pattern)

    m.rearrange = rearrange
    return m


def import_official(src):
    """Imports the official generator and diffusion helpers from src, with the CPU arrangements above."""
    if not src or not os.path.isdir(os.path.join(src, "score_sde")):
        sys.exit("WAVEDIFF_SRC (or --src) must name a folder with the official WaveDiff code (score_sde/, diffusion.py); found "
                 + repr(src))
    sys.path.insert(0, src)
    try:
        importlib.import_module("einops")
    except ImportError:
        sys.modules["einops"] = einops_equivalent()
    import torch.utils.cpp_extension as cpp
    build = cpp.load
    cpp.load = lambda *a, **k: None  # the CUDA ops' import-time build; unused on the CPU
    try:
        gen = importlib.import_module("score_sde.models.ncsnpp_generator_adagn")
        sampling = importlib.import_module("score_sde.models.up_or_down_sampling")
        diffusion = importlib.import_module("diffusion")
    finally:
        cpp.load = build
    upfirdn = sampling.upfirdn2d
    sampling.upfirdn2d = lambda x, k, **kw: upfirdn(x, k.to(x.dtype), **kw)
    # DWT_2D / IDWT_2D build their Haar matrices as float32 tensors; the float64 run takes them as float64 (of the
    # same float32 values).
    layer = importlib.import_module("DWT_IDWT.DWT_IDWT_layer")
    for cls in (layer.DWT_2D, layer.IDWT_2D):
        def get_matrix(self, build=cls.get_matrix):
            build(self)
            for name in ("matrix_low_0", "matrix_low_1", "matrix_high_0", "matrix_high_1"):
                setattr(self, name, getattr(self, name).to(HAAR_DTYPE[0]))
        cls.get_matrix = get_matrix
    return gen, diffusion


def initialise(model, g):
    """Uniform in ±1/√fan_in; adaptive group norm (style) biases 1 ± 0.1 for the scales, ±0.1 for the shifts."""
    for name, p in model.named_parameters():
        with torch.no_grad():
            if name.endswith("style.bias"):
                c = p.shape[0] // 2
                v = 0.1 * g.standard_normal(p.shape)
                v[:c] += 1.0
            elif name.endswith("GroupNorm_0.weight") or name.endswith(".weight") and p.dim() == 1:
                v = 1.0 + 0.1 * g.standard_normal(p.shape)
            else:
                fan = int(np.prod(p.shape[1:])) if p.dim() > 1 else max(1, p.shape[0])
                if name.endswith(".W"):  # NIN weights are [in, out]
                    fan = p.shape[0]
                v = g.uniform(-1, 1, p.shape) / math.sqrt(fan)
            p.copy_(torch.tensor(v, dtype=torch.float32))


@contextlib.contextmanager
def recorded_draws(draws):
    """torch.randn / torch.randn_like return the recorded arrays in order (shape-checked), as float64."""
    queue = list(draws)
    randn, randn_like = torch.randn, torch.randn_like

    def take(shape):
        if not queue:
            raise AssertionError("the official sampler drew more than the %d recorded arrays" % len(draws))
        a = queue.pop(0)
        if tuple(a.shape) != tuple(shape):
            raise AssertionError("the official sampler drew shape %s, the recording has %s next" % (tuple(shape), a.shape))
        return torch.tensor(a, dtype=torch.float64)

    torch.randn = lambda *size, **kw: take(size[0] if len(size) == 1 and not isinstance(size[0], int) else size)
    torch.randn_like = lambda x, **kw: take(x.shape)
    try:
        yield
    finally:
        torch.randn, torch.randn_like = randn, randn_like
    if queue:
        raise AssertionError("the official sampler left %d recorded arrays undrawn" % len(queue))


def f32(g, *shape):
    return g.standard_normal(shape).astype(np.float32)


def inverse_haar(coeffs, bands):
    """[N,12,S,S] -> [N,3,2S,2S] as test_wddgan.py inverts: with use_pytorch_wavelet (bands hv: cA; cH; cV; cD of 3
    colours) DWTInverse(mode='zero', wave='haar'), here PyWavelets' identical idwt2; without it (bands vh) the official
    IDWT_2D("haar") of (LL, LH, HL, HH) = channels 0:3, 3:6, 6:9, 9:12."""
    if bands == "vh":
        from DWT_IDWT.DWT_IDWT_layer import IDWT_2D
        c = coeffs.double()
        return IDWT_2D("haar")(c[:, 0:3], c[:, 3:6], c[:, 6:9], c[:, 9:12])
    import pywt
    c = coeffs.numpy()
    out = pywt.idwt2((c[:, 0:3], (c[:, 3:6], c[:, 6:9], c[:, 9:12])), "haar", mode="zero", axes=(-2, -1))
    return torch.tensor(out)


def build(case, src, seed):
    gen, diffusion = import_official(src)
    c = CASES[case]
    args = official_args(c)
    model = (gen.WaveletNCSNpp if c["net_type"] == "wavelet" else gen.NCSNpp)(args)
    initialise(model, np.random.default_rng(seed))
    return model, args, diffusion


def generate(case, src, out, batch, seed):
    c = CASES[case]
    model, args, diffusion = build(case, src, seed)
    g = np.random.default_rng(seed + 1)
    os.makedirs(out, exist_ok=True)
    sd = {k: v.detach().clone().float().contiguous() for k, v in model.state_dict().items()}
    options = {java: (",".join(str(x) for x in c[py]) if isinstance(c[py], list) else str(c[py])) for java, py in JAVA_OPTIONS
               if py in c}
    meta = {"model": "wavediff", "options": json.dumps(options), "source": "official WaveDiff NCSNpp, random weights"}
    with open(os.path.join(out, case + ".safetensors"), "wb") as f:
        f.write(encode_safetensors(sd, meta))
    if case not in ("tiny-wavelet", "tiny-patch"):  # the committed .pth check is tiny's; these stay small
        torch.save({"module." + k: v for k, v in sd.items()}, os.path.join(out, case + ".pth"))

    model = model.double().eval()
    # get_timestep_embedding computes in float32; the first dense layer then takes float64.
    model.all_modules[0].register_forward_pre_hook(lambda m, inp: tuple(i.double() for i in inp))
    n, s, ch, nz, steps = batch, c["current_resolution"], c["num_channels"], c["nz"], c["num_timesteps"]
    arrays = {}
    fx, fz = f32(g, n, ch, s, s), f32(g, n, nz)
    ft = np.arange(n) % steps
    with torch.no_grad():
        fout = model(torch.tensor(fx, dtype=torch.float64), torch.tensor(ft, dtype=torch.int64), torch.tensor(fz, dtype=torch.float64))
    arrays.update(fx=fx, ft=ft.astype(np.float32), fz=fz, fout=fout.numpy())

    x_t = f32(g, n, ch, s, s)
    z = np.stack([f32(g, n, nz) for _ in range(steps)])
    noise = np.stack([f32(g, n, ch, s, s) for _ in range(steps)])
    draws = [a for i in range(steps) for a in (z[i], noise[i])]
    coefficients = diffusion.Posterior_Coefficients(args, "cpu")
    schedule = diffusion.get_time_schedule(args, "cpu")
    with recorded_draws(draws):
        wavelet = diffusion.sample_from_model(coefficients, model, steps, torch.tensor(x_t, dtype=torch.float64), schedule, args)
    image = torch.clamp(inverse_haar(wavelet * 2, c["bands"]), -1, 1)
    arrays.update(x_T=x_t, z=z, noise=noise, wavelet=wavelet.numpy(), image=image.numpy())
    np.savez_compressed(os.path.join(out, case + ".npz"), **{k: np.ascontiguousarray(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()})
    params = sum(p.numel() for p in model.parameters())
    print(f"{case}: {params} parameters, {len(sd)} tensors; written to {out}")


OFFICIAL_PRESETS = ("cifar10", "stl10", "celeba_256", "celeba_512", "celeba_1024", "lsun")
SHAPES_OUT = os.path.join(TINY_OUT, "official-shapes.json")


def shapes(src):
    """The official generator's state_dict of every preset, as a parameter count, a tensor count and the SHA-256 of its
    sorted "name:d0,d1,...\\n" lines (WaveDiffPresetsTest computes the same of Prism's model); written to SHAPES_OUT."""
    import hashlib
    out = {}
    for case in OFFICIAL_PRESETS:
        gen, _ = import_official(src)
        c = CASES[case]
        model = (gen.WaveletNCSNpp if c["net_type"] == "wavelet" else gen.NCSNpp)(official_args(c))
        sd = model.state_dict()
        lines = "".join(sorted(k + ":" + ",".join(str(d) for d in v.shape) + "\n" for k, v in sd.items()))
        out[case] = {"parameters": sum(v.numel() for v in sd.values()), "tensors": len(sd),
                     "sha256": hashlib.sha256(lines.encode()).hexdigest()}
        print(case, out[case])
        del model
    with open(SHAPES_OUT, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


def time_official(case, src, batch, threads, repeats, seed):
    """Seconds per batch of the official sampler in float32 (sample_from_model, x2, inverse Haar in torch, clamp)."""
    torch.set_num_threads(threads)
    HAAR_DTYPE[0] = torch.float32
    c = CASES[case]
    model, args, diffusion = build(case, src, seed)
    model.eval()
    coefficients = diffusion.Posterior_Coefficients(args, "cpu")
    schedule = diffusion.get_time_schedule(args, "cpu")
    s = c["current_resolution"]

    def inverse(x):  # orthonormal Haar, bands cA; cH, cV, cD (the transform DWTInverse computes for 'haar')
        a, h, v, d = x[:, 0:3], x[:, 3:6], x[:, 6:9], x[:, 9:12]
        out = torch.empty(x.shape[0], 3, 2 * s, 2 * s)
        out[..., 0::2, 0::2] = (a + h + v + d) / 2
        out[..., 0::2, 1::2] = (a + h - v - d) / 2
        out[..., 1::2, 0::2] = (a - h + v - d) / 2
        out[..., 1::2, 1::2] = (a - h - v + d) / 2
        return out

    times = []
    for r in range(repeats + 1):
        x = torch.randn(batch, c["num_channels"], s, s)
        start = time.perf_counter()
        with torch.no_grad():
            w = diffusion.sample_from_model(coefficients, model, c["num_timesteps"], x, schedule, args)
            torch.clamp(inverse(w * 2), -1, 1)
        if r > 0:
            times.append(time.perf_counter() - start)
    times.sort()
    print(json.dumps({"case": case, "batch": batch, "threads": threads, "steps": c["num_timesteps"], "torch": torch.__version__,
                      "repeats": repeats, "seconds": times, "median": times[len(times) // 2]}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case", choices=sorted(CASES) + ["shapes"])
    ap.add_argument("--src", default=os.environ.get("WAVEDIFF_SRC"), help="the official code (default: $WAVEDIFF_SRC)")
    ap.add_argument("--out", help="output folder (default for tiny and tiny-wavelet: diffusion/src/test/resources/wavediff; required otherwise)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--time", action="store_true", help="time the official sampler instead of writing vectors")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.case == "shapes":
        shapes(a.src)
    elif a.time:
        time_official(a.case, a.src, a.batch, a.threads, a.repeats, a.seed)
    else:
        if a.out is None and a.case not in COMMITTED:
            sys.exit("--out is required for " + a.case + " (its files are large: keep them outside the repository)")
        generate(a.case, a.src, a.out or TINY_OUT, a.batch, a.seed)
