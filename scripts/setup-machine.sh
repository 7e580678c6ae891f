#!/usr/bin/env bash
# Installs what Prism's optional tools need on a Debian machine of this kind (the build and the tests
# need only JDK 25 and Maven Central):
#   peers    PyTorch 1.13, PyWavelets, SciPy for /usr/bin/python3: the reference-vector generator
#            (tools/refgen) and the PyTorch CPU peer of the benchmarks (tools/peers)
#   opencl   OpenCL headers, ICD loader and PoCL (a CPU OpenCL device) for TornadoVM
#   data     Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist)
# Usage: scripts/setup-machine.sh [peers] [opencl] [data]    (no argument: all of them)
set -euo pipefail

declare -A PKGS=(
  [peers]="python3-torch python3-pywt python3-scipy"
  [opencl]="opencl-headers ocl-icd-opencl-dev pocl-opencl-icd clinfo"
  [data]="dataset-fashion-mnist"
)
groups=("$@")
[[ ${#groups[@]} -eq 0 ]] && groups=(peers opencl data)

want=()
for g in "${groups[@]}"; do
  [[ -n "${PKGS[$g]:-}" ]] || { echo "setup-machine: unknown group '$g'; expected peers, opencl or data" >&2; exit 2; }
  for p in ${PKGS[$g]}; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want+=("$p")
  done
done

if [[ ${#want[@]} -eq 0 ]]; then
  echo "setup-machine: everything for '${groups[*]}' is installed"
  exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "setup-machine: installing ${want[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${want[@]}"
