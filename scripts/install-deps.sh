#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12's archive. Idempotent: does nothing
# (and needs no root) when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  # Boost 1.81: Debian's default 1.74 has no Boost.JSON / Boost.URL
  libboost1.81-dev libboost-json1.81-dev libboost-filesystem1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev sqlite3 libgtest-dev libgmock-dev libbenchmark-dev
  libpq-dev postgresql
  clang libclang-rt-14-dev clang-format clang-tidy
  procps psmisc time curl
  # cpack -G DEB computes the packages' dependencies with dpkg-shlibdeps
  dpkg-dev
  # tests/airbyte validates the adapter's messages against Airbyte's official JSON Schema (YAML)
  python3-jsonschema python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
