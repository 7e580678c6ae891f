#!/usr/bin/python3
"""Writes every reference vector the Java tests read.

Run with Debian's interpreter, which has PyTorch 1.13, PyWavelets and SciPy
(install: sudo apt-get install -y python3-torch python3-pywt python3-scipy, or scripts/setup-peers.sh):

    /usr/bin/python3 tools/refgen/generate.py            # every family
    /usr/bin/python3 tools/refgen/generate.py haar dct   # some families

The outputs are deterministic: rerunning rewrites identical arrays.
"""
import importlib
import os
import pkgutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import families  # noqa: E402


def main(argv):
    names = sorted(m.name for m in pkgutil.iter_modules(families.__path__))
    chosen = argv or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        sys.exit(f"unknown families {unknown}; known: {names}")
    for n in chosen:
        mod = importlib.import_module("families." + n)
        paths = mod.generate()
        print(f"{n:12s} {len(paths):3d} files")


if __name__ == "__main__":
    main(sys.argv[1:])
