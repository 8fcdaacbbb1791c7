"""Checks a run directory's tb/ event files with TensorBoard's own reader against the run's
other outputs: every train.csv column but step as train/<column> at every logged step with the
same value, each predictor of eval.csv as eval/<predictor> at every examples count, the
resolved pipeline and report.md's key numbers as texts. Exits 1 naming each difference.

    tensorboard_check.py RUN_DIR [--sessions N] [--restart-step S]

--sessions: how many event files tb/ must hold (one per session); --restart-step: the step of
the SessionLog START the last file must carry (a resume's checkpoint step + 1).
"""

import argparse
import csv
import math
import os
import sys

from tensorboard.backend.event_processing import event_accumulator, event_file_loader

# train.csv prints six significant digits; TensorBoard stores float32. eval.csv is exact.
TRAIN_REL_TOL = 1e-5
EVAL_REL_TOL = 2.0**-23
TRAIN, EVAL = "train/", "eval/"
PIPELINE, KEY_NUMBERS = "pipeline/resolved.toml", "report/key_numbers"

problems = []


def problem(text):
    problems.append(text)


def close(a, b, rel):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-30)


def check_series(acc, tag, expected, rel):
    """`expected`: (step, value) in order; the tag must hold exactly those steps, once each."""
    if tag not in acc.Tags()["scalars"]:
        problem(f"{tag}: missing")
        return
    got = [(e.step, e.value) for e in acc.Scalars(tag)]
    got_steps, want_steps = [s for s, _ in got], [s for s, _ in expected]
    if got_steps != want_steps:
        problem(f"{tag}: steps {got_steps[:8]}... ({len(got_steps)}) where {want_steps[:8]}... ({len(want_steps)})")
        return
    for (step, value), (_, want) in zip(got, expected):
        if not close(value, want, rel):
            problem(f"{tag}: {value!r} at step {step} where {want!r}")


def check_text(acc, tag, want):
    if tag not in acc.Tags()["tensors"]:
        problem(f"{tag}: missing")
        return
    events = acc.Tensors(tag)
    if len(events) != 1:
        problem(f"{tag}: {len(events)} values where 1")
    if acc.SummaryMetadata(tag).plugin_data.plugin_name != "text":
        problem(f"{tag}: not a text plugin value")
    got = events[-1].tensor_proto.string_val[0].decode("utf-8")
    if got != want:
        problem(f"{tag}: text differs:\n{got}\n--- where ---\n{want}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--restart-step", type=int)
    args = parser.parse_args()
    run, tb = args.run_dir, os.path.join(args.run_dir, "tb")

    files = sorted(f for f in os.listdir(tb) if "tfevents" in f)
    if len(files) != args.sessions or not all(f.startswith("events.out.tfevents.") for f in files):
        problem(f"tb/ holds {files} where {args.sessions} events.out.tfevents.* file(s)")
    if args.restart_step is not None:
        starts = [e.step for e in event_file_loader.EventFileLoader(os.path.join(tb, files[-1])).Load()
                  if e.HasField("session_log") and e.session_log.status == e.session_log.START]
        if starts != [args.restart_step]:
            problem(f"{files[-1]}: SessionLog START at steps {starts} where [{args.restart_step}]")

    # No purging: the files themselves must hold every step once, whichever reader reads them.
    acc = event_accumulator.EventAccumulator(tb, size_guidance={"scalars": 0, "tensors": 0},
                                             purge_orphaned_data=False)
    acc.Reload()

    with open(os.path.join(run, "train.csv"), newline="") as f:
        reader = csv.reader(f)
        columns = next(reader)
        rows = [[float(x) for x in r] for r in reader if r]
    for c, column in enumerate(columns[1:], start=1):
        check_series(acc, TRAIN + column, [(int(r[0]), r[c]) for r in rows], TRAIN_REL_TOL)
    extra = {t for t in acc.Tags()["scalars"] if t.startswith(TRAIN)} - {TRAIN + c for c in columns[1:]}
    if extra:
        problem(f"tags {sorted(extra)} are no train.csv column")

    series = {}
    with open(os.path.join(run, "eval.csv"), newline="") as f:
        for r in csv.DictReader(f):
            iterations = int(r["iterations"])
            tag = EVAL + r["predictor"] + (f"_b{iterations}" if iterations > 0 else "")
            series.setdefault(tag, []).append((int(r["examples"]), float(r["err_mean"])))
    for tag, expected in series.items():
        check_series(acc, tag, sorted(expected), EVAL_REL_TOL)
    extra = {t for t in acc.Tags()["scalars"] if t.startswith(EVAL)} - set(series)
    if extra:
        problem(f"tags {sorted(extra)} are no predictor of eval.csv")

    with open(os.path.join(run, "resolved.toml")) as f:
        resolved = f.read()
    check_text(acc, PIPELINE, "```toml\n" + resolved + ("" if resolved.endswith("\n") else "\n") + "```\n")
    with open(os.path.join(run, "report.md")) as f:
        report = f.read()
    section = report.split("## Key numbers\n\n", 1)[1].split("\n## ", 1)[0]
    check_text(acc, KEY_NUMBERS, section.rstrip("\n") + "\n\n")

    for p in problems:
        print(f"{run}: {p}", file=sys.stderr)
    print(f"{run}: {len(columns) - 1} train.csv columns x {len(rows)} steps, {len(series)} predictors, "
          f"2 texts in {len(files)} event file(s): {'FAIL' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
