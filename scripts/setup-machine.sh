#!/usr/bin/env bash
# Installs what Prism's optional tools need on a Debian machine of this kind (the build and the tests
# need only JDK 25 and Maven Central):
#   peers     PyTorch 1.13, PyWavelets, SciPy for /usr/bin/python3: the reference-vector generator
#             (tools/refgen) and the PyTorch CPU peer of the benchmarks (tools/peers)
#   opencl    OpenCL headers, ICD loader and PoCL (a CPU OpenCL device) for TornadoVM
#   tornadovm what building TornadoVM from source needs beyond 'opencl' (scripts/build-tornadovm.sh):
#             cmake and a C++ compiler, and the Python packages TornadoVM's build scripts import
#             (requests, urllib3, tqdm, wget, packaging) for /usr/bin/python3
#   data      Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist)
# Usage: scripts/setup-machine.sh [peers] [opencl] [tornadovm] [data]    (no argument: all of them)
# When another apt or dpkg process holds its lock, this waits for it (up to APT_LOCK_WAIT seconds,
# default 900) instead of failing.
set -euo pipefail

declare -A PKGS=(
  [peers]="python3-torch python3-pywt python3-scipy"
  [opencl]="opencl-headers ocl-icd-opencl-dev pocl-opencl-icd clinfo"
  [tornadovm]="cmake g++ make git python3-requests python3-urllib3 python3-tqdm python3-wget python3-packaging"
  [data]="dataset-fashion-mnist"
)
groups=("$@")
[[ ${#groups[@]} -eq 0 ]] && groups=(peers opencl tornadovm data)

want=()
for g in "${groups[@]}"; do
  [[ -n "${PKGS[$g]:-}" ]] || { echo "setup-machine: unknown group '$g'; expected peers, opencl, tornadovm or data" >&2; exit 2; }
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
LOCK_WAIT="${APT_LOCK_WAIT:-900}"

# apt-get waits for dpkg's lock when told to (DPkg::Lock::Timeout), but 'apt-get update' takes the
# package lists' lock, which that setting does not cover: it fails at once while another apt runs.
# So every apt-get here is retried while its error is a held lock, until LOCK_WAIT has passed.
apt_get() {
  local deadline=$((SECONDS + LOCK_WAIT)) err rc said=0
  err="$(mktemp)"
  while :; do
    rc=0
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$LOCK_WAIT" "$@" 2>"$err" || rc=$?
    if [[ $rc -ne 0 ]] && grep -q -e 'Could not get lock' -e 'Unable to lock' "$err" && [[ $SECONDS -lt $deadline ]]; then
      [[ $said -eq 1 ]] || echo "setup-machine: waiting for the apt lock ($(grep -m1 -o 'held by process.*' "$err" || echo 'held by another process'))" >&2
      said=1
      sleep 5
      continue
    fi
    cat "$err" >&2
    rm -f "$err"
    return $rc
  done
}

echo "setup-machine: installing ${want[*]}"
apt_get update -q
apt_get install -y -q "${want[@]}"
