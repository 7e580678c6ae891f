#!/usr/bin/python3
"""Writes the weight files that nn's dev.prism.nn.io tests read.

Run with Debian's interpreter, which has PyTorch 1.13 and NumPy:

    /usr/bin/python3 tools/refgen/weights.py

Outputs (all small, committed):
  nn/src/test/resources/weights/
    *.pth                 written by torch.save: fp32 / fp16 / bf16 tensors, views (transposed,
                          sliced with a storage offset, expanded with stride 0, sharing one storage),
                          a DataParallel "module." prefix, a checkpoint with a nested state_dict,
                          the legacy non-zip format, and a pickle whose __reduce__ names os.system
    crafted_*.pth         archives built here with pickle's persistent ids, the way torch.save lays
                          them out, to break one rule each (a view beyond its storage, a missing or
                          short storage entry, a disallowed storage type); crafted_ok.pth is the
                          control, checked to load in torch itself
    *.safetensors         written by the small writer below (the format is 8 bytes of header length,
                          a JSON header, the data): F32 with metadata, F16/BF16/I64 and empty tensors
    expected/<file>.npz   every float tensor of <file> as float32, row-major, under its name
    torchscript.pt,       files in formats Prism recognises but does not read, for the messages that name
    whole_module.pth,     them: a TorchScript archive (torch.jit.save), a whole pickled nn.Module
    state_dict.pkl,       (torch.save(model)), a state_dict written with pickle.dump, NumPy's .npz and .npy,
    arrays.npz, array.npy,  and a gzip-compressed torch.save file
    fp32.pth.gz
  nn/src/test/resources/dev/prism/nn/io/WeightFilesFuzzTestInputs/
    safetensors/*         seed corpus for the safetensors fuzz test (the .safetensors files)
    torchPickle/*         seed corpus for the pickle fuzz test (the data.pkl of each .pth)

Values come from a fixed torch seed; rerunning rewrites identical files, except legacy.pth, whose
storage keys are memory addresses chosen by torch (its tests read only its first bytes).
apps/src/test/resources/weights/ gets copies of fp32.pth, views.pth, legacy.pth and the other formats for the
CLI tests.
"""
import collections
import gzip
import io
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "nn", "src", "test", "resources", "weights")
EXPECTED = os.path.join(OUT, "expected")
FUZZ = os.path.join(ROOT, "nn", "src", "test", "resources", "dev", "prism", "nn", "io", "WeightFilesFuzzTestInputs")


def small_model():
    """A conv, a group norm and a linear layer: the kinds of parameters Prism's models have."""
    return torch.nn.Sequential(collections.OrderedDict([
        ("conv", torch.nn.Conv2d(3, 4, 3)),
        ("norm", torch.nn.GroupNorm(2, 4)),
        ("proj", torch.nn.Linear(6, 5)),
    ]))


def save_expected(name, tensors):
    """expected/<name>.npz: the float32 value of every floating tensor, made contiguous."""
    arrays = {k: v.detach().float().contiguous().numpy() for k, v in tensors.items() if v.is_floating_point()}
    os.makedirs(EXPECTED, exist_ok=True)
    np.savez_compressed(os.path.join(EXPECTED, name + ".npz"), **arrays)


def torch_save(name, obj, expected=None):
    path = os.path.join(OUT, name)
    torch.save(obj, path)
    if expected is not None:
        save_expected(name, expected)
    return path


# ---- safetensors, written by hand -------------------------------------------------------------

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}


def raw_bytes(t):
    """Little-endian row-major bytes of a tensor (bf16 through its int16 bit pattern; numpy lacks bf16)."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def encode_safetensors(tensors, metadata=None):
    """The bytes of a safetensors file holding {name: torch tensor} in order, with optional string metadata."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    data = bytearray()
    for k, t in tensors.items():
        b = raw_bytes(t)
        header[k] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-(8 + len(h)) % 8)  # the data section starts 8-aligned, as Hugging Face's writer does
    return struct.pack("<Q", len(h)) + h + bytes(data)


