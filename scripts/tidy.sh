#!/usr/bin/env bash
# clang-tidy (config: .clang-tidy, the obvious traps) over the project's sources, using the build's
# compile database minus GCC-only flags clang does not know. Usage: scripts/tidy.sh [FILES...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
[ -f "$build/compile_commands.json" ] || scripts/build.sh
tidy_dir=$(mktemp -d)
trap 'rm -rf "$tidy_dir"' EXIT
sed 's/ -fno-gnu-unique//g' "$build/compile_commands.json" > "$tidy_dir/compile_commands.json"
if [ $# -eq 0 ]; then
  mapfile -t files < <(git ls-files 'plugins/*.cpp' 'host/*.cpp' 'support/*.cpp' 'tests/harness/*.cpp' 'tests/sandbox/*.cpp' \
                         | grep -v '^support/boost/')
else
  files=("$@")
fi
printf '%s\n' "${files[@]}" | xargs -P "${JOBS:-2}" -n 4 clang-tidy -p "$tidy_dir" --quiet 2>/dev/null \
  | grep -E '^/.*(warning|error):' | sort -u | tee "$tidy_dir/findings.txt"
count=$(wc -l < "$tidy_dir/findings.txt")
echo "clang-tidy: $count findings"
[ "$count" -eq 0 ]
