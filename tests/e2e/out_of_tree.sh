#!/usr/bin/env bash
# Plugins written outside looplab's tree, against an installed looplab (never the build tree):
# install; build examples/gru_block and check that it learns; scaffold, build, test, list and
# conformance-check one plugin of each kind; refuse a consumer whose LibTorch differs from looplab's;
# move the prefix, hide the source tree, the build tree and the .venv's LibTorch, and use it again.
#   tests/e2e/out_of_tree.sh BUILD_DIR SOURCE_DIR TORCH_CMAKE_PREFIX
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR TORCH_CMAKE_PREFIX" >&2
  exit 2
fi
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) torch_prefix=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/looplab-out-of-tree.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
looplab=$prefix/bin/looplab
jobs=${LOOPLAB_TEST_JOBS:-2}
unset LOOPLAB_PLUGIN_PATH  # only what each check names explicitly
passed=0 failed=0

# check NAME COMMAND...: runs COMMAND quietly; on failure shows the end of its output.
check() {
  local name=$1
  shift
  if "$@" >"$work/last.log" 2>&1; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    tail -n 40 "$work/last.log" | sed 's/^/    /'
    failed=$((failed + 1))
  fi
}

# ---- install ---------------------------------------------------------------------------------
installed_layout() {
  for f in bin/looplab lib/liblooplab_sdk.so lib/looplab/plugins/liblooplab_block_gpt.so \
    lib/looplab/plugins/liblooplab_task_linear_regression.so include/looplab/sdk/plugin.h \
    include/looplab/sdk/block.h lib/cmake/looplab/looplabConfig.cmake \
    lib/cmake/looplab/looplabConfigVersion.cmake lib/cmake/looplab/looplabTargets.cmake \
    lib/cmake/looplab/LooplabPlugin.cmake; do
    [ -e "$prefix/$f" ] || { echo "missing $f"; return 1; }
  done
  # Test fixtures (broken on purpose) stay out of the installed plugin directory.
  if ls "$prefix/lib/looplab/plugins" | grep -q -e duplicate -e throws_listing; then
    echo "test fixtures were installed"; return 1
  fi
}
# The installed binaries must not point back into the build tree.
no_build_tree_paths() {
  for f in "$looplab" "$prefix"/lib/liblooplab_sdk.so "$prefix"/lib/looplab/plugins/*.so; do
    if readelf -d "$f" | grep -E 'R(UN)?PATH' | grep -q -F "$build"; then
      echo "$f: run path names the build tree"; readelf -d "$f" | grep -E 'R(UN)?PATH'; return 1
    fi
  done
}
lists_bundled() {
  local out
  out=$("$looplab" plugins list) || return 1
  echo "$out"
  grep -Eq '^block +gpt ' <<<"$out" && grep -Eq '^task +linear_regression ' <<<"$out"
}
check "install into a fresh prefix" cmake --install "$build" --prefix "$prefix"
check "installed layout" installed_layout
check "installed binaries carry no build-tree paths" no_build_tree_paths
# LibTorch is copied into the prefix (LOOPLAB_INSTALL_LIBTORCH=bundle): run paths are relative.
relative_run_paths() {
  [ -e "$prefix/lib/looplab/libtorch/torch/lib/libtorch_cpu.so" ] || { echo "no LibTorch in the prefix"; return 1; }
  for f in "$looplab" "$prefix"/lib/liblooplab_sdk.so "$prefix"/lib/looplab/plugins/*.so; do
    if readelf -d "$f" | grep -E 'R(UN)?PATH' | tr ':[]' '\n\n\n' | grep -q '^/'; then
      echo "$f: an absolute run path"; readelf -d "$f" | grep -E 'R(UN)?PATH'; return 1
    fi
  done
}
check "installed run paths are relative to the prefix" relative_run_paths
check "installed looplab finds its bundled plugins" lists_bundled

# ---- the example block, built against the installed package ----------------------------------
# Only the looplab prefix is given: LibTorch is the prefix's copy.
check "examples/gru_block configures against the install" \
  cmake -S "$src/examples/gru_block" -B "$work/gru" -DCMAKE_PREFIX_PATH="$prefix"
# A CPU plugin needs no CUDA toolkit: LibTorch's CUDA-architecture and kineto warnings stay out.
cp "$work/last.log" "$work/gru-configure.log"
quiet() {
  if grep -n -A3 -e "CMake Warning" -e "CUDA" "$work/gru-configure.log"; then return 1; fi
}
check "examples/gru_block configured without warnings" quiet
check "examples/gru_block builds" cmake --build "$work/gru" -j "$jobs"
check "examples/gru_block passes the conformance checks" \
  "$looplab" plugins check "$work/gru/plugins/liblooplab_block_gru.so"
check "examples/gru_block trains" \
  "$looplab" run "$src/examples/gru_block/pipeline.toml" --plugin-path "$work/gru/plugins" --out "$work/runs/gru"

# Normalized error at i = 2d examples: the model must be at most half of averaging's.
learns() {
  local eval=$work/runs/gru/eval.csv
  [ -f "$eval" ] || { echo "no $eval"; return 1; }
  local d
  d=$(sed -n 's/^n_dims *= *\([0-9]*\).*/\1/p' "$work/runs/gru/resolved.toml" | head -n 1)
  awk -F, -v i=$((2 * d)) '
    NR == 1 { for (c = 1; c <= NF; ++c) col[$c] = c; next }
    $col["examples"] == i && $col["predictor"] == "model" { model = $col["err_mean"] }
    $col["examples"] == i && $col["predictor"] == "averaging" { avg = $col["err_mean"] }
    END {
      printf "i = %d: model %.4f, averaging %.4f, ratio %.3f\n", i, model, avg, model / avg
      exit !(model != "" && avg != "" && model <= 0.5 * avg)
    }' "$eval"
}
check "examples/gru_block learns: error at i = 2d <= 0.5 x averaging" learns
learns | sed 's/^/    /'

