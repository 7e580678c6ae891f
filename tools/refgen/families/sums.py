"""Summation accuracy against PyTorch: for every kernel that reduces a long run of fp32 terms, PyTorch's own
float32 result and the float64 result of the same operation, on inputs large enough for a plain fp32 running
sum to drift (planes of 64x64, values with a non-zero mean).

The inputs are not stored: they come from a counter-based generator that the Java test reproduces bit for
bit (hashed() below and ReductionAccuracyTest.hashed: splitmix64 of (seed << 32) + i, its top 24 bits as a
uniform value in [-1, 1), then mean + half * value rounded once to float32). Each file keeps the first values
of every input (head_<name>) so the test can prove it rebuilt the same numbers, PyTorch's float32 result
(torch_<name>) and the first CHECKED elements of the float64 result as two float32 arrays (exact_hi_<name> +
exact_lo_<name>, within 2^-48 relative), which the test compares with its own float64 computation.

PyTorch runs on one thread (its result may depend on the thread count) with the CPU capability it picks on
this machine (AVX2 for Debian's 1.13 build); generate() prints it.
"""
import numpy as np
import torch
import torch.nn.functional as F

from common import save

HEAD = 8
# elements of each float64 result kept, for the Java test to check its own float64 computation against
CHECKED = 64


def hashed(seed, n, mean, half):
    """n float32 values: mean + half * u, u uniform in [-1, 1) on a 2^-23 grid, from splitmix64((seed << 32) + i)."""
    i = np.arange(n, dtype=np.uint64)
    z = (np.uint64(seed) << np.uint64(32)) + i + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.int64)
    v = (u - 2 ** 23).astype(np.float64) * 2.0 ** -23
    return (mean + half * v).astype(np.float32)


class Case:
    """Inputs drawn with hashed(), results of a float32 and a float64 run of the same PyTorch function."""

    def __init__(self, name):
        self.name = name
        self.inputs = {}
        self.arrays = {}
        self.seed = sum(name.encode("utf-8")) * 1000

    def draw(self, key, shape, mean, half):
        self.seed += 1
        a = hashed(self.seed, int(np.prod(shape)), mean, half).reshape(shape)
        self.inputs[key] = a
        # what the Java test needs to draw the same values, and their first few to prove it did
        self.arrays["seed_" + key] = np.array([self.seed], dtype=np.int64)
        self.arrays["law_" + key] = np.array([mean, half], dtype=np.float32)
        self.arrays["head_" + key] = a.reshape(-1)[:HEAD]
        return a

    def result(self, key, f32, f64):
        f32 = np.asarray(f32.detach().numpy() if hasattr(f32, "detach") else f32, dtype=np.float32).reshape(-1)
        f64 = np.asarray(f64.detach().numpy() if hasattr(f64, "detach") else f64, dtype=np.float64).reshape(-1)
        hi = f64[:CHECKED].astype(np.float32)
        lo = (f64[:CHECKED] - hi.astype(np.float64)).astype(np.float32)
        self.arrays["torch_" + key] = f32
        self.arrays["exact_hi_" + key] = hi
        self.arrays["exact_lo_" + key] = lo
        err = np.max(np.abs(f32.astype(np.float64) - f64)) / np.max(np.abs(f64))
        print(f"  {self.name:24s} {key:8s} torch max|err|/max|ref| {err:.2e}")

    def save(self, **dims):
        for k, v in dims.items():
            self.arrays[k] = np.array(v, dtype=np.int64)
        return save("sums", self.name, **self.arrays)


def both(fn, *arrays):
    """fn on float32 tensors and on float64 tensors (requiring grad); returns the two lists of tensors."""
    t32 = [torch.tensor(a, requires_grad=True) for a in arrays]
    t64 = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    return t32, fn(*t32), t64, fn(*t64)


def backward(out, grad):
    out.backward(torch.tensor(grad, dtype=out.dtype))


