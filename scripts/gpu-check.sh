#!/usr/bin/env bash
# The GPU check, in one call on a GPU machine without network (docs/performance.md#gpu): unpack
# the .debs of scripts/fetch-gpu-debs.sh, build looplab for sm_90 against the machine's own
# LibTorch, run the CUDA tests, time the Mamba scans (the CUDA kernel against the sequential
# scan) and `looplab bench --device cuda` (eager and CUDA graphs) next to
# bench/pytorch_reference.py (eager and torch.compile), and train the E7 study-size run once.
#
#   scripts/gpu-check.sh RESULTS_DIR [--rehearse]
#
# RESULTS_DIR receives at most 8 files: summary.json (the key numbers and each phase's outcome),
# bench.jsonl, cuda-tests.json, e7-train.csv, e7-eval.csv, build.log, gpu-check.log.
# --rehearse (also chosen when no GPU is visible) runs every phase on this machine's CPU at toy
# sizes: configure a fresh build dir against the unpacked .debs and compile one target of it,
# then take the binaries of the existing build/ for the rest.
# Every phase has a time budget and the whole stops at GPU_CHECK_DEADLINE seconds (540): a phase
# that fails or runs out of time is recorded and the next one runs. Environment: PHASES (the
# phases to run, default all: unpack configure build doctor tests bench-mamba bench-eager
# bench-graphs pytorch-eager e7 pytorch-compile), GPU_CHECK_WORK (scratch, /tmp/looplab-gpu-check),
# GPU_CHECK_BUILD (build dir, build-gpu; kept, so a second call rebuilds nothing).
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/gpu-check.sh RESULTS_DIR [--rehearse]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
results=$1
rehearse=0
if [ $# -eq 2 ]; then [ "$2" = --rehearse ] && rehearse=1 || usage; fi

deadline=${GPU_CHECK_DEADLINE:-540}
phases=${PHASES:-"unpack configure build doctor tests bench-mamba bench-eager bench-graphs pytorch-eager e7 pytorch-compile"}
work=${GPU_CHECK_WORK:-/tmp/looplab-gpu-check}
build=${GPU_CHECK_BUILD:-build-gpu}
prefix=$work/prefix
mkdir -p "$results" "$work" || exit 2
results=$(cd "$results" && pwd)
log=$results/gpu-check.log
status=$work/phases.tsv
: > "$log"
: > "$status"
: > "$results/bench.jsonl"

say() { printf '[%s +%3ds] %s\n' "$(date -u +%H:%M:%S)" "$SECONDS" "$*" | tee -a "$log"; }

# The Python that has torch: the machine's python3, or the project's .venv on a CPU machine.
py=""
for candidate in python3 .venv/bin/python; do
  if "$candidate" -c "import torch" > /dev/null 2>&1; then py=$candidate; break; fi
done
[ -n "$py" ] || { say "no Python with torch found (python3, .venv/bin/python)"; exit 1; }
if [ $rehearse -eq 0 ] && ! { nvidia-smi -L > /dev/null 2>&1 &&
     "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2> /dev/null; }; then
  say "no GPU visible (nvidia-smi, torch.cuda.is_available()): rehearsing on the CPU"
  rehearse=1
fi
if [ $rehearse -eq 1 ]; then mode=rehearsal; device=cpu; else mode=gpu; device=cuda; fi
torch_prefix=$("$py" -c "import torch; print(torch.utils.cmake_prefix_path)")
say "mode $mode | results $results | python $py | torch prefix $torch_prefix | deadline ${deadline}s"

# The unpacked packages come before the system's, for the compiler, the linker, CMake and protoc.
multiarch=$prefix/usr/lib/x86_64-linux-gnu
export CMAKE_PREFIX_PATH="$prefix/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export CPATH="$prefix/usr/include${CPATH:+:$CPATH}"
export LIBRARY_PATH="$multiarch${LIBRARY_PATH:+:$LIBRARY_PATH}"
export LD_LIBRARY_PATH="$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# protoc from the prefix; cmake and ninja may be pip packages beside the Python that has torch.
py_scripts=$("$py" -c "import sysconfig; print(sysconfig.get_path('scripts'))")
export PATH="$prefix/usr/bin:$PATH:$py_scripts"
export TORCH_CUDA_ARCH_LIST=9.0 PYTHONUNBUFFERED=1

# Whatever phases are asked for, the binaries need the unpacked libraries.
[ -f "$prefix/.unpacked" ] || [[ " $phases " == *" unpack "* ]] || phases="unpack $phases"
wanted() { [[ " $phases " == *" $1 "* ]]; }
# phase NAME BUDGET_S FUNCTION: runs FUNCTION under a timeout of min(BUDGET_S, time left),
# its output into the log; records NAME, outcome, rc and seconds in $status.
phase() {
  local name=$1 budget=$2 fn=$3 left start rc outcome
  if ! wanted "$name"; then printf '%s\tnot run\t\t0\n' "$name" >> "$status"; return; fi
  left=$((deadline - SECONDS - 5))
  ((budget > left)) && budget=$left
  if ((budget < 10)); then
    say "$name: skipped, no time left"
    printf '%s\tskipped\t\t0\n' "$name" >> "$status"
    return
  fi
  say "$name: start (budget ${budget}s)"
  start=$SECONDS
  timeout -k 10 "$budget" bash -c "$fn" >> "$log" 2>&1
  rc=$?
  case $rc in
    0) outcome=ok ;;
    124 | 137) outcome=timeout ;;
    *) outcome=failed ;;
  esac
  say "$name: $outcome (rc $rc) in $((SECONDS - start))s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$outcome" "$rc" "$((SECONDS - start))" >> "$status"
}

