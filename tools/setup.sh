#!/usr/bin/env bash
# recfuse set-up: installs the Debian packages that are missing, builds
# (Release, -O3), then runs the main job or the whole test suite.
#
#   tools/setup.sh run    build, then run the embedded default scenario
#   tools/setup.sh test   build, then run every test (ctest --no-tests=error)
#
# Environment: BUILD_DIR (default build), RECFUSE_NATIVE=1 adds -march=native,
# JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-}"
if [[ "$mode" != run && "$mode" != test ]]; then
  echo "usage: tools/setup.sh run|test" >&2
  exit 1
fi

packages=(cmake ninja-build g++ pkg-config libboost-dev libboost-program-options-dev
  libboost-filesystem-dev libeigen3-dev libtomlplusplus-dev xtensor-dev xtl-dev libxsimd-dev
  libbenchmark-dev catch2 nlohmann-json3-dev libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -o DPkg::Lock::Timeout=600
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}"
fi

build="${BUILD_DIR:-build}"
jobs="${JOBS:-$(nproc)}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRECFUSE_NATIVE="${RECFUSE_NATIVE:-OFF}"
cmake --build "$build" -j "$jobs"

if [[ "$mode" == run ]]; then
  exec "$build/bin/recfuse" run --output results/default
else
  cd "$build"
  exec ctest --output-on-failure --no-tests=error -j "$jobs"
fi
