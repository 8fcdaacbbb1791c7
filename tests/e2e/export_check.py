"""`looplab export` read back by python/looplab, end to end: tiny looped GPT, lr-looped GPT,
Mamba and Mamba-2 runs and a standard GPT + Mamba stack are trained, exported and loaded with `looplab.load` (torch.load's
default weights_only), and eval.csv's model rows (err_mean per iteration count and number of
examples) are recomputed from the PyTorch modules' predictions on the exported evaluation
prompts; they must agree within 1e-5 relative. Near its initialisation a model's errors barely
move when its predictions do, so the predictions themselves are compared too (export
--predictions): within 1e-5 of their largest magnitude. The Python blocks are written from
docs/model.md (explicit softmax attention, sequential scans), so this also checks looplab's
math. Also: --checkpoint, the error exits, and a block type without a Python module.

    export_check.py LOOPLAB SOURCE_DIR
"""

import csv
import os
import subprocess
import sys
import tempfile

import torch

TOLERANCE = 1e-5
# name: (pipeline under tests/e2e/data, extra --set overrides). The GPT's larger init puts its
# MLP where GELU's tanh form differs from erf's by more than the tolerance.
RUNS = {
    "gpt": ("tiny.toml", ["model.blocks=[{type = \"gpt\", n_head = 2, init_std = 0.2}]"]),
    "lr_looped": ("tiny_lr_looped.toml", []),
    "mamba": ("tiny_mamba.toml", []),
    "mamba2": ("tiny_mamba.toml", ["model.blocks=[{type = \"mamba2\"}]"]),
    # A standard model of three blocks, two kinds: blocks.0..2, one iteration.
    "standard": ("tiny.toml", ["model.looped=false", "model.loops=1", "model.window=0",
                               "model.blocks=[{type = \"gpt\", n_head = 2, repeat = 2, init_std = 0.2}, "
                               "{type = \"mamba\"}]"]),
}
# Enough steps to move every weight away from its init, few enough to stay fast; prompts as
# in the pipelines (512), bootstrap shortened (it does not enter err_mean).
SETS = ["training.steps=30", "training.checkpoint_every=15", "evaluation.bootstrap=20", "outputs.figures=false",
        "outputs.report=false"]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def looplab_cli(binary, *args, expect=0):
    result = subprocess.run([binary, *args], capture_output=True, text=True)
    if result.returncode != expect:
        fail(f"looplab {' '.join(args)}: exit {result.returncode}, expected {expect}\n{result.stderr}")
    return result


def eval_rows(run_dir):
    """{iterations: {examples: err_mean}} of eval.csv's model rows."""
    rows = {}
    with open(os.path.join(run_dir, "eval.csv")) as f:
        for row in csv.DictReader(f):
            if row["predictor"] == "model":
                rows.setdefault(int(row["iterations"]), {})[int(row["examples"])] = float(row["err_mean"])
    return rows


