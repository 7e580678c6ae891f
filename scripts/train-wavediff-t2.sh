#!/usr/bin/env bash
# Trains the 2-step Fashion-MNIST WaveDiff (the bundled model's settings with timesteps=2), resumably; not bundled.
#
#   scripts/train-wavediff-t2.sh [RUN]      (RUN defaults to runs/wavediff-t2, outside version control)
#
# As scripts/train-bundled-wavediff.sh: a later call continues the run from its last checkpoint; the application is
# copied beside RUN at each start. RUN/ema.safetensors holds the generator's EMA weights (docs/WAVEDIFF.md, "Training").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${1:-$HERE/runs/wavediff-t2}"

ARGS=(--model wavediff --config fmnist,timesteps=2 --data fashion-mnist --size 32
      --steps 2500 --batch 64 --lr 1.6e-4 --d-lr 1.25e-4 --lr-decay cosine --warmup 0 --min-lr-ratio 0.1
      --weight-decay 0 --clip 0 --ema 0.999 --r1-gamma 0.02 --rec-weight 1 --disc ngf=32,temb=128,layers=3 --seed 0
      --checkpoint-every 200 --sample-every 1000 --sample-count 16)

exec "$HERE/scripts/train-copied.sh" train-wavediff-t2 "$RUN" "${ARGS[@]}"