def prismconv(name, circular, gy_mean):
    c = Case(name)
    n, ch, h, w = 2, 64, 64, 64
    x = c.draw("x", (n, ch, h, w), 1.0, 1.0)
    f = c.draw("f", (3, 3, 3), 0.0, 0.5)
    b = c.draw("b", (1,), 0.0, 0.5)
    gy = c.draw("gy", (n, ch, h, w), gy_mean, 1.0)

    def conv(xt, ft, bt):
        x5 = xt.reshape(n, 1, ch, h, w)
        if circular:
            return F.conv3d(F.pad(x5, (0, 0, 0, 0, 1, 1), mode="circular"), ft.reshape(1, 1, 3, 3, 3), bt,
                            padding=(0, 1, 1))
        return F.conv3d(x5, ft.reshape(1, 1, 3, 3, 3), bt, padding=1)

    t32, y32, t64, y64 = both(conv, x, f, b)
    backward(y32, gy.reshape(y32.shape))
    backward(y64, gy.reshape(y64.shape).astype(np.float64))
    c.result("gf", t32[1].grad, t64[1].grad)
    c.result("gb", t32[2].grad, t64[2].grad)
    return c.save(dims=[n, ch, h, w], flags=[int(circular)])


def conv2d(name, k, cin, cout, padding, n=2, size=64):
    c = Case(name)
    h = w = size
    x = c.draw("x", (n, cin, h, w), 1.0, 1.0)
    wt = c.draw("w", (cout, cin, k, k), 0.0, 0.5)
    b = c.draw("b", (cout,), 0.0, 0.5)
    gy = c.draw("gy", (n, cout, h, w), 0.5, 1.0)
    t32, y32, t64, y64 = both(lambda xt, wtt, bt: F.conv2d(xt, wtt, bt, padding=padding), x, wt, b)
    backward(y32, gy)
    backward(y64, gy.astype(np.float64))
    c.result("gw", t32[1].grad, t64[1].grad)
    c.result("gb", t32[2].grad, t64[2].grad)
    return c.save(dims=[n, cin, h, w, cout, k, padding])


def linear_bias(name):
    c = Case(name)
    rows, fin, fout = 16384, 4, 8
    x = c.draw("x", (rows, fin), 0.0, 1.0)
    wt = c.draw("w", (fout, fin), 0.0, 0.5)
    b = c.draw("b", (fout,), 0.0, 0.5)
    gy = c.draw("gy", (rows, fout), 0.5, 1.0)
    t32, y32, t64, y64 = both(F.linear, x, wt, b)
    backward(y32, gy)
    backward(y64, gy.astype(np.float64))
    c.result("gb", t32[2].grad, t64[2].grad)
    return c.save(dims=[rows, fin, fout])


def planes(name):
    c = Case(name)
    n, ch, h, w = 2, 64, 64, 64
    gy = c.draw("gy", (n, ch, h, w), 0.5, 1.0)
    g64 = gy.astype(np.float64)
    c.result("gv", torch.tensor(gy).sum(dim=(2, 3)), g64.sum(axis=(2, 3)))
    c.result("gbias", torch.tensor(gy).sum(dim=(0, 2, 3)), g64.sum(axis=(0, 2, 3)))
    return c.save(dims=[n, ch, h, w])


def pool(name):
    c = Case(name)
    n, ch, h, w = 2, 64, 64, 64
    x = c.draw("x", (n, ch, h, w), 1.0, 1.0)
    c.result("m", torch.tensor(x).mean(dim=(-2, -1)), x.astype(np.float64).mean(axis=(-2, -1)))
    return c.save(dims=[n, ch, h, w])


def gates(name, g):
    c = Case(name)
    n, ch, h, w = 2, 16, 64, 64
    y = c.draw("y", (n, 4, ch, h, w), 1.0, 1.0)
    gate = c.draw("g", (n, 4, g), 0.5, 0.25)
    gout = c.draw("gout", (n, ch, h, w), 0.5, 1.0)
    t32, o32, t64, o64 = both(lambda yt, gt: (gt[:, :, :, None, None] * yt).sum(dim=1), y, gate)
    backward(o32, gout)
    backward(o64, gout.astype(np.float64))
    c.result("gg", t32[1].grad, t64[1].grad)
    return c.save(dims=[n, ch, h, w, g])


