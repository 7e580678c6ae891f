#!/usr/bin/env bash
# Trains the bundled Fashion-MNIST WaveDiff model, resumably.
#
#   scripts/train-bundled-wavediff.sh [RUN]      (RUN defaults to runs/bundled-wavediff, outside version control)
#
# As scripts/train-bundled.sh: the first call starts the run, every later call continues it from its last checkpoint
# (after Ctrl-C, a reboot or a SIGKILL), the application is copied beside RUN at each start. To keep it going after the
# terminal closes:
#
#   nohup scripts/train-bundled-wavediff.sh > runs/bundled-wavediff.log 2>&1 &
#
# When the run has finished, RUN/ema.safetensors holds the generator's EMA weights (docs/WAVEDIFF.md, "Training").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${1:-$HERE/runs/bundled-wavediff}"

# The run's settings: docs/WAVEDIFF.md says why these.
ARGS=(--model wavediff --config fmnist --data fashion-mnist --size 32
      --steps 4000 --batch 64 --lr 1.6e-4 --d-lr 1.25e-4 --lr-decay cosine --warmup 0 --min-lr-ratio 0.1
      --weight-decay 0 --clip 0 --ema 0.999 --r1-gamma 0.02 --rec-weight 1 --disc ngf=32,temb=128,layers=3 --seed 0
      --checkpoint-every 200 --sample-every 1000 --sample-count 16)

exec "$HERE/scripts/train-copied.sh" train-bundled-wavediff "$RUN" "${ARGS[@]}"
