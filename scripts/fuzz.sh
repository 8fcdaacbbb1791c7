#!/usr/bin/env bash
# Fuzzes the pipeline loader for SECONDS (default 60; docs/testing.md#fuzzing): installs clang if
# missing, builds fuzz/ into build-fuzz/ (the normal build in build/ must exist: it provides
# liblooplab_sdk.so and the plugins), writes the seed corpus from configs/ and tests/e2e/data/,
# runs libFuzzer and prints its execution count. Fails, naming the input, when it finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}

# libclang_rt.fuzzer-x86_64.a (libFuzzer) is in libclang-rt-14-dev.
scripts/install_packages.sh clang libclang-rt-14-dev
[ -e build/lib/liblooplab_sdk.so ] && [ -d build/lib/looplab/plugins ] || scripts/setup.sh

mkdir -p build-fuzz
cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ > build-fuzz/configure.log 2>&1 \
  || { cat build-fuzz/configure.log; exit 1; }
cmake --build build-fuzz -j"$(nproc)"

rm -rf build-fuzz/seeds build-fuzz/artifacts
mkdir -p build-fuzz/artifacts fuzz/corpus
build-fuzz/looplab_fuzz_replay --write-seeds build-fuzz/seeds

# fuzz/corpus (ignored) collects what the fuzzer finds and is kept between local runs; the
# seeds and the kept regressions are only read.
echo "fuzz: running for ${seconds} s (log: build-fuzz/fuzz.log)"
status=0
build-fuzz/fuzz_pipeline fuzz/corpus build-fuzz/seeds fuzz/regressions -dict=fuzz/pipeline.dict \
  -max_len=4096 -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix=build-fuzz/artifacts/ > build-fuzz/fuzz.log 2>&1 || status=$?
grep '^stat::' build-fuzz/fuzz.log || true

shopt -s nullglob
crashes=(build-fuzz/artifacts/{crash,leak,timeout,oom}-*)
if [ "$status" -ne 0 ] || ((${#crashes[@]})); then
  grep -E 'ERROR|SUMMARY|runtime error|terminate called|what\(\)' build-fuzz/fuzz.log | head -10 || true
  grep -m 15 -E '^ +#[0-9]+ ' build-fuzz/fuzz.log | cut -c1-200 || true
  echo "fuzz: FAILED (exit status $status); the input: ${crashes[*]:-none written, see build-fuzz/fuzz.log}"
  echo "fuzz: minimise it, keep it as fuzz/regressions/NAME.toml and fix the loader:"
  echo "  build-fuzz/fuzz_pipeline -minimize_crash=1 -runs=100000 -exact_artifact_path=fuzz/regressions/NAME.toml ${crashes[0]:-INPUT}"
  exit 1
fi
echo "fuzz: no crash"
