#!/usr/bin/env bash
# Downloads, on a Debian 12 machine with network, the .debs that scripts/gpu-check.sh unpacks on
# a GPU machine that has a compiler, CMake, CUDA and PyTorch but no network and none of the
# Debian -dev packages looplab builds against. Into gpu-debs/ (ignored; carried with the tree).
#
#   scripts/fetch-gpu-debs.sh [DIR]
#
# The set: the build's packages (scripts/setup.sh's list without the test-only ones: slurm-wlm,
# python3-sklearn, python3-xgboost; without gnuplot-nox too, since the check turns figures off)
# and their dependency closure, minus what any such image has: build-essential's closure (libc,
# libstdc++, the toolchain) and Debian's Priority: required packages. Unpacking a second libc
# into LD_LIBRARY_PATH would break every program, so those must stay out.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-gpu-debs}

build_packages=(libboost1.74-dev libboost-program-options-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev
                libprotobuf-dev protobuf-compiler libgtest-dev libxgboost-dev)

closure() {  # closure PACKAGE...: the packages they depend on, recursively, themselves included
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" | grep -v '^[ <]' | sort -u
}
priority() { apt-cache show --no-all-versions "$1" | sed -n 's/^Priority: //p' | head -1; }

base=$(closure build-essential)
wanted=()
for p in $(comm -23 <(closure "${build_packages[@]}") <(echo "$base")); do
  [ "$(priority "$p")" = required ] || wanted+=("$p")
done

rm -rf "$dir"
mkdir -p "$dir"
(cd "$dir" && apt-get download -q "${wanted[@]}")
printf '%s\n' "${wanted[@]}" > "$dir/MANIFEST"
# Every package named has its .deb (apt-get download names them PACKAGE_VERSION_ARCH.deb).
for p in "${wanted[@]}"; do
  compgen -G "$dir/${p}_*.deb" > /dev/null || { echo "fetch-gpu-debs: no .deb for $p" >&2; exit 1; }
done
echo "fetch-gpu-debs: ${#wanted[@]} packages, $(du -sh "$dir" | cut -f1) in $dir/"
