#!/usr/bin/env bash
# The main job, end to end from a fresh clone: installs dependencies, builds, and shows what the
# Pinterest Conversions plugin offers through the reference host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
bin=${BUILD_DIR:-build}
"$bin/host/synchost" plugins
echo
"$bin/host/synchost" describe pinterest_conversions
