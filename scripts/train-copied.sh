#!/usr/bin/env bash
# Runs or resumes one prism train run from a copy of the application (what train-bundled.sh and
# train-dvdp-compare.sh share):
#
#   scripts/train-copied.sh NAME RUN TRAIN-ARGS...
#
# The application is copied into RUN.app (beside RUN) at each start, so rebuilding the working tree during a run
# changes nothing under it. When RUN has a checkpoint the run is resumed from it (TRAIN-ARGS are then not used:
# a checkpoint keeps its settings); otherwise it starts with TRAIN-ARGS --out RUN. NAME prefixes the one line it prints.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME="$1"; RUN="$2"; shift 2

"$HERE/prism" --version > /dev/null   # builds when missing or stale
APP="$RUN.app"
rm -rf "$APP.new"
mkdir -p "$APP.new/lib"
cp "$HERE/apps/target/prism-apps.jar" "$APP.new/"
cp "$HERE"/apps/target/lib/*.jar "$APP.new/lib/"
rm -rf "$APP"
mv "$APP.new" "$APP"

JDK_JAVA="$("$HERE/prism" --version --show-command | awk '{print $1}')"
JAVA=("$JDK_JAVA" -Dprism.home="$HERE" --add-modules jdk.incubator.vector -cp "$APP/prism-apps.jar:$APP/lib/*" dev.prism.cli.Main)

if [[ -f "$RUN/checkpoint.json" ]]; then
  echo "$NAME: resuming $RUN from its checkpoint ($(date -u +%FT%TZ))"
  exec "${JAVA[@]}" train --resume "$RUN"
fi
echo "$NAME: starting $RUN ($(date -u +%FT%TZ))"
exec "${JAVA[@]}" train "$@" --out "$RUN"
