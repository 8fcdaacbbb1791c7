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
# `scripts/bench.sh --summarize RAW.jsonl` prints the table of an earlier run again.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
THREADS=${THREADS:-$(getconf _NPROCESSORS_ONLN)}
ROUNDS=${ROUNDS:-2}
CONFIGS=${CONFIGS:-"tiny small study paper standard12"}
EXTRA=${EXTRA:-"mamba-small mamba-paper eval eval-noisy"}
PY_MALLOC=${PY_MALLOC:-both}
OUT=${OUT:-$(mktemp -d /tmp/looplab-bench.XXXXXX)}
PY=.venv/bin/python
LOOPLAB=$BUILD/bin/looplab
summarize() {  # summarize RAW_JSONL: the table
"$PY" - "$1" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
order, stats, peak, notes = [], {}, {}, {}
for r in rows:
    if r["config"] not in order:
        order.append(r["config"])
    if r.get("skipped"):
        notes[r["config"]] = r.get("note", "skipped")
        continue
    for key in ("ms_per_step", "ms_min", "cpu_ms"):
        stats.setdefault((r["config"], r["impl"], key), []).append(r.get(key))
    peak[(r["config"], r["impl"])] = max(peak.get((r["config"], r["impl"]), 0), r["peak_mb"])

def med(c, impl, key="ms_per_step"):
    v = [x for x in stats.get((c, impl, key), []) if x is not None]
    return (min(v) if key == "ms_min" else statistics.median(v)) if v else None

fmt = lambda v: "-" if v is None else f"{v:.2f}"
ratio = lambda a, b: "-" if a is None or b is None else f"{a / b:.2f}"
pk = lambda c, i: "-" if (c, i) not in peak else f"{peak[(c, i)]:.0f}"
print("looplab, PyTorch: median wall ms per step (median over rounds); ratio = looplab / PyTorch")
print("min ratio: fastest steps; cpu ratio: median process CPU ms per step (not counting other processes)")
print(f"{'config':<12} {'looplab':>9} {'PyTorch':>9} {'ratio':>5} {'PyT+mal':>9} {'ratio':>5} | "
      f"{'min ratio':>9} {'cpu ratio':>9} | {'looplab MiB':>11} {'PyTorch MiB':>11} rounds")
for c in order:
    if c in notes and (c, "looplab", "ms_per_step") not in stats:
        print(f"{c:<12} {notes[c]}")
        continue
    l, p, pm = med(c, "looplab"), med(c, "pytorch"), med(c, "pytorch-malloc")
    unit = " (ms per evaluation)" if c.startswith("eval") else ""
    print(f"{c:<12} {fmt(l):>9} {fmt(p):>9} {ratio(l, p):>5} {fmt(pm):>9} {ratio(l, pm):>5} | "
          f"{ratio(med(c, 'looplab', 'ms_min'), med(c, 'pytorch', 'ms_min')):>9} "
          f"{ratio(med(c, 'looplab', 'cpu_ms'), med(c, 'pytorch', 'cpu_ms')):>9} | "
          f"{pk(c, 'looplab'):>11} {pk(c, 'pytorch'):>11} {len(stats.get((c, 'looplab', 'ms_per_step'), []))}{unit}")
EOF
}
if [ "${1:-}" = --summarize ]; then summarize "$2"; exit 0; fi

[ -x "$LOOPLAB" ] || { echo "bench.sh: $LOOPLAB not found (BUILD=...)" >&2; exit 2; }
[ -x "$PY" ] || { echo "bench.sh: $PY not found (scripts/setup.sh)" >&2; exit 2; }

# The same thread counts for both sides: LibTorch/OpenMP/MKL read these, and both set
# torch's intra-op threads to THREADS explicitly.
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=1
REPS_ARG=()
[ -n "${REPS:-}" ] && REPS_ARG=(--reps "$REPS")
mkdir -p "$OUT"
RAW=$OUT/raw.jsonl
: > "$RAW"

echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores"
echo "threads: $THREADS (OMP_NUM_THREADS=$OMP_NUM_THREADS MKL_NUM_THREADS=$MKL_NUM_THREADS)"
echo "load:    $(uptime | sed 's/.*load average: //') (1/5/15 min, before)"

py() {  # py MALLOC_MODE CONFIG
  if [ "$1" = tuned ]; then
    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 \
      "$PY" bench/pytorch_reference.py --config "$2" --threads "$THREADS" "${REPS_ARG[@]}" 2>/dev/null |
      sed 's/"impl": "pytorch"/"impl": "pytorch-malloc"/'
  else
    "$PY" bench/pytorch_reference.py --config "$2" --threads "$THREADS" "${REPS_ARG[@]}" 2>/dev/null
  fi
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
summarize "$RAW"
