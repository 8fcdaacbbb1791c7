#!/usr/bin/env bash
# Run directories survive what happens to runs on shared machines, end to end:
#   - kill -9 at 20 seeded random moments, each followed by `run --resume`: every resumed run
#     finishes with an eval.csv byte-identical to an uninterrupted run's;
#   - a truncated latest checkpoint: resume warns, uses the one before it, same eval.csv;
#   - a second `run --resume` on a directory in use is refused (exit 2, one line);
#   - SIGTERM and SIGHUP checkpoint and exit 130;
#   - on_nonfinite = "skip_step" leaves a healthy run's numbers unchanged;
#   - a diverging run (lr 1e30) stops within one log interval of its first non-finite loss,
#     status diverged, exit 3, and every checkpoint it left holds finite weights only;
#   - a full disk (a small tmpfs, skipped where none can be mounted): status failed, non-zero
#     exit, the message names the file, the earlier checkpoint survives, and resume finishes.
#
#   crash_resume.sh LOOPLAB SOURCE_DIR PYTHON
set -euo pipefail
looplab=$1 src=$2 python=$3
work=$(mktemp -d)
mnt=""
cleanup() {
  jobs -p | xargs -r kill -9 2>/dev/null || true
  [[ -n $mnt ]] && umount "$mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# tiny.toml shortened: 200 steps, a checkpoint every 10 (so kills often land near a write).
sets=(--threads 1 --set training.steps=200 --set training.checkpoint_every=10 --set training.log_every=10
      --set evaluation.prompts=128 --set evaluation.bootstrap=50 --set outputs.figures=false)
tiny=$src/tests/e2e/data/tiny.toml
start=$(date +%s.%N)
"$looplab" run "$tiny" "${sets[@]}" --out "$work/ref" >/dev/null 2>&1 || fail "the reference run failed"
duration=$("$python" -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
echo "reference run: ${duration}s"

same_eval() { cmp -s "$work/ref/eval.csv" "$1/eval.csv" || fail "$1/eval.csv differs from the uninterrupted run's"; }
wait_for() {  # a file to appear, at most 60 s
  for _ in $(seq 600); do [[ -e $1 ]] && return 0; sleep 0.1; done
  fail "timed out waiting for $1"
}

# 1. kill -9 at 20 seeded random moments between the run directory's creation and the end.
RANDOM=20261201
torn=0
for trial in $(seq 20); do
  dir=$work/kill-$trial
  "$looplab" run "$tiny" "${sets[@]}" --out "$dir" >/dev/null 2>&1 &
  pid=$!
  wait_for "$dir/resolved.toml"
  delay=$("$python" -c "import sys; print(float(sys.argv[1]) * int(sys.argv[2]) / 32767)" "$duration" "$RANDOM")
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  compgen -G "$dir/checkpoints/*.tmp*" >/dev/null && torn=$((torn + 1))
  "$looplab" run --resume "$dir" >/dev/null 2>&1 || fail "resume after kill -9 at ${delay}s (trial $trial) failed"
  [[ $(grep -o '"status": "[a-z]*"' "$dir/run.json") == '"status": "complete"' ]] || fail "trial $trial not complete"
  same_eval "$dir"
  rm -rf "$dir"
done
echo "kill -9: 20 trials resumed to the same eval.csv ($torn killed during a checkpoint write)"

# 2. SIGTERM, a truncated latest checkpoint, resume.
dir=$work/truncated
"$looplab" run "$tiny" "${sets[@]}" --out "$dir" >/dev/null 2>&1 &
pid=$!
wait_for "$dir/checkpoints/step_0000050.pt"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc == 130 ]] || fail "SIGTERM: exit $rc, not 130"
grep -q '"status": "interrupted"' "$dir/run.json" || fail "SIGTERM: not interrupted"
latest=$(ls "$dir"/checkpoints/step_*.pt | sort | tail -1)
head -c $(( $(stat -c %s "$latest") / 2 )) "$latest" >"$work/half" && mv "$work/half" "$latest"
out=$("$looplab" run --resume "$dir" 2>&1) || fail "resume from a truncated checkpoint failed: $out"
grep -q "cannot read checkpoint $latest" <<<"$out" || fail "no warning about the truncated checkpoint"
[[ -e $latest.corrupt ]] || fail "the truncated checkpoint was not set aside"
same_eval "$dir"
echo "truncated checkpoint: warned, resumed from the one before, same eval.csv"

# 3. Two processes on one directory; SIGHUP.
dir=$work/locked
"$looplab" run "$tiny" "${sets[@]}" --out "$dir" >/dev/null 2>&1 &
pid=$!
wait_for "$dir/checkpoints/step_0000020.pt"
rc=0; out=$("$looplab" run --resume "$dir" 2>&1) || rc=$?
[[ $rc == 2 ]] || fail "a second writer: exit $rc, not 2 ($out)"
[[ $(wc -l <<<"$out") == 1 ]] || fail "a second writer: not one line: $out"
grep -q "is in use by process $pid" <<<"$out" || fail "the refusal does not name the holder: $out"
kill -HUP "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc == 130 ]] || fail "SIGHUP: exit $rc, not 130"
"$looplab" run --resume "$dir" >/dev/null 2>&1 || fail "resume after SIGHUP failed"
same_eval "$dir"
echo "lock: second writer refused in one line; SIGHUP checkpointed; resumed to the same eval.csv"

