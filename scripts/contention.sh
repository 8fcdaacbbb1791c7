#!/usr/bin/env bash
# Step time of looplab and of the PyTorch reference alone and next to CPU-bound competitors
# (busy loops, or single-threaded `looplab run`s), at the default thread count. Prints one
# line per (size, implementation, competitors): the median ms per step and the fraction of
# the idle step rate kept.
#
#   scripts/contention.sh [--sizes "tiny small study"] [--competitors "0 1 2"] [--kind busy|run]
#                         [--impl "looplab pytorch quickstart"] [--reps N]
#
# quickstart: `looplab run configs/quickstart.toml` for --reps steps (default 600), its step
# time from train.csv (the size is ignored). LOOPLAB_ARGS adds options to `looplab bench` and `run`
# (e.g. "--threads 2").
#
# Run it on an otherwise idle machine: anything else running is one more competitor.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes="tiny small study" competitors="0 1 2" kind=busy impls="looplab pytorch" reps=""
[[ " $* " == *" --impl quickstart "* ]] && sizes=quickstart
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) sizes="$2"; shift 2 ;;
    --competitors) competitors="$2"; shift 2 ;;
    --kind) kind="$2"; shift 2 ;;
    --impl) impls="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

looplab=build/bin/looplab
python=.venv/bin/python
tmp=$(mktemp -d)
pids=()
stop_competitors() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_competitors; rm -rf "$tmp"' EXIT

start_competitors() {
  local n=$1
  for ((i = 0; i < n; i++)); do
    if [[ $kind == busy ]]; then
      bash -c 'while :; do :; done' &
    else
      "$looplab" run configs/quickstart.toml --threads 1 --out "$tmp/competitor-$i-$RANDOM" >/dev/null 2>&1 &
    fi
    pids+=($!)
  done
  sleep 2  # let a competing run get past start-up
}

# ms per step of one size; reps scale down with load so a collapsed case still ends.
measure() {
  local impl=$1 size=$2 n=$3
  local r=()
  [[ -n $reps ]] && r=(--reps "$reps")
  if [[ $impl == quickstart ]]; then  # the training step rate of a default quickstart run
    local dir="$tmp/quickstart-$size-$n" steps=${reps:-600}
    "$looplab" run configs/quickstart.toml --out "$dir" --set training.steps="$steps" \
      --set outputs.figures=false --set evaluation.prompts=64 ${LOOPLAB_ARGS:-} >/dev/null 2>&1
    tail -1 "$dir/train.csv" | awk -F, -v s="$steps" '{ printf "{\"ms_per_step\": %f}\n", 1000 * $NF / s }'
  elif [[ $impl == looplab ]]; then
    "$looplab" bench --config "$size" --json "${r[@]}" ${LOOPLAB_ARGS:-} | grep '^{' | tail -1
  else
    "$python" bench/pytorch_reference.py --config "$size" "${r[@]}" | grep '^{' | tail -1
  fi
}

declare -A idle
printf '%-6s %-8s %-12s %10s %8s\n' size impl competitors ms_per_step kept
for size in $sizes; do
  for impl in $impls; do
    for n in $competitors; do
      start_competitors "$n"
      line=$(measure "$impl" "$size" "$n")
      stop_competitors
      ms=$("$python" -c 'import json,sys; print(round(json.loads(sys.argv[1])["ms_per_step"], 2))' "$line")
      [[ $n == 0 ]] && idle[$size$impl]=$ms
      kept=$("$python" -c 'import sys; i=sys.argv[1]; print(f"{100*float(i)/float(sys.argv[2]):.0f}%" if i else "-")' \
        "${idle[$size$impl]:-}" "$ms")
      printf '%-6s %-8s %-12s %10s %8s\n' "$size" "$impl" "$n $kind" "$ms" "$kept"
    done
  done
done