def check_run(looplab, binary, data, work, name, pipeline, sets):
    run_dir = os.path.join(work, name)
    args = ["run", os.path.join(data, pipeline), "--out", run_dir, "--threads", "1"]
    for s in SETS + sets:
        args += ["--set", s]
    looplab_cli(binary, *args)
    exported = looplab_cli(binary, "export", run_dir, "--predictions").stdout.strip()
    if exported != os.path.join(run_dir, "export", "model.pt") or not os.path.exists(exported):
        fail(f"{name}: export wrote {exported!r}, expected RUN_DIR/export/model.pt")
    model = looplab.load(run_dir)  # strict load_state_dict: every name and shape matches
    if model.training or model.export.meta["step"] != 30:
        fail(f"{name}: not in eval mode, or not the latest checkpoint (step {model.export.meta['step']})")
    expected = eval_rows(run_dir)
    errors = looplab.evaluate(model)
    if sorted(errors) != sorted(expected):
        fail(f"{name}: iteration counts {sorted(errors)} in Python, {sorted(expected)} in eval.csv")
    worst = 0.0
    for its, per_examples in expected.items():
        if len(per_examples) != errors[its].numel():
            fail(f"{name}: {errors[its].numel()} positions in Python, {len(per_examples)} in eval.csv")
        for i, want in per_examples.items():
            got = float(errors[its][i])
            rel = abs(got - want) / abs(want)
            worst = max(worst, rel)
            if rel > TOLERANCE:
                fail(f"{name}: err_mean at iterations {its}, examples {i}: {got!r} in PyTorch, {want!r} in eval.csv "
                     f"(relative difference {rel:.2e} > {TOLERANCE:g})")
    # model(xs, ys, k): the read-out after k iterations, against looplab's own.
    xs, ys = looplab.prompts(run_dir)
    worst_pred = 0.0
    with torch.no_grad():
        for its, theirs in model.export.predictions.items():
            ours = model(xs, ys, its)
            rel = float((ours - theirs).abs().max() / theirs.abs().max())
            worst_pred = max(worst_pred, rel)
            if rel > TOLERANCE:
                fail(f"{name}: predictions after {its} iterations differ from looplab's by {rel:.2e} of their "
                     f"largest magnitude (> {TOLERANCE:g})")
    print(f"{name}: eval.csv recomputed at iterations {sorted(errors)} x {len(expected[max(errors)])} positions, "
          f"max relative difference {worst:.2e}; predictions within {worst_pred:.2e}")
    return run_dir


def check_options_and_errors(looplab, binary, work, run_dir):
    # --checkpoint STEP and --out FILE: the earlier weights, elsewhere.
    out = os.path.join(work, "gpt-step15.pt")
    looplab_cli(binary, "export", run_dir, "--checkpoint", "15", "--out", out)
    early, late = looplab.load(out), looplab.load(run_dir)
    if early.export.meta["step"] != 15 or torch.equal(early.read_in.weight, late.read_in.weight):
        fail("--checkpoint 15 did not export step 15's weights")
    for args, wanted in ((["export", run_dir, "--checkpoint", "7"], "no checkpoint at step 7 (steps: 15, 30)"),
                         (["export", os.path.join(work, "missing")], "not a run directory"),
                         (["export"], "export needs a RUN_DIR")):
        err = looplab_cli(binary, *args, expect=2).stderr
        if wanted not in err.splitlines()[0]:
            fail(f"looplab {' '.join(args)}: expected {wanted!r} on the first line, got {err!r}")
    bare = os.path.join(work, "no-checkpoints")
    os.makedirs(bare)
    with open(os.path.join(run_dir, "resolved.toml")) as f, open(os.path.join(bare, "resolved.toml"), "w") as g:
        g.write(f.read())
    if "no readable checkpoint" not in looplab_cli(binary, "export", bare, expect=2).stderr:
        fail("a run without checkpoints: no clear error")
    # A block type with no Python module: load names it, load_state still gives the weights.
    raw = torch.load(os.path.join(run_dir, "export", "model.pt"))
    raw["pipeline"] = raw["pipeline"].replace("type = 'gpt'", "type = 'my_block'")
    raw["meta"]["blocks"] = ["my_block"]
    custom = os.path.join(work, "custom.pt")
    torch.save(raw, custom)
    try:
        looplab.load(custom)
        fail("load built a model with an unknown block type")
    except looplab.UnknownBlock as e:
        if "my_block" not in str(e) or "load_state" not in str(e):
            fail(f"unclear error for an unknown block: {e}")
    if "blocks.0.block.c_attn.weight" not in looplab.load_state(custom).state_dict:
        fail("load_state lost the weights of the unknown block")
    print("export: --checkpoint, --out, error exits and unknown blocks as documented")


def main():
    binary, source = sys.argv[1], sys.argv[2]
    sys.path.insert(0, os.path.join(source, "python"))
    import looplab

    torch.set_num_threads(1)
    data = os.path.join(source, "tests", "e2e", "data")
    with tempfile.TemporaryDirectory() as work:
        dirs = {name: check_run(looplab, binary, data, work, name, *spec) for name, spec in RUNS.items()}
        check_options_and_errors(looplab, binary, work, dirs["gpt"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
