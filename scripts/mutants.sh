#!/usr/bin/env bash
# The mutation suite: plants each realistic bug of tests/mutants/*.patch in a scratch copy of the
# tree, builds only the test targets its header names, runs them, and checks that they fail.
#
#   scripts/mutants.sh            every mutant
#   scripts/mutants.sh PATTERN... only mutants whose file name contains one of the PATTERNs
#                                 (e.g. "pacer", "tls-"; "stop- lock- creds-" for several areas)
#
# A mutant file is a unified diff against the repository root (applied with `patch -p1`) after a
# header of comment lines:
#   # mutant: what bug it plants
#   # kills: TARGET [TARGET...]        test executables (CMake targets) that must fail
#   # filter: GTEST_FILTER             optional: run only these tests of those targets
# Adding a mutant is adding such a file; nothing else needs to change.
#
# Steps: copy the tree once into $MUTANTS_DIR/src (the files git sees: no build directories, no
# .git), configure $MUTANTS_DIR/src/build once (Ninja, RelWithDebInfo), build and run every named
# target once unmutated (they must pass, or every mutant would look killed), then per mutant:
# apply, build the targets, run each with a timeout, record killed/survived, revert. One line per
# mutant; exit 1 naming every survivor (and every mutant that does not apply or build), else 0.
#
# Environment:
#   MUTANTS_SOURCE  worktree (default: the working tree as it is, uncommitted edits included)
#                   | head (git archive HEAD: the committed tree only)
#                   | inplace (CI: mutate this checkout itself and build in $BUILD_DIR, default
#                   build, incrementally; each patch is reverted after its run and on exit. Only
#                   for a throwaway clone: an interrupted run could leave one mutant applied)
#   MUTANTS_BASELINE 0 skips the unmutated baseline run (CI: the whole suite just passed on this
#                   very tree and build)
#   MUTANTS_BUDGET_S seconds this run may take: no mutant starts once the slowest one so far no
#                   longer fits; those not reached are listed, and do not fail the run
#   MUTANTS_ROTATE  N: start at mutant N (modulo their number) and wrap around, so that runs
#                   with a budget for a few cover all of them over successive days
#   MUTANTS_DIR     scratch directory (default: /tmp/syncplugin-mutants); its copy of the tree
#                   and build are removed at the end unless KEEP=1 (then reused by the next run,
#                   which builds incrementally); the per-mutant logs in MUTANTS_DIR/log stay
#   JOBS            build parallelism (default 2)
#   TEST_TIMEOUT    seconds per test executable run (default 300); a timeout counts as a kill
set -euo pipefail
cd "$(dirname "$0")/.."
patterns=("$@")
source_mode=${MUTANTS_SOURCE:-worktree}
scratch=${MUTANTS_DIR:-/tmp/syncplugin-mutants}
jobs=${JOBS:-2}
test_timeout=${TEST_TIMEOUT:-300}
budget=${MUTANTS_BUDGET_S:-0}
src=$scratch/src
build=$src/build
if [ "$source_mode" = inplace ]; then
  src=$PWD
  build=$PWD/${BUILD_DIR:-build}
fi
log=$scratch/log
started=$(date +%s)

mutants=()
for f in tests/mutants/*.patch; do
  [ -e "$f" ] || continue
  for p in "${patterns[@]:-}"; do
    case "$(basename "$f")" in *"$p"*) mutants+=("$f"); break ;; esac
  done
done
if [ ${#mutants[@]} -eq 0 ]; then
  echo "mutants.sh: no mutant in tests/mutants/ matches '${patterns[*]:-}'" >&2
  exit 2
fi
if [ -n "${MUTANTS_ROTATE:-}" ]; then
  first=$(( 10#${MUTANTS_ROTATE} % ${#mutants[@]} ))
  mutants=("${mutants[@]:$first}" "${mutants[@]:0:$first}")
fi

# Mutants in the PostgreSQL code are killed only by tests against a server: without one (CI=1
# makes those tests fail rather than skip) every such mutant would look killed for the wrong reason.
if [ -z "${SYNCHOST_TEST_PG:-}" ]; then
  if pg=$(scripts/start-postgres.sh 2>/dev/null); then
    export SYNCHOST_TEST_PG=$pg
  else
    echo "mutants.sh: PostgreSQL did not start (scripts/start-postgres.sh):" \
      "mutants whose tests need it are not judged" >&2
  fi
fi

header() {  # header FILE KEY: the value of "# KEY:" in FILE's header
  sed -n "s/^# $2: *//p" "$1" | head -1
}

applied=""  # the patch applied right now, reverted on any exit
cleanup() {
  if [ -n "$applied" ]; then patch -p1 -R -d "$src" -s --no-backup-if-mismatch <"$applied" || true; fi
  if [ "$source_mode" != inplace ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$src"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the scratch copy, once ---------------------------------------------------------------------
rm -rf "$log"
mkdir -p "$scratch" "$log"
if [ "$source_mode" = inplace ]; then
  [ -f "$build/build.ninja" ] || { echo "mutants.sh: inplace needs a configured $build" >&2; exit 2; }
elif [ ! -d "$src" ]; then
  mkdir -p "$src"
  case "$source_mode" in
    worktree)  # what git would see: tracked and untracked files, not ignored ones (build dirs)
      git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf - | tar -xf - -C "$src" ;;
    head) git archive HEAD | tar -x -C "$src" ;;
    *) echo "mutants.sh: MUTANTS_SOURCE must be worktree or head" >&2; exit 2 ;;
  esac