# The phases run in child shells (under timeout): they see these variables and functions.
export results work build prefix multiarch py torch_prefix rehearse device log
if [ $rehearse -eq 1 ]; then bin=build; else bin=$build; fi
export bin

unpack() {
  set -eo pipefail
  [ -s gpu-debs/MANIFEST ] || { echo "gpu-debs/ is missing: run scripts/fetch-gpu-debs.sh where there is network"; exit 1; }
  while read -r p; do
    compgen -G "gpu-debs/${p}_*.deb" > /dev/null || { echo "gpu-debs/: no .deb for $p"; exit 1; }
  done < gpu-debs/MANIFEST
  rm -rf "$prefix"
  mkdir -p "$prefix"
  for f in gpu-debs/*.deb; do
    if command -v dpkg-deb > /dev/null; then
      dpkg-deb -x "$f" "$prefix"
    else  # no dpkg: a .deb is an ar archive holding data.tar.xz
      (cd "$prefix" && ar x "$OLDPWD/$f" && tar -xf data.tar.* && rm -f data.tar.* control.tar.* debian-binary)
    fi
  done
  # Absolute links (libz.so -> /lib/...) point into this prefix where it has the file, else
  # stay as they are when the machine has it, and go when they would dangle.
  find "$prefix" -type l -lname '/*' | while read -r link; do
    target=$(readlink "$link")
    if [ -e "$prefix$target" ]; then ln -sfn "$prefix$target" "$link"; elif [ ! -e "$target" ]; then rm "$link"; fi
  done
  echo "unpacked $(ls gpu-debs/*.deb | wc -l) packages into $prefix ($(du -sh "$prefix" | cut -f1))"
  protoc --version
  touch "$prefix/.unpacked"
}
configure() {
  set -eo pipefail
  local generator=()
  command -v ninja > /dev/null && generator=(-G Ninja)
  [ -f "$build/CMakeCache.txt" ] && ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$PWD\$" "$build/CMakeCache.txt" &&
    rm -rf "$build"
  if [ -f "$build/CMakeCache.txt" ]; then generator=(); fi  # an existing tree keeps its generator
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DLOOPLAB_CUDA_ARCHITECTURES=90 \
    -DCMAKE_PREFIX_PATH="$prefix/usr;$torch_prefix" -DProtobuf_PROTOC_EXECUTABLE="$prefix/usr/bin/protoc" \
    -DLOOPLAB_INSTALL_LIBTORCH=external > "$results/build.log" 2>&1 || { tail -40 "$results/build.log"; exit 1; }
  # Every package must come from the unpacked .debs, never from a stray copy on the machine.
  local bad=0
  for key in Boost_DIR tomlplusplus_DIR spdlog_DIR fmt_DIR nlohmann_json_DIR GTest_DIR Protobuf_INCLUDE_DIR \
             Protobuf_LITE_LIBRARY_RELEASE Protobuf_PROTOC_EXECUTABLE XGBOOST_LIBRARY XGBOOST_INCLUDE_DIR; do
    value=$(sed -n "s/^$key:[A-Z]*=//p" "$build/CMakeCache.txt")
    echo "  $key = $value"
    [[ "$value" == "$prefix"/* ]] || { echo "  ^ not from $prefix"; bad=1; }
  done
  grep -E "^(C10_CUDA_LIBRARY|LOOPLAB_CUDA_ARCHITECTURES|CMAKE_CUDA_COMPILER|CMAKE_MAKE_PROGRAM):" "$build/CMakeCache.txt"
  grep "looplab: .*CUDA selective scan" "$results/build.log" || true
  if [ "$rehearse" -eq 0 ]; then
    ! grep -q "^C10_CUDA_LIBRARY:FILEPATH=.*NOTFOUND" "$build/CMakeCache.txt" || { echo "LibTorch without CUDA"; bad=1; }
    grep -q "looplab: CUDA selective scan for" "$results/build.log" || { echo "no CUDA selective scan in this build"; bad=1; }
  fi
  exit $bad
}
build_tree() {
  set -eo pipefail
  if [ "$rehearse" -eq 1 ]; then  # the target that runs protoc and links the unpacked protobuf; nvcc's, if any
    local targets=(looplab_tensorboard)
    grep -q "looplab: CUDA selective scan for" "$results/build.log" && targets+=(looplab_block_mamba_cuda)
    cmake --build "$build" -j"$(nproc)" --target "${targets[@]}" >> "$results/build.log" 2>&1 ||
      { tail -40 "$results/build.log"; exit 1; }
  else
    cmake --build "$build" -j"$(nproc)" >> "$results/build.log" 2>&1 || { tail -60 "$results/build.log"; exit 1; }
  fi
  tail -3 "$results/build.log"
}
doctor() {
  nvidia-smi || true
  "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
  "$bin/bin/looplab" doctor
}
tests() {
  # The tests that skip without a GPU are the ones with Cuda in their names.
  "$bin/bin/looplab_tests" --gtest_filter='*Cuda*' --gtest_output="json:$results/cuda-tests.json"
}
bench_mamba() {  # the selective scans (the CUDA kernel against the sequential scan), SSD, looped steps
  set -eo pipefail
  local args=(--device "$device" --threads 1)
  if [ "$rehearse" -eq 1 ]; then args+=(--reps 2 --warmup 1); else args+=(--reps 20); fi
  "$bin/bin/looplab_bench_mamba" "${args[@]}" | sed 's/^/mamba-bench| /'
}
bench_looplab() {  # bench_looplab true|false: every size, one JSON line each, tagged with the variant
  set -eo pipefail
  local args=(--device "$device" --json) flag=()
  if [ "$rehearse" -eq 1 ]; then args+=(--config tiny --reps 3); else args+=(--reps 30); fi
  [ "$1" = true ] && flag=(--cuda-graphs)
  local rows
  rows=$("$bin/bin/looplab" bench "${args[@]}" "${flag[@]}")
  echo "$rows"
  echo "$rows" | sed -n "s/^{/{\"cuda_graphs\": $1, /p" >> "$results/bench.jsonl"
}
pytorch_bench() {  # pytorch_bench eager|compile
  set -eo pipefail
  local args=(--device "$device")
  if [ "$rehearse" -eq 1 ]; then args+=(--config tiny --reps 3); else args+=(--reps 30); fi
  # torch.compile costs a compilation per size: the paper size, the one the ratio is about.
  if [ "$1" = compile ]; then
    args+=(--compile)
    [ "$rehearse" -eq 1 ] || args+=(--config paper)
  fi
  local rows
  rows=$("$py" bench/pytorch_reference.py "${args[@]}")
  echo "$rows"
  echo "$rows" | grep '^{' >> "$results/bench.jsonl"
}
e7() {
  set -eo pipefail
  local file=configs/study/e7-lr-looped.toml index start out=$work/e7
  # The member with the lr-looped block at b 15 (the study's best E7 setting).
  index=$("$bin/bin/looplab" sweep list "$file" | awk -F'\t' '/lr_looped/ && /model.loops=15$/ {print $1}')
  [ -n "$index" ] || { echo "no lr_looped b 15 member in $file"; exit 1; }
  local sets=(--set training.cuda_graphs=true --set outputs.figures=false)
  [ "$rehearse" -eq 1 ] && sets+=(--set training.steps=20 --set evaluation.prompts=64)
  rm -rf "$out"
  start=$(date +%s.%N)
  "$bin/bin/looplab" run "$file" --sweep-index "$index" --out "$out" "${sets[@]}"
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "e7_wall_s %.1f\n", b - a }'
  local member
  member=$(dirname "$(ls "$out"/*/train.csv)")  # the sweep directory lists every member; one ran
  cp "$member/train.csv" "$results/e7-train.csv"
  cp "$member/eval.csv" "$results/e7-eval.csv"
  cp "$member/run.json" "$work/e7-run.json"
}
export -f unpack configure build_tree doctor tests bench_mamba bench_looplab pytorch_bench e7