# ---- scaffolds ----------------------------------------------------------------------------------
refuses() {  # refuses EXPECTED_RC COMMAND...
  local want=$1 rc=0
  shift
  "$@" || rc=$?
  [ "$rc" -eq "$want" ] || { echo "exit $rc, expected $want"; return 1; }
}
mkdir -p "$work/taken" && touch "$work/taken/file"
check "new-plugin refuses a name that is not a C identifier" refuses 2 "$looplab" new-plugin --kind block my-block "$work/bad1"
check "new-plugin refuses a name starting with a digit" refuses 2 "$looplab" new-plugin --kind block 2block "$work/bad2"
check "new-plugin refuses a non-empty directory" refuses 2 "$looplab" new-plugin --kind block fine "$work/taken"
check "new-plugin refuses an unknown kind" refuses 2 "$looplab" new-plugin --kind loss fine "$work/bad3"

listed() {  # listed KIND NAME DIR
  local out
  out=$("$looplab" plugins list --plugin-path "$3") || return 1
  echo "$out"
  grep -Eq "^$1 +$2 " <<<"$out"
}
for kind in block task analysis baseline; do
  name=my_$kind dir=$work/scaffold/$kind
  check "new-plugin --kind $kind" "$looplab" new-plugin --kind "$kind" "$name" "$dir"
  # A consumer that names a LibTorch (Torch_DIR) gets LibTorch's own package; the others looplab's.
  torch_dir=()
  [ "$kind" = block ] && torch_dir=(-DTorch_DIR="$torch_prefix/Torch")
  check "$kind scaffold configures" cmake -S "$dir" -B "$dir/build" -DCMAKE_PREFIX_PATH="$prefix" "${torch_dir[@]}"
  check "$kind scaffold builds" cmake --build "$dir/build" -j "$jobs"
  check "$kind scaffold's own test passes" ctest --test-dir "$dir/build" --output-on-failure
  check "$kind scaffold is listed by plugins list" listed "$kind" "$name" "$dir/build/plugins"
  check "$kind scaffold passes the conformance checks" \
    "$looplab" plugins check "$dir/build/plugins/liblooplab_${kind}_$name.so"
  # Its sample pipeline finds the library through [run].plugin_paths = ["build/plugins"].
  check "$kind scaffold's pipeline runs (shortened)" "$looplab" run "$dir/pipeline.toml" --out "$work/runs/$kind" \
    --set training.steps=20 --set evaluation.prompts=64 --set evaluation.bootstrap=20