fi
if [ "$source_mode" != inplace ] && [ ! -f "$build/build.ninja" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log/configure.txt" 2>&1 ||
    { cat "$log/configure.txt" >&2; exit 2; }
fi

exe_of() {  # the built executable of a CMake target
  find "$build" -type f -name "$1" -perm -u+x -not -path '*/CMakeFiles/*' | head -1
}

# run_targets NAME FILTER TARGET...: 0 when every target's tests pass, 1 when any fails.
run_targets() {
  local name=$1 filter=$2 t exe rc=0
  shift 2
  for t in "$@"; do
    exe=$(exe_of "$t")
    if [ -z "$exe" ]; then echo "no executable for target $t" >>"$log/$name.txt"; return 1; fi
    if ! (cd "$(dirname "$exe")" && timeout "$test_timeout" "$exe" ${filter:+--gtest_filter="$filter"}) \
        >>"$log/$name.txt" 2>&1; then
      rc=1
    fi
  done
  return $rc
}

# ---- the baseline: every named target passes unmutated -------------------------------------------
all_targets=()
for m in "${mutants[@]}"; do
  read -r -a ts <<<"$(header "$m" kills)"
  if [ ${#ts[@]} -eq 0 ]; then echo "mutants.sh: $m has no '# kills:' line" >&2; exit 2; fi
  all_targets+=("${ts[@]}")
done
mapfile -t all_targets < <(printf '%s\n' "${all_targets[@]}" | sort -u)
echo "baseline: building ${all_targets[*]}"
if ! ninja -C "$build" -j "$jobs" "${all_targets[@]}" >"$log/baseline-build.txt" 2>&1; then
  tail -30 "$log/baseline-build.txt" >&2
  echo "mutants.sh: the unmutated tree does not build" >&2
  exit 2
fi
for m in "${mutants[@]}"; do
  [ "${MUTANTS_BASELINE:-1}" = 0 ] && break
  read -r -a ts <<<"$(header "$m" kills)"
  key="baseline-$(printf '%s_' "${ts[@]}")$(header "$m" filter | tr -c 'A-Za-z0-9._-' '_')"
  [ -e "$log/$key.ok" ] && continue
  if ! run_targets "$key" "$(header "$m" filter)" "${ts[@]}"; then
    tail -30 "$log/$key.txt" >&2
    echo "mutants.sh: the tests $(header "$m" kills) ($(header "$m" filter)) fail without any mutant" >&2
    exit 2
  fi
  touch "$log/$key.ok"
done
if [ "${MUTANTS_BASELINE:-1}" = 0 ]; then
  echo "baseline: built; tests not run unmutated (MUTANTS_BASELINE=0)"
else
  echo "baseline: tests pass unmutated ($(($(date +%s) - started)) s)"
fi

# ---- the mutants --------------------------------------------------------------------------------
survivors=()
broken=()
not_reached=()
killed=0
slowest=0
for m in "${mutants[@]}"; do
  name=$(basename "$m" .patch)
  if [ "$budget" -gt 0 ] && [ $(($(date +%s) - started + slowest)) -gt "$budget" ]; then
    not_reached+=("$name")
    continue
  fi
  read -r -a ts <<<"$(header "$m" kills)"
  filter=$(header "$m" filter)
  t0=$(date +%s)
  : >"$log/$name.txt"
  if ! patch -p1 -d "$src" --dry-run -s --no-backup-if-mismatch <"$m" >>"$log/$name.txt" 2>&1; then
    printf '%-10s %-40s patch does not apply (see %s)\n' BROKEN "$name" "$log/$name.txt"
    broken+=("$name")
    continue
  fi
  patch -p1 -d "$src" -s --no-backup-if-mismatch <"$m"
  applied=$m
  if ! ninja -C "$build" -j "$jobs" "${ts[@]}" >>"$log/$name.txt" 2>&1; then
    verdict=BROKEN
    broken+=("$name")
  elif run_targets "$name" "$filter" "${ts[@]}"; then
    verdict=SURVIVED
    survivors+=("$name")
  else
    verdict=KILLED
    killed=$((killed + 1))
  fi
  patch -p1 -R -d "$src" -s --no-backup-if-mismatch <"$m"
  applied=""
  took=$(($(date +%s) - t0))
  [ "$took" -gt "$slowest" ] && slowest=$took
  printf '%-10s %-40s %-45s %3d s\n' "$verdict" "$name" "${ts[*]}${filter:+ ($filter)}" "$took"
done

echo "mutants: $((${#mutants[@]} - ${#not_reached[@]})) run, $killed killed, ${#survivors[@]} survived," \
  "${#broken[@]} broken; $(($(date +%s) - started)) s in all"
if [ ${#not_reached[@]} -gt 0 ]; then
  echo "NOT REACHED within MUTANTS_BUDGET_S=$budget (not a failure): ${not_reached[*]}"
fi
if [ ${#broken[@]} -gt 0 ]; then
  echo "BROKEN (do not apply or build; fix the patch): ${broken[*]}"
fi
if [ ${#survivors[@]} -gt 0 ]; then
  echo "SURVIVED (no test fails with this bug planted; write the test): ${survivors[*]}"
fi
[ ${#survivors[@]} -eq 0 ] && [ ${#broken[@]} -eq 0 ]
