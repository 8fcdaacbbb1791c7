#!/usr/bin/env bash
# Installs what looplab needs on Debian 12 (only what is missing), creates the project-local
# virtual environment with the pinned torch wheel (LibTorch), and builds into build/.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake git python3 python3-venv
          libboost1.74-dev libboost-program-options-dev libtomlplusplus-dev libspdlog-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler
          libgtest-dev gnuplot-nox libxgboost-dev
          slurm-wlm  # the SLURM test (tests/e2e/slurm.sh) starts a one-node cluster from it
          python3-sklearn python3-xgboost)  # the last two: test oracles only
scripts/install_packages.sh "${packages[@]}"

# LibTorch from the torch wheel pinned in requirements.txt, in .venv.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
pinned=$(sed -n 's/^torch==//p' requirements.txt)
have=$(.venv/bin/python -c "import torch; print(torch.__version__.split('+')[0])" 2>/dev/null || true)
if [ "$have" != "$pinned" ]; then
  echo "setup: installing torch $pinned into .venv (large download on first use)"
  .venv/bin/pip install --disable-pip-version-check -q -r requirements.txt
fi
# The tests' Python packages (requirements-test.txt: tensorboard), when missing or another version.
pinned_tb=$(sed -n 's/^tensorboard==//p' requirements-test.txt)
have_tb=$(.venv/bin/python -c "import tensorboard; print(tensorboard.__version__)" 2>/dev/null || true)
if [ "$have_tb" != "$pinned_tb" ]; then
  echo "setup: installing tensorboard $pinned_tb into .venv (for the tests)"
  .venv/bin/pip install --disable-pip-version-check -q -r requirements-test.txt
fi
# python/looplab (looplab's models for notebooks) importable from the .venv, no build step.
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
[ "$(cat "$site/looplab.pth" 2>/dev/null)" = "$PWD/python" ] || echo "$PWD/python" > "$site/looplab.pth"
torch_prefix=$(.venv/bin/python -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$torch_prefix" > build-configure.log 2>&1 \
  || { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)"
