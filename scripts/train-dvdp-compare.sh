#!/usr/bin/env bash
# Trains the two models of the DVDP comparison (docs/DVDP.md), resumably: the bundled model's UNet and
# settings (scripts/train-bundled.sh) for a shorter run, with the fixed-dimension process or with DVDP.
#
#   scripts/train-dvdp-compare.sh ddpm RUN     the plain DDPM process on 32x32
#   scripts/train-dvdp-compare.sh dvdp RUN     DVDP with stages 32,16,8
#
# As train-bundled.sh (both run scripts/train-copied.sh): the application is copied into RUN.app at each start, so rebuilding the working tree
# changes nothing under a running run; a second call after any stop resumes from the last checkpoint.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROCESS="${1:?usage: train-dvdp-compare.sh ddpm|dvdp RUN}"
RUN="${2:?usage: train-dvdp-compare.sh ddpm|dvdp RUN}"
STEPS="${STEPS:-1500}"

ARGS=(--model ddpm-unet --config width=16 --data fashion-mnist --size 32 --steps "$STEPS" --batch 64
      --lr 1e-3 --lr-decay cosine --warmup 200 --min-lr-ratio 0.1 --weight-decay 0 --clip 1.0 --ema 0.999
      --schedule linear --timesteps 1000 --seed 0
      --checkpoint-every 100 --sample-every 500 --sample-count 16 --sample-steps 50)
case "$PROCESS" in
  ddpm) ;;
  dvdp) ARGS+=(--process dvdp --stages 32,16,8) ;;
  *) echo "train-dvdp-compare: expected ddpm or dvdp, found '$PROCESS'" >&2; exit 2 ;;
esac

exec "$HERE/scripts/train-copied.sh" train-dvdp-compare "$RUN" "${ARGS[@]}"
