#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs dependencies, builds, starts what the tests
# need (PostgreSQL, when its tests exist), and runs every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# The PostgreSQL source tests need a live server (they skip when SYNCHOST_TEST_PG is unset).
SYNCHOST_TEST_PG=$(scripts/start-postgres.sh)
export SYNCHOST_TEST_PG
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