# Budgets (GPU, 16 cores): configure ~1 min, a full build ~3-4 min; every later phase is one
# or two processes of under a minute on an H200, E7 (15k steps) about one to two.
phase unpack 60 unpack
phase configure 150 configure
phase build 330 build_tree
phase doctor 30 doctor
phase tests 150 tests
phase bench-mamba 90 bench_mamba
phase bench-eager 120 "bench_looplab false"
phase bench-graphs 120 "bench_looplab true"
phase pytorch-eager 120 "pytorch_bench eager"
phase e7 240 e7
phase pytorch-compile 180 "pytorch_bench compile"

"$py" - "$results" "$status" "$log" "$mode" "$work/e7-run.json" <<'EOF' | tee -a "$log"
# summary.json: the key GPU figures and their targets, from the files the phases wrote.
import json, os, re, sys, time
results, status, log, mode, e7_run = sys.argv[1:6]
phases = {}
for line in open(status):
    name, outcome, rc, secs = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
    phases[name] = {"outcome": outcome, "rc": int(rc) if rc else None, "seconds": int(secs or 0)}

rows = [json.loads(l) for l in open(os.path.join(results, "bench.jsonl")) if l.startswith("{")]
def variant(r):
    if r["impl"] == "looplab":
        return "looplab_graphs" if r.get("cuda_graphs") else "looplab_eager"
    return r["impl"].replace("-", "_")
