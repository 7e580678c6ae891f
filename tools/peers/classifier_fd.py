#!/usr/bin/python3
"""The PyTorch side of prism eval's floor and ceiling: the bundled classifier's PyTorch twin
(tools/refgen/models.py) on the same weights, its test accuracy, and the Fréchet distance (SciPy's sqrtm,
as the usual FID code) of random training subsets and of uniform noise against the test set.

    /usr/bin/python3 tools/peers/classifier_fd.py [--samples 1000] [--subsets 3] [--seed 0]

Images as Prism's FashionMnist at 32×32: x = b/127.5 − 1, the 28×28 image 2 pixels in from the top left
of a −1 background. The subsets are numpy's, not Prism's order, so the floor is compared in range only.
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy as np
import scipy.linalg
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "refgen"))
import models  # noqa: E402

WEIGHTS = os.path.join(ROOT, "apps", "src", "main", "resources", "dev", "prism", "models", "fmnist-classifier.safetensors")
DATA = "/usr/share/datasets/fashion-mnist"


def classifier():
    raw = open(WEIGHTS, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    model = models.Classifier({k: int(v) for k, v in json.loads(meta["options"]).items()})
    state = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        state[name] = torch.tensor(np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32).reshape(t["shape"]))
    model.load_state_dict(state)
    return model.double().eval(), meta


def split(prefix):
    x = np.frombuffer(gzip.open(f"{DATA}/{prefix}-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28)
    y = np.frombuffer(gzip.open(f"{DATA}/{prefix}-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    images = np.full((len(x), 1, 32, 32), -1.0)
    images[:, 0, 2:30, 2:30] = x / 127.5 - 1
    return images, y


def features(model, x):
    with torch.no_grad():
        return torch.cat([model.features(torch.tensor(x[i:i + 500])) for i in range(0, len(x), 500)]).numpy()


def frechet(a, b):
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(sa + sb - 2 * scipy.linalg.sqrtm(sa @ sb).real))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--subsets", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, meta = classifier()
    test, labels = split("t10k")
    reference = features(model, test)
    with torch.no_grad():
        accuracy = (model.out(torch.tensor(reference)).argmax(1).numpy() == labels).mean()
    print(f"test accuracy {accuracy:.4f} (the weights' metadata: {meta['test_accuracy']})")
    train, _ = split("train")
    g = np.random.default_rng(args.seed)
    for _ in range(args.subsets):
        chosen = g.choice(len(train), args.samples, replace=False)
        print(f"FD {frechet(features(model, train[chosen]), reference):10.2f}  floor: {args.samples} random training images")
    noise = g.uniform(-1, 1, (args.samples, 1, 32, 32))
    print(f"FD {frechet(features(model, noise), reference):10.2f}  ceiling: {args.samples} images of uniform noise")


if __name__ == "__main__":
    main()