done
check "analysis scaffold wrote its table" test -s "$work/runs/analysis/analyses/my_analysis/my_analysis.csv"
check "baseline scaffold was evaluated next to the model" grep -q "^my_baseline,0,5," "$work/runs/baseline/eval.csv"

# ---- a consumer with another LibTorch ------------------------------------------------------------
# A stand-in LibTorch package that declares version 1.13.1 and nothing else: find_package(looplab)
# must refuse it before anything is compiled.
mkdir -p "$work/other-torch"
echo 'set(PACKAGE_VERSION "1.13.1")
set(PACKAGE_VERSION_COMPATIBLE TRUE)' >"$work/other-torch/TorchConfigVersion.cmake"
echo 'set(TORCH_LIBRARIES "")' >"$work/other-torch/TorchConfig.cmake"
mismatch_refused() {
  local out rc=0
  out=$(cmake -S "$work/scaffold/block" -B "$work/mismatch" -DCMAKE_PREFIX_PATH="$prefix" \
    -DTorch_DIR="$work/other-torch" 2>&1) || rc=$?
  echo "$out"
  # CMake wraps long messages: compare with the lines joined.
  [ "$rc" -ne 0 ] && tr -s '\n ' '  ' <<<"$out" |
    grep -q "looplab was built with LibTorch [0-9]*\.[0-9]*, but this project found LibTorch '1.13.1'"
}
check "a consumer with another LibTorch major.minor is refused with a clear message" mismatch_refused

# ---- without the source tree ---------------------------------------------------------------------
# The prefix is moved, then used in a mount namespace where the source tree, the build tree and
# the LibTorch they were built with are empty: as after deleting the clone and its .venv.
relocated=$work/relocated
check "the prefix moves" mv "$prefix" "$relocated"
cp "$src/tests/e2e/data/tiny.toml" "$work/tiny.toml"
torch_pkgs=$(cd "$torch_prefix/../../.." && pwd)  # site-packages: torch and the nvidia libraries
without_tree() {
  local d
  # Deepest first: a directory inside one already hidden could not be mounted over.
  for d in $(printf '%s\n' "$torch_pkgs" "$build" "$src" | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2-); do
    mount -t tmpfs -o size=1m looplab-hidden "$d" || return 1
  done
  [ -z "$(ls -A "$src")" ] || { echo "the source tree is still visible"; return 1; }
  local ll=$relocated/bin/looplab
  "$ll" doctor | grep -F "$relocated/lib/looplab/libtorch" || { echo "doctor names another LibTorch"; return 1; }
  "$ll" plugins list | grep -E '^block +gpt ' || return 1
  "$ll" run "$work/tiny.toml" --out "$work/runs/without-tree" --set training.steps=60 \
    --set evaluation.prompts=64 --set evaluation.bootstrap=20 || return 1
  grep -q '"complete"' "$work/runs/without-tree/run.json" || { echo "the run is not complete"; return 1; }
  "$ll" new-plugin --kind block later_block "$work/later" || return 1
  cmake -S "$work/later" -B "$work/later/build" -DCMAKE_PREFIX_PATH="$relocated" >"$work/later.log" 2>&1 ||
    { cat "$work/later.log"; return 1; }
  if grep -e "CMake Warning" -e CUDA "$work/later.log"; then return 1; fi
  cmake --build "$work/later/build" -j "$jobs" || return 1
  "$ll" plugins check "$work/later/build/plugins/liblooplab_block_later_block.so"
}
if [ "$(id -u)" -eq 0 ]; then
  namespace=(unshare --mount --propagation private)
else
  namespace=(unshare --map-root-user --mount)  # an unprivileged user namespace
fi
export -f without_tree
export work src build torch_pkgs relocated jobs
check "moved prefix, source tree, build tree and LibTorch hidden: doctor, plugins list, run, a new plugin" \
  "${namespace[@]}" bash -c without_tree

echo "out_of_tree: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