bench = {}
for r in rows:
    if not r.get("skipped"):
        bench.setdefault(r["config"], {})[variant(r) + "_ms"] = r["ms_per_step"]
key = "paper" if mode == "gpu" else "tiny"
k = bench.get(key, {})
measured = [v for v in (k.get("looplab_eager_ms"), k.get("looplab_graphs_ms")) if v]
best = min(measured) if measured else None
ratio = lambda a, b: round(a / b, 3) if a and b else None
key_size = dict(k, size=key, looplab_best_ms=best,
                speedup_vs_pytorch_eager=ratio(k.get("pytorch_ms"), best),
                speedup_vs_pytorch_compile=ratio(k.get("pytorch_compile_ms"), best))

e7 = {}
m = re.findall(r"^e7_wall_s (\S+)", open(log).read(), re.M)
if m:
    e7["wall_s"] = round(float(m[-1]), 1)
train = os.path.join(results, "e7-train.csv")
if os.path.exists(train):
    lines = open(train).read().split("\n")
    head, last = lines[0].split(","), [l for l in lines if l][-1].split(",")
    e7.update(steps=int(last[head.index("step")]), train_s=float(last[head.index("elapsed_s")]),
              loss_last_norm=float(last[head.index("loss_last_norm")]))
evalf = os.path.join(results, "e7-eval.csv")
if os.path.exists(evalf):
    rows_e = [l.split(",") for l in open(evalf).read().split("\n")[1:] if l]
    model = [r for r in rows_e if r[0] == "model"]
    if model:
        trained = min(int(r[1]) for r in model)  # the trained b is the smallest count evaluated
        at_b = [r for r in model if int(r[1]) == trained]
        last = max(at_b, key=lambda r: int(r[2]))
        e7.update(b=trained, examples=int(last[2]), err_last=float(last[3]))
