#!/usr/bin/env bash
# Configures (once) and builds the project with Ninja into ${BUILD_DIR:-build}.
# Extra arguments go to CMake at configure time, e.g. scripts/build.sh -DSP_SANITIZE=address,undefined
# Warnings are errors here (developers and CI); SP_WARNINGS_AS_ERRORS=OFF in the environment turns
# that off.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    -DSP_WARNINGS_AS_ERRORS="${SP_WARNINGS_AS_ERRORS:-ON}" "$@" >/dev/null
fi
cmake --build "$build" -j "${JOBS:-$(nproc)}"