# 4. skip_step on a healthy run: nothing skipped, the same numbers.
dir=$work/skip
"$looplab" run "$tiny" "${sets[@]}" --set training.on_nonfinite=skip_step --out "$dir" >/dev/null 2>&1 ||
  fail "the skip_step run failed"
same_eval "$dir"
"$python" - "$dir/train.csv" <<'EOF' || fail "skip_step: the skipped column is wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 200 and all(float(r["skipped"]) == 0 for r in rows), rows[:3]
EOF
echo "skip_step: a healthy run skips nothing and gives the same eval.csv"

# 5. Divergence.
dir=$work/diverged
rc=0
"$looplab" run "$tiny" "${sets[@]}" --set training.lr=1e30 --set training.max_loss_ratio=0 --set training.checkpoint_every=1 \
  --out "$dir" >/dev/null 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "divergence: exit $rc, not 3"
grep -q '"status": "diverged"' "$dir/run.json" || fail "divergence: status is not diverged"
"$python" -W ignore - "$dir" <<'EOF' || fail "divergence: see above"
import csv, glob, json, math, sys
import torch
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/train.csv")))
first = next(int(r["step"]) for r in rows if not math.isfinite(float(r["loss"])))
last = int(rows[-1]["step"])
assert last - first < 10, f"first non-finite loss at step {first}, stopped at {last} (log_every 10)"
message = json.load(open(d + "/run.json"))["message"]
assert f"non-finite at step {first}" in message, message
ckpts = glob.glob(d + "/checkpoints/step_*.pt")
assert ckpts, "no checkpoint kept"
for path in ckpts:
    m = torch.jit.load(path)
    tensors = [t for _, t in m.named_parameters()] + [t for _, t in m.named_buffers()]
    assert tensors and all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point()), path
print(f"divergence: first non-finite loss at step {first}, stopped at {last}; {len(ckpts)} checkpoints, all finite")
EOF
# lr 10 explodes without reaching NaN here: the loss-ratio check stops it.
dir=$work/exploded
rc=0
"$looplab" run "$tiny" "${sets[@]}" --set training.lr=10 --out "$dir" >/dev/null 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "lr 10: exit $rc, not 3"
grep -q '"message": "loss/E\[y^2\] stayed above max_loss_ratio = 1000 for 3 log intervals' "$dir/run.json" ||
  fail "lr 10: $(cat "$dir/run.json")"
echo "lr 10: $(grep -o '"message": "[^"]*"' "$dir/run.json")"

# 6. A full disk.
mnt=$work/mnt
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>"$work/mount.err"; then
  echo "skip: disk-full case: cannot mount a tmpfs here ($(head -1 "$work/mount.err"))"
  mnt=""
  exit 0
fi
dir=$mnt/run
"$looplab" run "$tiny" --threads 1 --set training.steps=100000 --set training.checkpoint_every=20 \
  --set outputs.keep_checkpoints=0 --out "$dir" >/dev/null 2>"$work/full.err" &
pid=$!
wait_for "$dir/checkpoints/step_0000040.pt"
sums=$(cd "$dir/checkpoints" && sha256sum step_*.pt)
dd if=/dev/zero of="$mnt/fill" bs=16k 2>/dev/null || true  # until the disk is full
rc=0; wait "$pid" || rc=$?
[[ $rc != 0 && $rc -lt 128 ]] || fail "disk full: exit $rc (must fail, not crash)"
grep -q '"status": "failed"' "$dir/run.json" || fail "disk full: status is not failed: $(cat "$dir/run.json")"
grep -q "No space left on device" "$dir/run.json" || fail "disk full: the message gives no reason"
grep -qE "cannot write '?$dir/(checkpoints/step_[0-9]+\.pt|train\.csv|run\.json|tb/events\.out\.tfevents\.[0-9]+\.)" "$dir/run.json" ||
  fail "disk full: the message names no file: $(cat "$dir/run.json")"
(cd "$dir/checkpoints" && sha256sum --quiet -c <<<"$sums") || fail "disk full: an earlier checkpoint changed"
echo "disk full: $(grep -o '"message": "[^"]*"' "$dir/run.json")"
rm -f "$mnt/fill"
"$looplab" run --resume "$dir" --threads 1 >/dev/null 2>&1 &
pid=$!
sleep 3
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[[ $rc == 130 ]] || fail "resume after the disk was freed: exit $rc"
echo "disk full: the earlier checkpoints intact; resumed once space was free"