if os.path.exists(e7_run):
    run = json.load(open(e7_run))
    e7["status"] = run.get("status")

# looplab_bench_mamba's first section: the selective scan, fused (the CUDA kernel on a GPU) vs sequential.
mamba = {}
bench_lines = [l[len("mamba-bench| "):] for l in open(log).read().split("\n") if l.startswith("mamba-bench| ")]
for l in bench_lines:
    m = re.match(r"\s+(sequential|fused)\s+(\S+) ms", l)
    if m and m.group(1) + "_ms" not in mamba:
        mamba[m.group(1) + "_ms"] = float(m.group(2))
    m = re.match(r"\s+fused ran: (.*)", l)
    if m:
        mamba["fused_ran"] = m.group(1)
    if l.startswith("Mamba-2 SSD"):
        break
if mamba.get("sequential_ms") and mamba.get("fused_ms"):
    mamba["sequential_over_fused"] = round(mamba["sequential_ms"] / mamba["fused_ms"], 2)

tests = {}
tj = os.path.join(results, "cuda-tests.json")
if os.path.exists(tj):
    t = json.load(open(tj))
    cases = [c for s in t.get("testsuites", []) for c in s.get("testsuite", [])]
    failed = [c["classname"] + "." + c["name"] for c in cases if c.get("failures")]
    skipped = [c["classname"] + "." + c["name"] for c in cases if c.get("result") == "SKIPPED"]
    tests = {"total": len(cases), "failed": len(failed), "skipped": len(skipped),
             "passed": len(cases) - len(failed) - len(skipped), "failed_names": failed}

gpu = {"paper_speedup_vs_pytorch_eager_at_least_3": (key_size["speedup_vs_pytorch_eager"] or 0) >= 3,
       "e7_under_120_s": e7.get("wall_s", 1e9) < 120,
       "cuda_scan_at_least_10x_sequential": mamba.get("fused_ran") == "the CUDA kernel" and
                                            mamba.get("sequential_over_fused", 0) >= 10,
       "cuda_tests_all_pass": bool(tests) and tests["failed"] == 0 and tests["skipped"] == 0}
summary = {"mode": mode, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "phases": phases,
           "key_size": key_size, "bench": bench, "mamba_scan": mamba, "e7": e7,
           "cuda_tests": tests,
           "targets": gpu if mode == "gpu" else "not judged in a rehearsal"}
with open(os.path.join(results, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
print(json.dumps(summary, separators=(",", ":")))
EOF
say "done: $(ls "$results" | tr '\n' ' ')"
# Non-zero when a phase did not end well, so that a caller sees it.
! grep -qvP '\t(ok|not run)\t' "$status"