def write_safetensors(name, tensors, metadata=None):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(encode_safetensors(tensors, metadata))
    save_expected(name, tensors)
    return path


# ---- crafted torch.save-style archives ----------------------------------------------------------

class StorageRef:
    def __init__(self, storage_type, key, numel):
        self.storage_type, self.key, self.numel = storage_type, key, numel


class Rebuild:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class StoragePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, StorageRef):
            return ("storage", obj.storage_type, obj.key, "cpu", obj.numel)
        return None


def write_archive(name, state, storages):
    """A zip laid out like torch.save's: <stem>/data.pkl, <stem>/data/<key>, <stem>/version; entries stored."""
    buf = io.BytesIO()
    StoragePickler(buf, protocol=2).dump(state)
    stem = os.path.splitext(name)[0]
    path = os.path.join(OUT, name)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        def put(entry, data):
            info = zipfile.ZipInfo(stem + "/" + entry, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
        put("data.pkl", buf.getvalue())
        for key, data in storages.items():
            put("data/" + key, data)
        put("version", b"3\n")
    return path


def crafted():
    w = torch.arange(12, dtype=torch.float32) / 4 - 1
    good = collections.OrderedDict(
        [("w", Rebuild(StorageRef(torch.FloatStorage, "0", 12), 2, (2, 3), (1, 2)))])
    storages = {"0": raw_bytes(w)}
    path = write_archive("crafted_ok.pth", good, storages)
    loaded = torch.load(path)  # the control must be a file torch itself reads
    assert torch.equal(loaded["w"], w[2:8].reshape(3, 2).t()), loaded
    save_expected("crafted_ok.pth", loaded)

    bad_view = collections.OrderedDict(
        [("w", Rebuild(StorageRef(torch.FloatStorage, "0", 12), 5, (2, 4), (4, 1)))])  # reaches element 12
    write_archive("crafted_view_beyond_storage.pth", bad_view, storages)
    write_archive("crafted_missing_storage.pth", good, {})
    write_archive("crafted_short_storage.pth", good, {"0": raw_bytes(w)[:40]})
    complex_storage = collections.OrderedDict(
        [("w", Rebuild(StorageRef(torch.ComplexFloatStorage, "0", 6), 0, (6,), (1,)))])
    write_archive("crafted_complex_storage.pth", complex_storage, storages)


class RunsACommand:
    """What a malicious checkpoint does: unpickling calls os.system (pickled as posix.system)."""

    def __reduce__(self):
        return (os.system, ("echo prism-weights-test: this command must never run",))


def other_formats(model):
    """Files that are not torch.save zip archives of a state_dict, each as the tool that makes it writes it."""
    torch.jit.save(torch.jit.script(model), os.path.join(OUT, "torchscript.pt"))
    torch.save(model, os.path.join(OUT, "whole_module.pth"))
    with open(os.path.join(OUT, "state_dict.pkl"), "wb") as f:
        pickle.dump({k: v.numpy() for k, v in model.state_dict().items()}, f, protocol=4)
    arrays = {k: v.numpy() for k, v in model.state_dict().items()}
    np.savez(os.path.join(OUT, "arrays.npz"), **arrays)
    np.save(os.path.join(OUT, "array.npy"), arrays["conv.weight"])
    with open(os.path.join(OUT, "fp32.pth"), "rb") as f, gzip.GzipFile(os.path.join(OUT, "fp32.pth.gz"), "wb", mtime=0) as g:
        g.write(f.read())


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20261123)

    model = small_model()
    sd = model.state_dict()
    torch_save("fp32.pth", sd, expected=sd)

    halves = collections.OrderedDict([
        ("conv.weight", torch.randn(4, 3, 3, 3).half()),
        ("conv.bias", torch.randn(4).half()),
        ("proj.weight", torch.randn(5, 6).bfloat16()),
        ("proj.bias", torch.randn(5).bfloat16()),
    ])
    torch_save("halves.pth", halves, expected=halves)

    base = torch.randn(4, 6)
    line = torch.randn(20)
    views = collections.OrderedDict([
        ("transposed", base.t()),                   # stride (1, 6): non-contiguous
        ("row_slice", line[5:12]),                  # storage offset 5
        ("block", base[1:3, 2:5]),                  # offset 8, stride (6, 1), shares base's storage
        ("expanded", torch.randn(3, 1).expand(3, 4)),  # stride (1, 0)
        ("half_t", torch.randn(3, 5).half().t()),   # fp16 and non-contiguous
        ("scalar", torch.tensor(3.5)),              # shape []
        ("empty", torch.zeros(0, 3)),
        ("param", torch.nn.Parameter(torch.randn(2, 2))),  # pickled through _rebuild_parameter
        ("steps", torch.tensor(7, dtype=torch.int64)),     # an integer buffer, like num_batches_tracked
    ])
    for k in ("transposed", "block", "expanded", "half_t"):
        assert not views[k].is_contiguous(), k
    assert views["row_slice"].storage_offset() == 5
    torch_save("views.pth", views, expected=views)

    wrapped = torch.nn.DataParallel(small_model())  # runs on CPU; its state_dict prefixes "module."
    torch_save("module_prefix.pth", wrapped.state_dict(), expected=wrapped.state_dict())

    ckpt = {"model": model.state_dict(), "epoch": 3, "note": "nested"}
    torch_save("checkpoint.pth", ckpt)

    torch.save({"w": torch.ones(2)}, os.path.join(OUT, "legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"w": torch.ones(2), "payload": RunsACommand()}, os.path.join(OUT, "evil_system.pth"))

    crafted()
    other_formats(model)

    f32 = collections.OrderedDict([("conv.weight", torch.randn(4, 3, 3, 3)), ("conv.bias", torch.randn(4))])
    write_safetensors("f32.safetensors", f32, metadata={"format": "pt", "source": "tools/refgen/weights.py"})
    mixed = collections.OrderedDict([
        ("h", torch.randn(2, 3).half()),
        ("b", torch.randn(3, 2).bfloat16()),
        ("steps", torch.arange(3, dtype=torch.int64)),
        ("empty", torch.zeros(0)),
        ("scalar", torch.tensor(-2.25)),
    ])
    write_safetensors("mixed.safetensors", mixed)

    write_fuzz_seeds()
    apps = os.path.join(ROOT, "apps", "src", "test", "resources", "weights")
    os.makedirs(apps, exist_ok=True)
    for n in ("fp32.pth", "views.pth", "legacy.pth", "torchscript.pt", "whole_module.pth", "state_dict.pkl", "arrays.npz",
              "array.npy", "fp32.pth.gz"):
        shutil.copyfile(os.path.join(OUT, n), os.path.join(apps, n))
    for n in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, n)
        if os.path.isfile(p):
            print(f"{os.path.getsize(p):6d}  weights/{n}")


def write_fuzz_seeds():
    st = os.path.join(FUZZ, "safetensors")
    pk = os.path.join(FUZZ, "torchPickle")
    os.makedirs(st, exist_ok=True)
    os.makedirs(pk, exist_ok=True)
    for n in sorted(os.listdir(OUT)):
        p = os.path.join(OUT, n)
        if n.endswith(".safetensors"):
            with open(p, "rb") as f, open(os.path.join(st, n), "wb") as g:
                g.write(f.read())
        elif n.endswith(".pth") and zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                pkl = [e for e in z.namelist() if e.endswith("/data.pkl")][0]
                with open(os.path.join(pk, n[:-4] + ".pkl"), "wb") as g:
                    g.write(z.read(pkl))


if __name__ == "__main__":
    sys.exit(main())
