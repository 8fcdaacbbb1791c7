#!/usr/bin/env bash
# Sets everything up, then trains, evaluates and reports configs/quickstart.toml into runs/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
out=runs/quickstart
if [ -e "$out" ]; then out="runs/quickstart-$(date +%Y%m%d-%H%M%S)"; fi
build/bin/looplab run configs/quickstart.toml --out "$out"
echo "report: $out/report.md"
