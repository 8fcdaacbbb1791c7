#!/usr/bin/env bash
# looplab vs an independent PyTorch implementation of the same training step
# (bench/pytorch_reference.py), on this machine, in one go, interleaved per size and round
# (looplab, PyTorch, looplab, PyTorch, ...) so that both see the same load.
#
#   scripts/bench.sh                       # every GPT size, 2 rounds, all cores
#   ROUNDS=3 CONFIGS="tiny small" scripts/bench.sh
#
# Environment: BUILD (build dir, default build), THREADS (default: nproc), ROUNDS (2),
# CONFIGS (GPT sizes with a PyTorch twin), EXTRA (looplab-only rows: Mamba, evaluation),
# REPS (timed steps; default per size), PY_MALLOC (default | tuned | both: PyTorch with
# glibc's default malloc, with the same no-mmap/no-trim setting looplab makes itself at
# start-up, or both), OUT (directory for the raw JSON lines).
# Prints per size: looplab ms, PyTorch ms and the ratio looplab / PyTorch (medians over rounds).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
THREADS=${THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-2}
CONFIGS=${CONFIGS:-"tiny small study paper standard12"}
EXTRA=${EXTRA:-"mamba-small mamba-paper eval eval-noisy"}
PY_MALLOC=${PY_MALLOC:-both}
OUT=${OUT:-$(mktemp -d /tmp/looplab-bench.XXXXXX)}
PY=.venv/bin/python
LOOPLAB=$BUILD/bin/looplab
[ -x "$LOOPLAB" ] || { echo "bench.sh: $LOOPLAB not found (BUILD=...)" >&2; exit 2; }
[ -x "$PY" ] || { echo "bench.sh: $PY not found (scripts/setup.sh)" >&2; exit 2; }

# The same thread counts for both sides: LibTorch/OpenMP/MKL read these, and both set
# torch's intra-op threads to THREADS explicitly.
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1
REPS_ARG=()
[ -n "${REPS:-}" ] && REPS_ARG=(--reps "$REPS")
RAW=$OUT/raw.jsonl
: > "$RAW"

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "threads: $THREADS (OMP_NUM_THREADS=$OMP_NUM_THREADS MKL_NUM_THREADS=$MKL_NUM_THREADS)"
echo "load:    $(uptime | sed 's/.*load average: //') (1/5/15 min, before)"

py() {  # py MALLOC_MODE CONFIG
  local tag=pytorch
  if [ "$1" = tuned ]; then
    tag=pytorch-malloc
    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 \
      "$PY" bench/pytorch_reference.py --config "$2" --threads "$THREADS" "${REPS_ARG[@]}" 2>/dev/null
  else
    "$PY" bench/pytorch_reference.py --config "$2" --threads "$THREADS" "${REPS_ARG[@]}" 2>/dev/null
  fi | sed "s/\"impl\": \"pytorch\"/\"impl\": \"$tag\"/"
}

for round in $(seq "$ROUNDS"); do
  for c in $CONFIGS; do
    "$LOOPLAB" bench --config "$c" --json --threads "$THREADS" "${REPS_ARG[@]}" >> "$RAW"
    case $PY_MALLOC in
      default) py default "$c" >> "$RAW" ;;
      tuned) py tuned "$c" >> "$RAW" ;;
      *) py default "$c" >> "$RAW"; py tuned "$c" >> "$RAW" ;;
    esac
    echo "  round $round: $c done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  done
done
for c in $EXTRA; do
  "$LOOPLAB" bench --config "$c" --json --threads "$THREADS" "${REPS_ARG[@]}" >> "$RAW"
done
echo "load:    $(uptime | sed 's/.*load average: //') (1/5/15 min, after)"
echo "raw:     $RAW"
echo

"$PY" - "$RAW" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
order, ms, peak, notes = [], {}, {}, {}
for r in rows:
    if r["config"] not in order:
        order.append(r["config"])
    if r.get("skipped"):
        notes[r["config"]] = r.get("note", "skipped")
        continue
    ms.setdefault((r["config"], r["impl"]), []).append(r["ms_per_step"])
    peak[(r["config"], r["impl"])] = max(peak.get((r["config"], r["impl"]), 0), r["peak_mb"])
med = lambda k: statistics.median(ms[k]) if k in ms else None
fmt = lambda v: "-" if v is None else f"{v:.2f}"
pk = lambda c, i: "-" if (c, i) not in peak else f"{peak[(c, i)]:.0f}"
print(f"{'config':<12} {'looplab ms':>11} {'PyTorch ms':>11} {'ratio':>6} {'PyT+malloc':>11} {'ratio':>6} "
      f"{'looplab MiB':>11} {'PyTorch MiB':>11}  runs")
for c in order:
    if c in notes and (c, "looplab") not in ms:
        print(f"{c:<12} {notes[c]}")
        continue
    l, p, pm = med((c, "looplab")), med((c, "pytorch")), med((c, "pytorch-malloc"))
    ratio = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}"
    unit = " (ms per evaluation)" if c.startswith("eval") else ""
    print(f"{c:<12} {fmt(l):>11} {fmt(p):>11} {ratio(l, p):>6} {fmt(pm):>11} {ratio(l, pm):>6} "
          f"{pk(c, 'looplab'):>11} {pk(c, 'pytorch'):>11}  "
          f"{len(ms.get((c, 'looplab'), []))}{unit}")
EOF
