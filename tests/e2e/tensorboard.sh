#!/usr/bin/env bash
# tb/ end to end, read by the tensorboard package's EventAccumulator (tensorboard_check.py):
#   - a tiny lr-looped run with skip_step (so train.csv has the learned lr and skipped too):
#     every column at every logged step, every predictor of eval.csv, the pipeline, the key numbers;
#   - that run resumed from its step-40 checkpoint: a second event file starting with SessionLog
#     START at step 41, and the first one cut back so that every step is there once;
#   - [outputs] tensorboard = false: no tb/.
#
#   tensorboard.sh LOOPLAB SOURCE_DIR PYTHON
set -euo pipefail
looplab=$1 src=$2 python=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

sets=(--threads 1 --set training.steps=60 --set training.log_every=10 --set training.checkpoint_every=20
      --set training.on_nonfinite=skip_step --set evaluation.prompts=64 --set evaluation.bootstrap=20
      --set outputs.figures=false)
# tiny.toml with its GPT block inside the lr-looped injection, whose learned lr is a column.
cat >"$work/lr_looped.toml" <<TOML
extends = ["$src/tests/e2e/data/tiny.toml"]
[[model.blocks]]
type = "lr_looped"
inner = { type = "gpt", n_head = 2 }
TOML
run=$work/run
"$looplab" run "$work/lr_looped.toml" "${sets[@]}" --out "$run" >"$work/log" 2>&1 \
  || { cat "$work/log"; fail "the run failed"; }
head -1 "$run/train.csv" | grep -q ',lr,skipped$' || fail "train.csv has no lr and skipped columns: $(head -1 "$run/train.csv")"
"$python" "$src/tests/e2e/tensorboard_check.py" "$run"

# Resume from step 40: steps 41..60 and the evaluation of the first session are orphans.
rm "$run/checkpoints/step_0000060.pt"
"$looplab" run --resume "$run" --threads 1 >"$work/log" 2>&1 || { cat "$work/log"; fail "the resume failed"; }
grep -q "resuming from .*step_0000040.pt" "$work/log" || fail "the resume did not start from step 40"
"$python" "$src/tests/e2e/tensorboard_check.py" "$run" --sessions 2 --restart-step 41

"$looplab" run "$src/tests/e2e/data/tiny.toml" "${sets[@]}" --set training.steps=10 --set outputs.tensorboard=false \
  --out "$work/off" >"$work/log" 2>&1 || { cat "$work/log"; fail "the run without tensorboard failed"; }
[[ -f $work/off/eval.csv && ! -e $work/off/tb ]] || fail "outputs.tensorboard = false still wrote tb/"
grep -q '^tensorboard = false$' "$work/off/resolved.toml" || fail "resolved.toml does not record tensorboard = false"
echo "tensorboard: ok"
