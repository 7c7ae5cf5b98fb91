#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, builds, starts what the tests
# need (PostgreSQL, when its tests exist), and runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
