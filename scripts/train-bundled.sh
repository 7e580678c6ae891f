#!/usr/bin/env bash
# Trains the bundled Fashion-MNIST model, resumably.
#
#   scripts/train-bundled.sh [RUN]      (RUN defaults to runs/bundled, outside version control)
#
# The first call starts the run; every later call (after Ctrl-C, a reboot or a SIGKILL) continues it from its
# last checkpoint, until the last step. To keep it going after the terminal closes:
#
#   nohup scripts/train-bundled.sh > runs/bundled.log 2>&1 &
#
# The application is copied into RUN.app (beside RUN) at each start, so rebuilding the working tree during a run changes
# nothing under it; a later start picks up the rebuilt code (a resumed run continues from its checkpoint
# whatever code wrote it). When the run has finished, RUN/ema.safetensors holds the weights; the bundled
# file is that file (see docs/TRAINING.md, "The bundled model").
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${1:-$HERE/runs/bundled}"

# The run's settings: docs/TRAINING.md says why these.
ARGS=(--model ddpm-unet --config width=16 --data fashion-mnist --size 32
      --steps 10000 --batch 64 --lr 1e-3 --lr-decay cosine --warmup 200 --min-lr-ratio 0.1
      --weight-decay 0 --clip 1.0 --ema 0.999 --schedule linear --timesteps 1000 --seed 0
      --checkpoint-every 200 --sample-every 1000 --sample-count 16 --sample-steps 50)

exec "$HERE/scripts/train-copied.sh" train-bundled "$RUN" "${ARGS[@]}"