def softmax(name):
    c = Case(name)
    rows, cols, scale = 8, 1024, 0.125
    s = c.draw("s", (rows, cols), 0.0, 16.0)
    p32 = torch.softmax(torch.tensor(s) * np.float32(scale), dim=-1)
    # float64 from the exponent arguments that PyTorch and Prism both form in float32, scale * s - max, so
    # that what differs is the exponential, the row sum and the division
    a = s * np.float32(scale)
    e = np.exp((a - a.max(axis=-1, keepdims=True)).astype(np.float64))
    c.result("p", p32, e / e.sum(axis=-1, keepdims=True))
    c.arrays["scale"] = np.array([scale], dtype=np.float32)
    return c.save(dims=[rows, cols])


def softmax_backward(name):
    c = Case(name)
    rows, cols, scale = 8, 1024, np.float32(0.125)
    # The probabilities are an input of the backward; rows of positive values summing to about 1, drawn
    # (u in [0.5, 1.5) times 2^-10, exact) so that Java rebuilds them without an exponential.
    p = c.draw("p", (rows, cols), 2.0 ** -10, 2.0 ** -11)
    dp = c.draw("dp", (rows, cols), 0.5, 1.0)
    g32 = torch._softmax_backward_data(torch.tensor(dp), torch.tensor(p), -1, torch.float32) * scale
    p64 = p.astype(np.float64)
    d64 = dp.astype(np.float64)
    c.result("gs", g32, float(scale) * p64 * (d64 - (d64 * p64).sum(axis=-1, keepdims=True)))
    c.arrays["scale"] = np.array([scale], dtype=np.float32)
    return c.save(dims=[rows, cols])


def group_norm(name):
    c = Case(name)
    n, ch, h, w, groups, eps = 2, 64, 64, 64, 32, np.float32(1e-5)
    x = c.draw("x", (n, ch, h, w), 4.0, 1.0)
    gamma = c.draw("gamma", (ch,), 1.0, 0.5)
    beta = c.draw("beta", (ch,), 0.0, 0.5)
    gy = c.draw("gy", (n, ch, h, w), 0.5, 1.0)
    y32, mean32, rstd32 = torch.native_group_norm(torch.tensor(x), torch.tensor(gamma), torch.tensor(beta),
                                                  n, ch, h * w, groups, float(eps))
    xg = x.astype(np.float64).reshape(n, groups, -1)
    mean = xg.mean(axis=2)
    c.result("mean", mean32, mean)
    c.result("rstd", rstd32, 1.0 / np.sqrt(xg.var(axis=2) + float(eps)))
    t32, o32, t64, o64 = both(lambda xt, gt, bt: F.group_norm(xt, groups, gt, bt, float(eps)), x, gamma, beta)
    backward(o32, gy)
    backward(o64, gy.astype(np.float64))
    c.result("ggamma", t32[1].grad, t64[1].grad)
    c.result("gbeta", t32[2].grad, t64[2].grad)
    return c.save(dims=[n, ch, h, w, groups])


def generate():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cap = [l.strip() for l in torch.__config__.show().splitlines() if "CPU capability" in l]
        print("  PyTorch", torch.__version__, "one thread,", *cap)
        return [
            prismconv("prismconv_zeros", False, 0.25),
            prismconv("prismconv_circular", True, 0.0),
            conv2d("conv2d_3x3", 3, 8, 8, 1),
            conv2d("conv2d_3x3_wide", 3, 9, 17, 1),
            # 32x32 planes, 16 -> 17 channels: Winograd's F(4x4, 3x3) weight gradient at 256 and 512 bits
            conv2d("conv2d_3x3_f4", 3, 16, 17, 1, n=8, size=32),
            conv2d("conv2d_1x1", 1, 16, 16, 0),
            linear_bias("linear_bias"),
            planes("planes"),
            pool("avgpool"),
            gates("gates_per_channel", 16),
            gates("gates_per_band", 1),
            softmax("softmax"),
            softmax_backward("softmax_backward"),
            group_norm("group_norm"),
        ]
    finally:
        torch.set_num_threads(threads)
